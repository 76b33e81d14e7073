// aarch64_boot(): machine initialisation in dependency order (see arch/boot.hpp). boot.S has
// already cleared the BSS, turned the MMU on and installed the exception vectors.
#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/interrupts.hpp"
#include "arch/memory.hpp"

extern "C" [[noreturn]] void aarch64_boot() {
  using namespace ukernel::aarch64;
  memory_init();
  gic_init();
  timer_init();
  run_global_constructors();
  kernel_main();
}
