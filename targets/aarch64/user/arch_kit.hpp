// What the shared root-task sources (targets/common/user/) need from AArch64 beyond
// <arch/user.hpp>: the ELF machine, the entry stack of a new thread, a cycle counter, a calibration
// loop, a spin-loop hint.
#pragma once

#include "ukernel/abi.hpp"
#include "ukernel/elf.hpp"

namespace ukernel::user {

// The ELF machine of this architecture's programs (what a loader accepts).
inline constexpr std::uint16_t kElfMachine = elf::kMachineAArch64;

// The stack pointer a thread's entry function expects on a stack ending at `top`: AAPCS64 wants
// sp 16-byte aligned at a call, and the return address is in x30, not on the stack.
constexpr word entry_stack(word top) {
  return top;
}

// The generic timer's virtual count, which the kernel lets EL0 read (CNTKCTL_EL1.EL0VCTEN).
inline word cycle_count() {
  word count;
  asm volatile("isb; mrs %0, cntvct_el0" : "=r"(count));
  return count;
}
inline word cycle_hz() {
  word hz;
  asm("mrs %0, cntfrq_el0" : "=r"(hz));
  return hz;
}

// Runs a loop of exactly two instructions per iteration (the benchmark's calibration).
inline void count_down(word iterations) {
  asm volatile("1: subs %0, %0, #1; b.ne 1b" : "+r"(iterations)::"cc");
}

inline void spin_hint() {
  asm volatile("yield");
}

// FP/SIMD probes for the FPU test (targets/common/user/fpu_root.cpp): FPCR and one vector
// register (d15, the low half of v15) read and written directly, so that the test sees what the
// kernel loaded, not what compiled code left.
inline constexpr word kFpControlInitial = 0;
inline constexpr word kFpControlDirty = word{3} << 22;  // FPCR.RMode: round toward zero
inline word fp_control() {
  word value;
  asm volatile("mrs %0, fpcr" : "=r"(value));
  return value;
}
inline void set_fp_control(word value) {
  asm volatile("msr fpcr, %0" ::"r"(value));
}
inline word fp_register15() {
  word value;
  asm volatile("fmov %0, d15" : "=r"(value));
  return value;
}
inline void set_fp_register15(word value) {
  asm volatile("fmov d15, %0" ::"r"(value) : "v15");
}

}  // namespace ukernel::user
