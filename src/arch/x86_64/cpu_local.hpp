// Per-CPU state reached through the GS base while in the kernel (swapgs on every entry from and
// exit to user mode), and the descriptor tables it goes with. One CPU for now.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arch/context.hpp"
#include "arch/x86_layout.h"

// entry.S: restores the Context's registers and leaves for user mode (sysretq or iretq).
extern "C" [[noreturn]] void x86_exit_to_user(ukernel::x86::Context* context);

namespace ukernel::x86 {

// Where the next user-mode entry saves its registers (TSS.RSP0 and CpuLocal::context_end), and
// the thread's FS base (its IPC buffer) when another thread's was loaded or it changed.
void set_user_context(Context* context);
// set_user_context, then out to user mode through entry.S's x86_exit_to_user: the last step of
// every exit, reached through CpuLocal::leave while no thread runs with CR0.TS clear.
[[noreturn]] void leave_to_user(Context* context);

struct CpuLocal {
  CpuLocal* self;
  word kernel_stack_top;  // every entry from user mode starts here
  word user_rsp;          // scratch for the syscall entry
  word context_end;       // one past the running thread's Context: the syscall frame goes here
  Context* current;       // the running thread's Context, nullptr when idle
  Context* fs_owner;      // whose fs_base the FS base register holds (set_user_context)
  Context* fpu_owner;     // whose registers the FPU holds (arch/fpu.hpp)
  Context* fpu_live;      // the owner while CR0.TS is clear; nullptr while TS is set
  // How every exit to user mode ends (traps.cpp, exit_to_user): leave_to_user, or while CR0.TS is
  // clear fpu_leave_to_user (arch/fpu.hpp), which sets TS first unless the thread it resumes is
  // fpu_live. A pointer, not a test, so that a switch between threads that do not use the FPU
  // runs the instructions it ran before the kernel kept FPU state.
  void (*leave)(Context* context) = leave_to_user;
};
static_assert(offsetof(CpuLocal, self) == UK_CPU_SELF);
static_assert(offsetof(CpuLocal, kernel_stack_top) == UK_CPU_KERNEL_STACK);
static_assert(offsetof(CpuLocal, user_rsp) == UK_CPU_USER_RSP);
static_assert(offsetof(CpuLocal, context_end) == UK_CPU_CONTEXT_END);

CpuLocal& cpu_local();

// Loads the GDT, TSS and IDT, points GS at CpuLocal and programs the syscall MSRs.
void descriptors_init();

}  // namespace ukernel::x86
