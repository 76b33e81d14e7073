// The PL011 UART of QEMU virt (polled output), number formatting, leaving QEMU through
// semihosting, and panic().
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

void put_char(char c) {
  // Bounded wait: a stuck UART must not hang the kernel.
  for (int i = 0; i < 100000 && (mmio_read32(kUart + kFlags) & kTransmitFull) != 0; ++i)
    asm volatile("yield");
  mmio_write32(kUart + kData, static_cast<std::uint8_t>(c));
}

}  // namespace

void uart_set_transmit_interrupt(bool on) {
  mmio_write32(kUart + kInterruptMask, on ? kTransmitInterrupt : 0);
  mmio_write32(kUart + kInterruptClear, kTransmitInterrupt);
}

void console_write(std::string_view text) {
  for (char c : text) {
    if (c == '\n') put_char('\r');
    put_char(c);
  }
}

void print_one(std::string_view text) {
  console_write(text);
}

void print_one(Hex number) {
  char buffer[18];
  std::size_t at = sizeof buffer;
  std::uint64_t v = number.value;
  do {
    buffer[--at] = "0123456789abcdef"[v & 0xf];
    v >>= 4;
  } while (v != 0);
  buffer[--at] = 'x';
  buffer[--at] = '0';
  console_write(std::string_view(buffer + at, sizeof buffer - at));
}

void print_unsigned(std::uint64_t number) {
  char buffer[20];
  std::size_t at = sizeof buffer;
  do {
    buffer[--at] = static_cast<char>('0' + number % 10);
    number /= 10;
  } while (number != 0);
  console_write(std::string_view(buffer + at, sizeof buffer - at));
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
