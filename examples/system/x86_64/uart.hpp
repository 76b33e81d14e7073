// The console UART as the console driver sees it, on x86-64: COM1, a 16550, through the
// IoPorts capability the description grants the console ("uart": ports 0x3f8-0x3ff). Input is
// interrupt-driven (the receive interrupt on IRQ 4, enabled on first use); output polls the
// transmitter. (On the hosted back-end the same class reads the simulated device's registers.)
#pragma once

#include "system/layout.hpp"
#include "ukernel/caps.hpp"

namespace system_example {

using ukernel::word;
class Runtime;  // runtime.hpp

class Uart {
 public:
  // Nothing to map: the I/O ports are used through their capability where granted.
  static void attach(Runtime&) {}
  static bool input_ready() { return (register_value(kLineStatus) & kDataReady) != 0; }
  static char read() { return static_cast<char>(register_value(kData)); }
  static void write(char c) {
    if (c == '\n') put('\r');  // a terminal wants both
    put(c);
  }

 private:
  static constexpr word kBase = grant(kConsoleIndex, "uart").first;
  static constexpr word kData = 0;
  static constexpr word kInterruptEnable = 1;
  static constexpr word kFifoControl = 2;
  static constexpr word kLineStatus = 5;
  static constexpr word kDataReady = 1;
  static constexpr word kTransmitEmpty = 1u << 5;

  static ukernel::IoPorts ports() { return ukernel::IoPorts(grant_slot(kConsoleIndex, "uart")); }
  static word register_value(word offset) {
    enable_input_interrupt();
    return ports().read8(kBase + offset).value;
  }
  static void put(char c) {
    // Bounded: a stuck transmitter must not hang the console.
    for (int i = 0; i < 10000 && (register_value(kLineStatus) & kTransmitEmpty) == 0; ++i) {
    }
    (void)ports().write8(kBase + kData, static_cast<std::uint8_t>(c));
  }
  // Once per instance (a restarted console starts from fresh globals and does it again): FIFOs
  // on with a 1-byte trigger, so every key raises the interrupt; the receive interrupt on. The
  // kernel set the line format, the baud rate and OUT2, which gates the IRQ line.
  static void enable_input_interrupt() {
    if (enabled_) return;
    enabled_ = true;
    (void)ports().write8(kBase + kFifoControl, 0x01);
    (void)ports().write8(kBase + kInterruptEnable, 0x01);
  }
  static inline bool enabled_ = false;
};

}  // namespace system_example
