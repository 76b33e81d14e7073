// The freestanding C++ runtime of the bare-metal kernels: the C++ ABI hooks a freestanding image
// still references, and the global-constructor walk. The string functions are string.cpp here and
// the back-end's string source (src/arch/x86_64/string.cpp, src/arch/aarch64/string.S).
#include <cstddef>

#include "arch/backend.hpp"
#include "arch/boot.hpp"
#include "arch/console.hpp"

extern "C" {

void __cxa_pure_virtual() {
  ukernel::backend::panic("pure virtual function called");
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
  ukernel::backend::panic("operator delete called");
}
void operator delete(void*, std::size_t) noexcept {
  ukernel::backend::panic("operator delete called");
}

void ukernel::backend::run_global_constructors() {
  for (Constructor* c = __init_array_start; c != __init_array_end; ++c)
    (*c)();
}
