// The freestanding runtime of x86-64 user programs: the memory functions the compiler may call,
// and the two string functions std::string_view needs.
#include <cstddef>

extern "C" {

void* memcpy(void* dest, const void* src, std::size_t n) {
  void* d = dest;
  asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dest;
}

void* memset(void* dest, int value, std::size_t n) {
  void* d = dest;
  asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(value) : "memory");
  return dest;
}

int memcmp(const void* a, const void* b, std::size_t n) {
  auto* x = static_cast<const unsigned char*>(a);
  auto* y = static_cast<const unsigned char*>(b);
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

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
