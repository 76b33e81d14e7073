// The kernel console (COM1, polled) and the QEMU exit device.
//
// print() is for the kernel's own messages: boot, faults the back-end reports, kernel bugs. It
// writes straight to the 16550 UART and never blocks on anything but the UART itself.
#pragma once

#include <cstdint>
#include <string_view>

#include "arch/print.hpp"

namespace ukernel::x86 {

// Initialises COM1 (115200 8N1, FIFOs on, UART interrupts off). Safe to call again.
void serial_init();
// Turns COM1's "transmitter empty" interrupt (IRQ 4) on or off; used to test interrupt routing.
void serial_set_transmit_interrupt(bool on);

// The shared part (src/arch/baremetal): print(), hex() and console_write().
using baremetal::console_write;
using baremetal::hex;
using baremetal::Hex;
using baremetal::print;

// Writes one character to COM1, waiting (boundedly) for its transmitter to empty (console.cpp;
// print() above it).
void console_put_char(char c);

// Values written to QEMU's isa-debug-exit device (iobase 0xf4); QEMU exits with (v << 1) | 1.
// 0 never means success: a triple fault under -no-reboot also exits QEMU with status 0.
enum class ExitCode : std::uint32_t {
  kSuccess = 0x10,  // QEMU exit status 33
  kFailure = 0x11,  // 35: a test scenario found a wrong result
  kPanic = 0x20,    // 65: a kernel bug (ring-0 exception, failed check)
};
// Writes `text` to QEMU's debug console (port 0xe9, `-debugcon file:PATH`), the second channel a
// trace build dumps its kernel trace through (trace_ring.cpp); without the device QEMU drops it.
void trace_port_write(std::string_view text);

// Leaves QEMU with `code`; on a machine without the device, halts forever.
[[noreturn]] void exit_qemu(ExitCode code);

// A kernel bug: prints the message and exits with ExitCode::kPanic.
[[noreturn]] void panic(std::string_view message);

}  // namespace ukernel::x86
