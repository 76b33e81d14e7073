// The freestanding runtime of AArch64 user programs beyond string.S: the two string functions
// std::string_view needs, and libstdc++'s bounds-check hook.
#include <cstddef>

extern "C" {

// For std::string_view (ukernel::log and its formatter).
std::size_t strlen(const char* text) {
  std::size_t n = 0;
  while (text[n] != 0)
    ++n;
  return n;
}

void* memchr(const void* memory, int value, std::size_t n) {
  auto* p = static_cast<const unsigned char*>(memory);
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] == static_cast<unsigned char>(value)) return const_cast<unsigned char*>(p + i);
  }
  return nullptr;
}

}  // extern "C"

// What libstdc++'s headers call on a failed bounds check (std::string_view::substr past the end):
// with no exceptions, the thread stops with an illegal-instruction fault its supervisor hears of.
namespace std {
[[noreturn]] void __throw_out_of_range_fmt(const char*, ...) {
  __builtin_trap();
}
}  // namespace std
