// COM1 16550 UART, polled output (print() is src/arch/baremetal/console.cpp); the QEMU exit
// device; panic().
#include "arch/console.hpp"

#include "cpu.hpp"

namespace ukernel::x86 {
namespace {

constexpr std::uint16_t kCom1 = 0x3f8;
// 16550 registers (offsets from the base port).
constexpr std::uint16_t kData = 0;             // DLAB=0: transmit/receive; DLAB=1: divisor low
constexpr std::uint16_t kInterruptEnable = 1;  // DLAB=1: divisor high
constexpr std::uint16_t kFifoControl = 2;
constexpr std::uint16_t kLineControl = 3;
constexpr std::uint16_t kModemControl = 4;
constexpr std::uint16_t kLineStatus = 5;
constexpr std::uint8_t kTransmitEmpty = 1u << 5;

constexpr std::uint16_t kDebugExitPort = 0xf4;

}  // namespace

void console_put_char(char c) {
  // Bounded wait: a missing UART reads 0xff (always "empty"); a stuck one must not hang us.
  for (int i = 0; i < 100000 && (inb(kCom1 + kLineStatus) & kTransmitEmpty) == 0; ++i)
    pause();
  outb(kCom1 + kData, static_cast<std::uint8_t>(c));
}

void serial_init() {
  outb(kCom1 + kInterruptEnable, 0x00);
  outb(kCom1 + kLineControl, 0x80);  // DLAB on: divisor follows
  outb(kCom1 + kData, 0x01);         // 115200 baud
  outb(kCom1 + kInterruptEnable, 0x00);
  outb(kCom1 + kLineControl, 0x03);   // 8 data bits, no parity, 1 stop bit, DLAB off
  outb(kCom1 + kFifoControl, 0xc7);   // FIFOs on and cleared, 14-byte threshold
  outb(kCom1 + kModemControl, 0x0b);  // DTR, RTS, OUT2 (OUT2 gates the IRQ line)
}

void serial_set_transmit_interrupt(bool on) {
  outb(kCom1 + kInterruptEnable, on ? 0x02 : 0x00);
  (void)inb(kCom1 + kFifoControl);  // reading IIR acknowledges a pending "transmitter empty"
}

void trace_port_write(std::string_view text) {
  for (char c : text)
    outb(0xe9, static_cast<std::uint8_t>(c));
}

void exit_qemu(ExitCode code) {
  disable_interrupts();
  outl(kDebugExitPort, static_cast<std::uint32_t>(code));
  for (;;)
    asm volatile("hlt");
}

void panic(std::string_view message) {
  disable_interrupts();
  print("\nPANIC: ", message, "\n");
  exit_qemu(ExitCode::kPanic);
}

}  // namespace ukernel::x86
