// The kernel console (the device tree's PL011, polled) and leaving QEMU.
//
// print() is for the kernel's own messages: boot, faults the back-end reports, kernel bugs. It
// writes straight to the UART and never blocks on anything but the UART itself.
#pragma once

#include <cstdint>
#include <string_view>

#include "arch/print.hpp"
#include "ukernel/abi.hpp"

namespace ukernel::aarch64 {

// The PL011's SPI (INTID 33 on QEMU virt), as a device line: SPI n is line n.
inline constexpr unsigned kUartLine = 1;

// Turns the PL011's transmit interrupt on or off; used to test interrupt routing. While on,
// every character written raises it.
void uart_set_transmit_interrupt(bool on);

// The shared part (src/arch/baremetal): print(), hex() and console_write().
using baremetal::console_write;
using baremetal::hex;
using baremetal::Hex;
using baremetal::print;

// Uses the PL011 at physical `paddr` (from the device tree) from now on; before, and if it lies
// outside the kernel's device window, characters go to the semihosting console.
void console_attach(word paddr);

// Writes one character to the PL011, waiting (boundedly) while its FIFO is full (console.cpp;
// print() above it).
void console_put_char(char c);

// QEMU's exit status, through semihosting SYS_EXIT (QEMU runs with -semihosting). The numbers
// are the x86-64 back-end's, so that one runner judges both. 0 never means success: PSCI
// SYSTEM_OFF and a reset under -no-reboot also exit QEMU with status 0.
// Writes `text` to the semihosting console (SYS_WRITE0; QEMU sends it where
// -semihosting-config chardev=... says): AArch64 QEMU virt has no second UART and no debug
// console, so a trace build dumps its kernel trace this way (trace_ring.cpp).
void trace_port_write(std::string_view text);

enum class ExitCode : std::uint32_t {
  kSuccess = 33,
  kFailure = 35,  // a test scenario found a wrong result
  kPanic = 65,    // a kernel bug (EL1 exception, failed check)
};
// Leaves QEMU with `code`; without semihosting, waits forever.
[[noreturn]] void exit_qemu(ExitCode code);

// A kernel bug: prints the message and exits with ExitCode::kPanic.
[[noreturn]] void panic(std::string_view message);

}  // namespace ukernel::aarch64
