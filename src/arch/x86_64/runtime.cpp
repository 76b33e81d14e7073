// The freestanding C/C++ runtime: the four memory functions the compiler may call, the C++ ABI
// hooks a freestanding image still references, and the global-constructor walk.
#include <cstddef>
#include <cstdint>

#include "arch/console.hpp"

extern "C" {

// rep movsb/stosb: short, correct for every size and alignment, and fast on current CPUs. Written
// in asm so that the compiler cannot turn a loop back into a call to the function itself.
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

void* memmove(void* dest, const void* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dest);
  auto* s = static_cast<const unsigned char*>(src);
  if (d <= s || d >= s + n) return memcpy(dest, src, n);
  // Overlapping with dest above src: copy backwards (DF=1), then restore DF=0 as the ABI needs.
  d += n - 1;
  s += n - 1;
  asm volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
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

std::size_t strlen(const char* text) {
  std::size_t n = 0;
  while (text[n] != '\0')
    ++n;
  return n;
}

void __cxa_pure_virtual() {
  ukernel::x86::panic("pure virtual function called");
}

// Destructors of globals never run (the kernel does not exit); -fno-use-cxa-atexit routes their
// registration here.
int atexit(void (*)()) {
  return 0;
}

using Constructor = void (*)();
extern Constructor __init_array_start[];
extern Constructor __init_array_end[];

}  // extern "C"

// The kernel allocates nothing with new; a virtual destructor still references delete.
void operator delete(void*) noexcept {
  ukernel::x86::panic("operator delete called");
}
void operator delete(void*, std::size_t) noexcept {
  ukernel::x86::panic("operator delete called");
}

namespace ukernel::x86 {

void run_global_constructors() {
  for (Constructor* c = __init_array_start; c != __init_array_end; ++c)
    (*c)();
}

}  // namespace ukernel::x86
