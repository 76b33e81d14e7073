// The TAP attachment (host side): a network device plugged into a Linux TAP interface, so that
// Linux's own TCP/IP stack is the peer.
//
// How this works: TapAttachment opens /dev/net/tun as a TAP device (IFF_TAP | IFF_NO_PI: whole
// Ethernet frames, no extra header). Frames the card sends are written to it; frames Linux
// sends are read in poll() and queued, and deliver() hands them to the card as it has buffers,
// as SlirpAttachment does. Creating a TAP device needs CAP_NET_ADMIN (root); the test that uses
// it moves the interface into a network namespace of its own, so its traffic stays there.
// Real time, not deterministic: for tests with Linux as the peer. Host-side simulation code,
// one thread; a separate library (ukernel_hosted_tap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ukernel/hosted/net_wire.hpp"

namespace ukernel::hosted {

class TapAttachment final : public NetAttachment {
 public:
  struct Stats {
    std::uint64_t frames_to_network = 0;    // written to the TAP device
    std::uint64_t frames_from_network = 0;  // handed to the device
    std::uint64_t frames_refused = 0;       // from the card, not 14 to 1514 bytes, or the
                                            // write failed
    std::uint64_t frames_dropped = 0;       // towards the card: queue full or nothing attached
  };
  static constexpr std::size_t kMaxQueuedFrames = 1024;

  // Creates TAP interface `name` (at most 15 characters). Null, with the reason in *error, if
  // the name is too long or empty, or the kernel refuses (no /dev/net/tun, not root, the name
  // is taken).
  static std::unique_ptr<TapAttachment> create(const std::string& name, std::string* error);
  ~TapAttachment();
  TapAttachment(const TapAttachment&) = delete;
  TapAttachment& operator=(const TapAttachment&) = delete;

  // NetAttachment.
  bool send(std::span<const std::byte> frame) override;
  void attach(WireEndpoint* endpoint) override { endpoint_ = endpoint; }

  // Waits up to timeout_ms (at once if frames are queued) for frames from Linux and queues
  // them; then deliver() as with SlirpAttachment.
  void poll(int timeout_ms);
  std::size_t deliver(std::size_t max_frames);
  std::size_t queued() const { return to_device_.size(); }
  const std::string& name() const { return name_; }
  const Stats& stats() const { return stats_; }

 private:
  TapAttachment(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

  int fd_;
  std::string name_;
  WireEndpoint* endpoint_ = nullptr;
  std::deque<std::vector<std::byte>> to_device_;
  Stats stats_;
};

}  // namespace ukernel::hosted
