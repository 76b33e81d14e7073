// overflow-smoke's bug (targets/common/kernel_bug_smoke.cpp runs it): a kernel stack overflow
// must be reported, not silently corrupt what lies below the stack. The kernel recurses without
// end; the unmapped guard page below the kernel stack turns the overflow into an EL1 data abort,
// which the exception vectors report on the panic stack: "kernel stack overflow", the registers,
// exit status 65.
#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/entry.hpp"
#include "kernel_bug.hpp"

namespace ukernel::kernel_bug_smoke {
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

void commit_kernel_bug() {
  aarch64::print("ukernel aarch64 overflow-smoke: recursing in the kernel\n");
  aarch64::print("overflow-smoke: returned ", recurse(0), "\n");
}

}  // namespace ukernel::kernel_bug_smoke
