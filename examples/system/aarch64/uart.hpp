// The console UART as the console driver sees it, on AArch64: QEMU virt's PL011, in the page the
// description grants the console ("uart": mmio(...)), mapped at kRegistersAddress. Input is
// interrupt-driven (receive and receive-timeout interrupts on SPI 1, enabled at attach); output
// polls the transmit FIFO.
//
// The kernel writes its own messages (fault reports, panics) to the same data register; it
// touches nothing else, so the two share the UART as on x86-64 (docs/aarch64.md).
#pragma once

#include "system/runtime.hpp"

namespace system_example {

using ukernel::word;

class Uart {
 public:
  // Maps the granted registers and turns the receive interrupts on; once per instance (a
  // restarted console starts from fresh globals and does it again), before any other call.
  static void attach(Runtime& runtime) {
    auto window = runtime.map_mmio("uart", kRegistersAddress);
    if (!window.ok()) fail("console: cannot map the UART's registers");
    registers_ = window.value();
    registers_.write32(kInterruptClear, kReceive | kReceiveTimeout);
    registers_.write32(kInterruptMask, kReceive | kReceiveTimeout);
  }
  static bool input_ready() { return (registers_.read32(kFlags) & kReceiveEmpty) == 0; }
  static char read() {
    char c = static_cast<char>(registers_.read32(kData) & 0xff);
    registers_.write32(kInterruptClear, kReceiveTimeout);  // receive clears itself as it drains
    return c;
  }
  static void write(char c) {
    if (c == '\n') put('\r');  // a terminal wants both
    put(c);
  }

 private:
  static constexpr word kRegistersAddress = 0x30000000;
  // PL011 registers (offsets) and bits.
  static constexpr word kData = 0x000;
  static constexpr word kFlags = 0x018;
  static constexpr word kInterruptMask = 0x038;
  static constexpr word kInterruptClear = 0x044;
  static constexpr std::uint32_t kReceiveEmpty = 1u << 4;  // flags
  static constexpr std::uint32_t kTransmitFull = 1u << 5;  // flags
  static constexpr std::uint32_t kReceive = 1u << 4;       // interrupts
  static constexpr std::uint32_t kReceiveTimeout = 1u << 6;

  static void put(char c) {
    // Bounded: a stuck transmitter must not hang the console.
    for (int i = 0; i < 10000 && (registers_.read32(kFlags) & kTransmitFull) != 0; ++i) {
    }
    registers_.write32(kData, static_cast<unsigned char>(c));
  }
  static inline ukernel::Mmio registers_;
};

}  // namespace system_example
