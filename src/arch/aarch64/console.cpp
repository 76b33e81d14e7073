// The PL011 UART of QEMU virt, polled output (print() is src/arch/baremetal/console.cpp); leaving
// QEMU through semihosting; panic().
#include "arch/console.hpp"

#include "arch/memory.hpp"
#include "cpu.hpp"

namespace ukernel::aarch64 {
namespace {

constexpr word kUart = UK_KERNEL_BASE + 0x09000000;
// PL011 registers (offsets from the base).
constexpr word kData = 0x000;
constexpr word kFlags = 0x018;
constexpr word kInterruptMask = 0x038;
constexpr word kInterruptClear = 0x044;
constexpr std::uint32_t kTransmitFull = 1u << 5;
constexpr std::uint32_t kTransmitInterrupt = 1u << 5;

}  // namespace

void console_put_char(char c) {
  // Bounded wait: a stuck UART must not hang the kernel.
  for (int i = 0; i < 100000 && (mmio_read32(kUart + kFlags) & kTransmitFull) != 0; ++i)
    asm volatile("yield");
  mmio_write32(kUart + kData, static_cast<std::uint8_t>(c));
}

void uart_set_transmit_interrupt(bool on) {
  mmio_write32(kUart + kInterruptMask, on ? kTransmitInterrupt : 0);
  mmio_write32(kUart + kInterruptClear, kTransmitInterrupt);
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
