// The PL011 UART the device tree names, polled output (print() is src/arch/baremetal/console.cpp);
// leaving QEMU through semihosting; panic().
//
// The kernel shares the PL011 with the example system's user-level console driver, as the
// x86-64 kernel shares COM1: the kernel only writes the data register and reads the flags
// (boot messages, fault reports, panics), the driver owns the rest (receive, interrupt mask and
// clear, docs/aarch64.md). Until the device tree is read (and if it names no PL011) characters
// go to the semihosting console (SYS_WRITEC), so a panic about the device tree is still seen.
#include "arch/console.hpp"

#include "arch/memory.hpp"
#include "cpu.hpp"

namespace ukernel::aarch64 {
namespace {

word uart_ = 0;  // the PL011's kernel virtual address, once the device tree named it
// PL011 registers (offsets from the base).
constexpr word kData = 0x000;
constexpr word kFlags = 0x018;
constexpr word kInterruptMask = 0x038;
constexpr word kInterruptClear = 0x044;
constexpr std::uint32_t kTransmitFull = 1u << 5;
constexpr std::uint32_t kTransmitInterrupt = 1u << 5;

}  // namespace

void console_attach(word paddr) {
  if (paddr + kPageSize <= kRamBase) uart_ = UK_KERNEL_BASE + paddr;  // the device window
}

void console_put_char(char c) {
  if (uart_ == 0) {
    // SYS_WRITEC (0x03): one character, by address.
    register word operation asm("x0") = 0x03;
    register const char* parameters asm("x1") = &c;
    asm volatile("hlt #0xf000" : "+r"(operation) : "r"(parameters) : "memory");
    return;
  }
  // Bounded wait: a stuck UART must not hang the kernel.
  for (int i = 0; i < 100000 && (mmio_read32(uart_ + kFlags) & kTransmitFull) != 0; ++i)
    asm volatile("yield");
  mmio_write32(uart_ + kData, static_cast<std::uint8_t>(c));
}

void uart_set_transmit_interrupt(bool on) {
  if (uart_ == 0) return;
  mmio_write32(uart_ + kInterruptMask, on ? kTransmitInterrupt : 0);
  mmio_write32(uart_ + kInterruptClear, kTransmitInterrupt);
}

void trace_port_write(std::string_view text) {
  // SYS_WRITE0 (0x04): a NUL-terminated string to the semihosting console (QEMU:
  // -semihosting-config chardev=...). Sent in pieces through a terminated copy.
  char piece[128];
  while (!text.empty()) {
    std::size_t n = text.size() < sizeof piece - 1 ? text.size() : sizeof piece - 1;
    for (std::size_t i = 0; i < n; ++i)
      piece[i] = text[i];
    piece[n] = '\0';
    text.remove_prefix(n);
    register word operation asm("x0") = 0x04;
    register const char* parameters asm("x1") = piece;
    asm volatile("hlt #0xf000" : "+r"(operation) : "r"(parameters) : "memory");
  }
}

void exit_qemu(ExitCode code) {
  asm volatile("msr daifset, #0xf");
  // SYS_EXIT (0x18) with ADP_Stopped_ApplicationExit and the status: QEMU exits with it.
  const word block[2] = {0x20026, static_cast<word>(code)};
  register word operation asm("x0") = 0x18;
  register const word* parameters asm("x1") = block;
  asm volatile("hlt #0xf000" ::"r"(operation), "r"(parameters) : "memory");
  for (;;)
    asm volatile("wfi");
}

void panic(std::string_view message) {
  print("\nPANIC: ", message, "\n");
  exit_qemu(ExitCode::kPanic);
}

}  // namespace ukernel::aarch64
