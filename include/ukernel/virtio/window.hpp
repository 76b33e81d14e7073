// What virtio driver code touches: device registers through a RegisterWindow, and DMA memory
// as a DmaRegion.
//
// The same driver source runs on bare metal and hosted: a RegisterWindow is any type with the
// two members of ukernel::Mmio (a mapped device frame), so a test can hand the driver an adapter
// that forwards to a hosted device model instead. A DmaRegion is memory the device reaches by bus
// address; on a machine it comes from a DMA frame capability, in a test from the test's Bus.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "ukernel/abi.hpp"

namespace ukernel::virtio {

// A window of device registers: accesses of `width` 1, 2, 4 or 8 bytes at a naturally aligned
// `offset` from the window's base. Values are little-endian device registers read as numbers.
template <typename W>
concept RegisterWindow = requires(const W& window, word offset, unsigned width, word value) {
  { window.read(offset, width) } -> std::same_as<word>;
  { window.write(offset, width, value) } -> std::same_as<void>;
};

// Memory shared with a device: `cpu` is where the driver sees it, `bus` where the device does.
struct DmaRegion {
  std::byte* cpu = nullptr;
  word bus = 0;
  std::size_t bytes = 0;

  // The part [offset, offset + length), or an empty region if that is not inside.
  DmaRegion slice(std::size_t offset, std::size_t length) const {
    if (offset > bytes || length > bytes - offset) return {};
    return {cpu + offset, bus + offset, length};
  }
  bool empty() const { return bytes == 0; }
};

// A structure inside one BAR: the window of the BAR and where in it the structure lies. The
// transport checked at set-up that [offset, offset + length) is inside the BAR, so accesses at
// offsets below `length` stay inside it; accesses past `length` are refused (read as all ones).
template <RegisterWindow Window>
struct Region {
  const Window* window = nullptr;
  word offset = 0;
  word length = 0;

  bool present() const { return window != nullptr; }
  word read(word at, unsigned width) const {
    if (window == nullptr || at > length || width > length - at) return ~word{0};
    return window->read(offset + at, width);
  }
  void write(word at, unsigned width, word value) const {
    if (window == nullptr || at > length || width > length - at) return;
    window->write(offset + at, width, value);
  }
};

}  // namespace ukernel::virtio
