// The hosted machine's device bus: the contract between a simulated device model and the
// machine it sits in.
//
// On bare metal a device decodes physical addresses, reads and writes RAM by bus address (DMA)
// and interrupts through its interrupt controller. A hosted device model does the same through
// these two interfaces:
// - the model implements MmioDevice for each register window it decodes (a PCI function's BAR,
//   the ECAM window, a UART's registers); the hosted back-end calls it when a thread that has
//   the window's device frame mapped reads or writes it (ukernel/mmio.hpp on the driver's side);
// - the machine implements Bus, through which the model reaches RAM by bus address, the virtual
//   clock (work scheduled at a virtual time, deterministic for a seed) and the interrupt
//   controller (a line, or an MSI write of `data` to `address`).
//
// Unit tests of a device model provide their own Bus (a buffer as RAM, a list as the clock), so
// a model and the driver that drives it can be tested without a kernel.
//
// This is simulation code on the host side: virtual functions and std::function are fine here;
// kernel and server code never include this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "ukernel/abi.hpp"

namespace ukernel::hosted {

// A window of device registers. `offset` is from the window's base; `width` is 1, 2, 4 or 8
// bytes and the access is naturally aligned (the bus refuses others before calling). An
// offset the device does not decode reads as all ones of `width` and ignores writes, as on PCI.
class MmioDevice {
 public:
  virtual word read(word offset, unsigned width) = 0;
  virtual void write(word offset, unsigned width, word value) = 0;

 protected:
  ~MmioDevice() = default;
};

// What a device model may do to its machine.
class Bus {
 public:
  // Host memory for the bus-address range [address, address + bytes) of RAM, or nullptr if any
  // of it is not RAM: a device that is handed a bad address reports an error, never touches
  // anything else.
  virtual std::byte* dma(word address, std::size_t bytes) = 0;
  // The virtual clock, in nanoseconds.
  virtual std::uint64_t now_ns() const = 0;
  // Runs `work` at virtual time `at_ns` (now if earlier). Work due at the same time runs in the
  // order it was scheduled, so a model's timing is deterministic.
  virtual void at(std::uint64_t at_ns, std::function<void()> work) = 0;
  // A message-signalled interrupt: the device writes `data` to `address`.
  virtual void msi(word address, std::uint32_t data) = 0;
  // Raises wired interrupt `line`.
  virtual void raise_line(unsigned line) = 0;

 protected:
  ~Bus() = default;
};

}  // namespace ukernel::hosted
