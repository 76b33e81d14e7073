// The freestanding C++ runtime: the C++ ABI hooks a freestanding image still references, and the
// global-constructor walk. (memcpy & co are in string.S.)
#include <cstddef>
#include <cstdint>

#include "arch/console.hpp"

extern "C" {

std::size_t strlen(const char* text) {
  std::size_t n = 0;
  while (text[n] != '\0')
    ++n;
  return n;
}

void __cxa_pure_virtual() {
  ukernel::aarch64::panic("pure virtual function called");
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
  ukernel::aarch64::panic("operator delete called");
}
void operator delete(void*, std::size_t) noexcept {
  ukernel::aarch64::panic("operator delete called");
}

namespace ukernel::aarch64 {

void run_global_constructors() {
  for (Constructor* c = __init_array_start; c != __init_array_end; ++c)
    (*c)();
}

}  // namespace ukernel::aarch64
