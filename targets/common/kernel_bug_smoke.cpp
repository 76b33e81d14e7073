// A kernel-bug smoke image (panic-smoke, overflow-smoke): a kernel bug must be reported, not
// hidden. kernel_main() commits the image's bug (kernel_bug.hpp) before any user thread exists,
// so the back-end's entry points have nothing to do; should the bug go unnoticed, QEMU exits
// with ExitCode::kFailure instead of the panic's kPanic (status 65).
#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/entry.hpp"
#include "kernel_bug.hpp"
#include "smoke/target.hpp"

namespace ukernel {

backend::Context* backend::on_syscall(Context& current) {
  return &current;
}
backend::Context* backend::on_user_fault(Context& current, const UserFault&) {
  return &current;
}
backend::Context* backend::on_timer(Context* current) {
  return current;
}
backend::Context* backend::on_irq(Context* current, unsigned) {
  return current;
}

void backend::kernel_main() {
  kernel_bug_smoke::commit_kernel_bug();
  exit_qemu(ExitCode::kFailure);
}

}  // namespace ukernel
