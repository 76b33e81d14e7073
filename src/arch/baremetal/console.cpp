// The bare-metal kernels' console above the UART (arch/print.hpp): line endings and number
// formatting. The back-end's console.cpp drives the UART itself (console_put_char).
#include "arch/console.hpp"
#include "arch/backend.hpp"

namespace ukernel::baremetal {

void console_write(std::string_view text) {
  for (char c : text) {
    if (c == '\n') backend::console_put_char('\r');
    backend::console_put_char(c);
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

}  // namespace ukernel::baremetal
