// The bug a kernel-bug smoke image commits (kernel_bug_smoke.cpp runs it): panic_smoke.cpp on
// every target, targets/aarch64/overflow_smoke.cpp on AArch64. Each image links one.
#pragma once

namespace ukernel::kernel_bug_smoke {
// Says what it is about to do, then does it: a kernel bug that must end in a panic (a register
// dump, a backtrace, exit status 65). Returns only if the bug went unnoticed, after saying so.
void commit_kernel_bug();
}  // namespace ukernel::kernel_bug_smoke
