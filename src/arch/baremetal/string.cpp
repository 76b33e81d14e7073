// The string functions of the bare-metal kernels and user programs written in C++ on both
// back-ends: strlen and memchr (for std::string_view, ukernel::log and its formatter). memcpy,
// memset, memmove and memcmp are the back-end's string source (src/arch/x86_64/string.cpp,
// src/arch/aarch64/string.S).
#include <cstddef>

extern "C" {

std::size_t strlen(const char* text) {
  std::size_t n = 0;
  while (text[n] != '\0')
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
