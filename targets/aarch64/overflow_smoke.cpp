// overflow-smoke: a kernel stack overflow must be reported, not silently corrupt what lies below
// the stack. kernel_main() recurses without end; the unmapped guard page below the kernel stack
// turns the overflow into an EL1 data abort, which the exception vectors report on the panic
// stack: "kernel stack overflow", the registers, exit status 65.
#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/entry.hpp"

namespace ukernel::aarch64 {
namespace {

volatile word depth_limit = ~word{0};  // never reached; the compiler cannot know

[[gnu::noinline]] word recurse(word depth) {
  if (depth == depth_limit) return 0;
  volatile word frame[32];
  frame[depth % 32] = depth;
  word below = recurse(depth + 1);  // not a tail call: the frame stays
  return frame[(depth + 1) % 32] + below;
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
  print("ukernel aarch64 overflow-smoke: recursing in the kernel\n");
  print("overflow-smoke: returned ", recurse(0), "\n");
  exit_qemu(ExitCode::kFailure);
}

}  // namespace ukernel::aarch64
