// The kernel console (the PL011 UART of QEMU virt, polled) and leaving QEMU.
//
// print() is for the kernel's own messages: boot, faults the back-end reports, kernel bugs. It
// writes straight to the UART and never blocks on anything but the UART itself.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace ukernel::aarch64 {

// The PL011's SPI (INTID 33 on QEMU virt), as a device line: SPI n is line n.
inline constexpr unsigned kUartLine = 1;

void console_write(std::string_view text);
// Turns the PL011's transmit interrupt on or off; used to test interrupt routing. While on,
// every character written raises it.
void uart_set_transmit_interrupt(bool on);

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

// QEMU's exit status, through semihosting SYS_EXIT (QEMU runs with -semihosting). The numbers
// are the x86-64 back-end's, so that one runner judges both. 0 never means success: PSCI
// SYSTEM_OFF and a reset under -no-reboot also exit QEMU with status 0.
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
