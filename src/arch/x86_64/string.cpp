// memcpy, memset, memmove and memcmp for the x86-64 kernel and user programs (the compiler may
// call them even in freestanding code), the counterpart of aarch64's string.S.
#include <cstddef>

extern "C" {

// rep movsb/stosb: short, correct for every size and alignment, and fast on current CPUs. Written
// in asm so that the compiler cannot turn a loop back into a call to the function itself.
// `used`: with LTO, a call the code generator adds late (zeroing a large object) finds no
// reference the linker plugin saw, and the definition would be dropped.
//
// From kLongCopy bytes on, memcpy moves 8 bytes a step (rep movsq, then the tail with movsb):
// QEMU's TCG runs a rep string instruction one iteration at a time (and -icount counts each), so
// a bulk copy -- a file's data from the block session to a client, docs/storage.md -- costs an
// eighth of the steps. Shorter copies (IPC messages, names) stay one plain movsb.
constexpr std::size_t kLongCopy = 1024;

[[gnu::used]] void* memcpy(void* dest, const void* src, std::size_t n) {
  void* d = dest;
  if (n >= kLongCopy) {
    std::size_t words = n / 8;
    asm volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(words) : : "memory");
    n %= 8;
  }
  asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dest;
}

[[gnu::used]] void* memset(void* dest, int value, std::size_t n) {
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

}  // extern "C"
