// The packet interface between the stack and whatever carries its frames (a virtio-net driver's
// rings, a simulated wire in a test). The stack hands complete Ethernet frames out through a
// LinkRef; frames come in through Stack::input. No virtual calls, no allocation: a LinkRef is a
// context pointer and a function pointer, like the FAT32 library's DeviceRef.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

namespace ukernel::net {

// A link takes one frame (destination MAC first, no FCS) and returns whether it queued it; a
// frame it cannot queue is lost, which TCP's retransmission covers.
template <typename L>
concept Link = requires(L& link, std::span<const std::byte> frame) {
  { link.transmit(frame) } -> std::same_as<bool>;
};

class LinkRef {
 public:
  LinkRef() = default;
  // Not for LinkRef itself: a LinkRef is a link too, and copying must not wrap the copy.
  template <Link L>
  requires(!std::same_as<L, LinkRef>) explicit LinkRef(L& link)
      : link_(&link), transmit_([](void* l, std::span<const std::byte> frame) {
          return static_cast<L*>(l)->transmit(frame);
        }) {}
  [[nodiscard]] bool transmit(std::span<const std::byte> frame) const {
    return transmit_ != nullptr && transmit_(link_, frame);
  }

 private:
  void* link_ = nullptr;
  bool (*transmit_)(void*, std::span<const std::byte>) = nullptr;
};

}  // namespace ukernel::net
