// panic-smoke: a kernel bug must be reported, not hidden. kernel_main() writes to the kernel's
// own code two calls deep; the text is mapped read-only, so the EL1 data abort (a level-3
// permission fault on a write: ESR 0x9600004f) must print the registers and a backtrace and exit
// QEMU with ExitCode::kPanic (status 65).
#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/entry.hpp"

namespace ukernel::aarch64 {
namespace {

[[gnu::noinline]] void write_to(volatile word* where) {
  *where = 0xdead;
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void kernel_bug() {
  write_to(reinterpret_cast<volatile word*>(&kernel_main));
  asm volatile("" ::: "memory");
}

}  // namespace

Context* on_syscall(Context& current) {
  return &current;
}
Context* on_user_fault(Context& current, const UserFault&) {
  return &current;
}
Context* on_timer(Context* current) {
  return current;
}
Context* on_irq(Context* current, unsigned) {
  return current;
}

void kernel_main() {
  print("ukernel aarch64 panic-smoke: writing to kernel code\n");
  kernel_bug();
  print("panic-smoke: the write did not fault\n");
  exit_qemu(ExitCode::kFailure);
}

}  // namespace ukernel::aarch64
