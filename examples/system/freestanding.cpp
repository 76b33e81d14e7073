// The few run-time functions the compiler and the standard headers expect, for server images,
// which link no C or C++ runtime (cmake/check-freestanding.sh checks it). A bare-metal server
// needs the same set. On the hosted back-end the process's own definitions (the sanitizer's
// checked ones) take precedence at load time; these make the image self-contained.
#include <cstddef>

#include "ukernel/syscall.hpp"

// Loops the optimiser would turn back into calls to the functions being defined.
#define UKERNEL_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

extern "C" {

UKERNEL_NO_LIBCALLS void* memcpy(void* dest, const void* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dest);
  const auto* s = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < n; ++i)
    d[i] = s[i];
  return dest;
}

UKERNEL_NO_LIBCALLS void* memmove(void* dest, const void* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dest);
  const auto* s = static_cast<const unsigned char*>(src);
  if (d < s) {
    for (std::size_t i = 0; i < n; ++i)
      d[i] = s[i];
  } else {
    for (std::size_t i = n; i > 0; --i)
      d[i - 1] = s[i - 1];
  }
  return dest;
}

UKERNEL_NO_LIBCALLS void* memset(void* dest, int value, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dest);
  for (std::size_t i = 0; i < n; ++i)
    d[i] = static_cast<unsigned char>(value);
  return dest;
}

UKERNEL_NO_LIBCALLS int memcmp(const void* a, const void* b, std::size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

UKERNEL_NO_LIBCALLS void* memchr(const void* s, int c, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(s);
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] == static_cast<unsigned char>(c)) return const_cast<unsigned char*>(p + i);
  }
  return nullptr;
}

UKERNEL_NO_LIBCALLS std::size_t strlen(const char* s) {
  std::size_t n = 0;
  while (s[n] != '\0')
    ++n;
  return n;
}

}  // extern "C"

// std::string_view::substr's range check: in a server, a bug; the server stops and its
// supervisor hears of it.
namespace std {
[[noreturn]] void __throw_out_of_range_fmt(const char*, ...) {
  for (;;)
    ukernel::abort_thread(0);
}
}  // namespace std
