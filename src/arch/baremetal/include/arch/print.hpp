// The bare-metal kernels' print(): number formatting and the console's line endings above the
// back-end's UART, shared by the back-ends (each one's arch/console.hpp brings these names into
// its namespace and defines console_put_char()).
//
// print() is for the kernel's own messages: boot, faults the back-end reports, kernel bugs. It
// writes straight to the UART and never blocks on anything but the UART itself.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace ukernel::baremetal {

// Writes `text` to the console, "\n" as "\r\n".
void console_write(std::string_view text);

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

}  // namespace ukernel::baremetal
