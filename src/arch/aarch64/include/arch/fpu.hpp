// A thread's FP/SIMD state on AArch64 (V0..V31, FPCR, FPSR), and the lazy switch of the FP/SIMD
// unit between threads.
//
// How this works: the registers belong to one thread at a time, the owner. Each Context holds
// the CPACR_EL1 value it runs with, which the exit to EL0 loads (entry.S, one instruction: the
// value sits next to the IPC buffer address and comes with it in one load pair): FPEN = 0b11 for
// the owner, 0b01 (EL0 traps, EL1 does not) for everyone else. A non-owner's first FP/SIMD
// instruction traps (ESR_EL1.EC 0x07); fpu_claim() saves the owner's registers into its FpuArea,
// marks it trapping, loads the claiming thread's and makes it the owner. So a thread switch costs
// nothing more for FP/SIMD than the CPACR_EL1 write every exit makes, and the exit stub pays for
// that one by setting SP in one instruction instead of two (docs/aarch64.md). The kernel itself
// is built -mgeneral-regs-only: only fpu.S touches the registers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ukernel/abi.hpp"

namespace ukernel::aarch64 {

struct Context;

// CPACR_EL1.FPEN (bits 21:20): 0b01 traps EL0's FP/SIMD instructions only, 0b11 traps none.
inline constexpr word kCpacrFpTrapped = word{1} << 20;
inline constexpr word kCpacrFpEnabled = word{3} << 20;

// What a thread starts with: every register zero, FPCR 0 (round to nearest, no exception
// traps, IEEE NaNs and denormals), FPSR 0 (no flags).
struct alignas(16) FpuArea {
  unsigned __int128 v[32] = {};
  word fpcr = 0;
  word fpsr = 0;
};
static_assert(sizeof(FpuArea) == 32 * 16 + 16);

// The FP/SIMD trap from EL0: `context` becomes the owner, with its own registers loaded.
void fpu_claim(Context& context);
// `context` starts afresh or goes away: its registers, if live, are dropped (not saved).
void fpu_forget(const Context& context);

}  // namespace ukernel::aarch64
