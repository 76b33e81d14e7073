// What the shared root-task sources (targets/common/user/) need from x86-64 beyond
// <arch/user.hpp>: the ELF machine, the entry stack of a new thread, a cycle counter, a calibration
// loop, a spin-loop hint.
#pragma once

#include "ukernel/abi.hpp"
#include "ukernel/elf.hpp"

namespace ukernel::user {

// The ELF machine of this architecture's programs (what a loader accepts).
inline constexpr std::uint16_t kElfMachine = elf::kMachineX86_64;

// The stack pointer a thread's entry function expects on a stack ending at `top`: as if called,
// rsp + 8 is 16-byte aligned.
constexpr word entry_stack(word top) {
  return top - 8;
}

inline word cycle_count() {
  word low, high;
  asm volatile("rdtsc" : "=a"(low), "=d"(high));
  return (high << 32) | low;
}
// The TSC rate under TCG (the kernel calibrates it; the scenario only needs the magnitude).
inline word cycle_hz() {
  return 1'000'000'000;
}

// Runs a loop of exactly two instructions per iteration (the benchmark's calibration).
inline void count_down(word iterations) {
  asm volatile("1: dec %0; jnz 1b" : "+r"(iterations));
}

inline void spin_hint() {
  asm volatile("pause");
}

// FP/SIMD probes for the FPU test (targets/common/user/fpu_root.cpp): the SIMD control register
// (MXCSR) and one vector register (the low half of xmm15) read and written directly, so that the
// test sees what the kernel loaded, not what compiled code left.
inline constexpr word kFpControlInitial = 0x1f80;  // all exceptions masked, round to nearest
inline constexpr word kFpControlDirty = 0x7f80;    // round toward zero
inline word fp_control() {
  std::uint32_t value;
  asm volatile("stmxcsr %0" : "=m"(value));
  return value;
}
inline void set_fp_control(word value) {
  auto v = static_cast<std::uint32_t>(value);
  asm volatile("ldmxcsr %0" ::"m"(v));
}
inline word fp_register15() {
  word value;
  asm volatile("movq %%xmm15, %0" : "=r"(value));
  return value;
}
inline void set_fp_register15(word value) {
  asm volatile("movq %0, %%xmm15" ::"r"(value) : "xmm15");
}

}  // namespace ukernel::user
