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

}  // namespace ukernel::user
