// The kernel console (COM1, polled) and the QEMU exit device.
//
// print() is for the kernel's own messages: boot, faults the back-end reports, kernel bugs. It
// writes straight to the 16550 UART and never blocks on anything but the UART itself.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace ukernel::x86 {

// Initialises COM1 (115200 8N1, FIFOs on, UART interrupts off). Safe to call again.
void serial_init();
void console_write(std::string_view text);
// Turns COM1's "transmitter empty" interrupt (IRQ 4) on or off; used to test interrupt routing.
void serial_set_transmit_interrupt(bool on);

struct Hex {
  std::uint64_t value;
};
inline Hex hex(std::uint64_t value) {
  return Hex{value};
}

void print_one(std::string_view text);
void print_one(Hex number);  // 0x followed by lower-case hex digits, no padding
void print_unsigned(std::uint64_t number);
inline void print_one(const char* text) {
  print_one(std::string_view(text));
}
template <std::integral T>
void print_one(T number) {
  if constexpr (std::is_signed_v<T>) {
    if (number < 0) {
      print_one("-");
      print_unsigned(static_cast<std::uint64_t>(-(number + 1)) + 1);
      return;
    }
  }
  print_unsigned(static_cast<std::uint64_t>(number));
}

template <class... Args>
void print(const Args&... args) {
  (print_one(args), ...);
}

// Values written to QEMU's isa-debug-exit device (iobase 0xf4); QEMU exits with (v << 1) | 1.
// 0 never means success: a triple fault under -no-reboot also exits QEMU with status 0.
enum class ExitCode : std::uint32_t {
  kSuccess = 0x10,  // QEMU exit status 33
  kFailure = 0x11,  // 35: a test scenario found a wrong result
  kPanic = 0x20,    // 65: a kernel bug (ring-0 exception, failed check)
};
// Leaves QEMU with `code`; on a machine without the device, halts forever.
[[noreturn]] void exit_qemu(ExitCode code);

// A kernel bug: prints the message and exits with ExitCode::kPanic.
[[noreturn]] void panic(std::string_view message);

}  // namespace ukernel::x86
