// panic-smoke's bug (kernel_bug_smoke.cpp runs it): a write to the kernel's own code two calls
// deep. The text is mapped read-only, so the write faults in the kernel (x86-64: a ring-0 page
// fault, error 0x3: present, write; AArch64: an EL1 data abort, a level-3 permission fault on a
// write, ESR 0x9600004f), which must print the registers and a backtrace and exit QEMU with
// ExitCode::kPanic (status 65).
#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/entry.hpp"
#include "kernel_bug.hpp"
#include "smoke/target.hpp"

namespace ukernel::kernel_bug_smoke {
namespace {

[[gnu::noinline]] void write_to(volatile word* where) {
  *where = 0xdead;
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void kernel_bug() {
  write_to(reinterpret_cast<volatile word*>(&backend::kernel_main));
  asm volatile("" ::: "memory");
}

}  // namespace

void commit_kernel_bug() {
  backend::print("ukernel ", backend::smoke::kArchName, " panic-smoke: writing to kernel code\n");
  kernel_bug();
  backend::print("panic-smoke: the write did not fault\n");
}

}  // namespace ukernel::kernel_bug_smoke
