// A thread's x87/SSE/AVX state on x86-64, and the lazy switch of the FPU between threads.
//
// How this works: the FPU registers belong to one thread at a time, the owner (fpu_owner()).
// While any other thread runs, CR0.TS is set, so its first x87/SSE/AVX instruction raises #NM;
// fpu_claim() then saves the owner's registers into the owner's FpuArea, loads the claiming
// thread's, clears TS and makes it the owner (an owner that traps again only has TS cleared).
// While TS is clear, every exit to user mode goes through fpu_set_user_context (the pointer
// CpuLocal::enter_user, which fpu_claim() sets): the first exit to another thread sets TS and puts
// the pointer back to plain set_user_context. So a switch between threads that have not used the
// FPU since they last lost it runs exactly the instructions it ran before the kernel kept FPU
// state: no test, no CR0 access (docs/x86_64.md has the figures). The kernel itself is built
// -mgeneral-regs-only and never touches the registers.
//
// The save format is XSAVE's standard format with XCR0 = x87 | SSE | AVX (what the CPU has of
// them, fixed by fpu_init()), or FXSAVE's on a CPU without XSAVE: both fit kFpuAreaBytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ukernel::x86 {

struct Context;

// The legacy region (FXSAVE's 512 bytes), the XSAVE header (64) and the AVX upper halves (256).
inline constexpr std::size_t kFpuAreaBytes = 512 + 64 + 256;
// The state a thread starts with: what FNINIT and the power-on MXCSR give (all exceptions
// masked, round to nearest, double-extended x87 precision), every register zero.
inline constexpr std::uint16_t kFpuInitialControl = 0x037f;
inline constexpr std::uint32_t kMxcsrInitial = 0x1f80;

// No char arrays: a struct with a char member may alias anything, and as part of Context (so of
// the core's Thread) it made GCC reload Thread fields after every store on the scheduler's paths
// (+8 instructions on the notification round trip); 16- and 32-bit arrays do not.
struct alignas(64) FpuArea {
  std::uint16_t control = kFpuInitialControl;  // FCW
  std::uint16_t rest_of_header[11] = {};
  std::uint32_t mxcsr = kMxcsrInitial;
  // The rest: x87 and XMM registers, then the XSAVE header, whose XSTATE_BV of 0 loads every
  // component in its initial state (XMM and YMM zero) apart from MXCSR and FCW, read from above.
  std::uint32_t registers[(kFpuAreaBytes - 28) / 4] = {};
};
static_assert(sizeof(FpuArea) == kFpuAreaBytes);

// Enables the FPU for user mode (CR0, CR4, XCR0) with TS set: no thread owns it yet.
void fpu_init();
// #NM from user mode: `context` becomes the owner, with its own registers loaded.
void fpu_claim(Context& context);
// `context` starts afresh or goes away: its registers, if live, are dropped (not saved).
void fpu_forget(const Context& context);
// The thread whose registers the FPU holds (nullptr: none).
const Context* fpu_owner();
// Sets CR0.TS (the next FPU instruction traps) and puts CpuLocal::enter_user back to
// set_user_context. Called when the thread that ran with TS clear is switched away from.
void fpu_disable();

}  // namespace ukernel::x86
