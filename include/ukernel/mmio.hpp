// A window of device registers, as a driver sees it on every back-end.
//
// A driver maps a frame of device memory (retyped from device untyped, granted by its system's
// description) at `vaddr` and reaches the device's registers through an Mmio over that mapping:
// read(offset, width) and write(offset, width, value), `width` being 1, 2, 4 or 8 bytes and the
// access naturally aligned. On bare metal that is one volatile access of that width (the page is
// mapped uncached / Device-nGnRnE). On the hosted back-end the access goes to the device model
// attached at the page's physical address (ukernel/hosted/devices.hpp); an access to an address
// the thread has no device page at (not mapped, RAM, read-only for a write, misaligned, a width
// other than 1/2/4/8) faults the thread with FaultKind::kMemoryAccess, as a stray access would on
// hardware, so its supervisor hears of it.
//
// The window does not check `offset` against `bytes`: register offsets are the driver's own
// constants, and one past the window is a stray access like any other.
#pragma once

#include <arch/user.hpp>
#include <cstdint>

#include "ukernel/abi.hpp"

namespace ukernel {

class Mmio {
 public:
  constexpr Mmio() = default;
  constexpr Mmio(word vaddr, word bytes) : vaddr_(vaddr), bytes_(bytes) {}

  constexpr word vaddr() const { return vaddr_; }
  constexpr word bytes() const { return bytes_; }

  // The register of `width` bytes at `offset`: zero-extended on a read, the low `width` bytes
  // of `value` on a write.
  word read(word offset, unsigned width) const { return arch::mmio_read(vaddr_ + offset, width); }
  void write(word offset, unsigned width, word value) const {
    arch::mmio_write(vaddr_ + offset, width, value);
  }

  std::uint8_t read8(word offset) const { return static_cast<std::uint8_t>(read(offset, 1)); }
  std::uint16_t read16(word offset) const { return static_cast<std::uint16_t>(read(offset, 2)); }
  std::uint32_t read32(word offset) const { return static_cast<std::uint32_t>(read(offset, 4)); }
  std::uint64_t read64(word offset) const { return read(offset, 8); }
  void write8(word offset, std::uint8_t value) const { write(offset, 1, value); }
  void write16(word offset, std::uint16_t value) const { write(offset, 2, value); }
  void write32(word offset, std::uint32_t value) const { write(offset, 4, value); }
  void write64(word offset, std::uint64_t value) const { write(offset, 8, value); }

 private:
  word vaddr_ = 0;
  word bytes_ = 0;
};

}  // namespace ukernel
