// Per-CPU state reached through the GS base while in the kernel (swapgs on every entry from and
// exit to user mode), and the descriptor tables it goes with. One CPU for now.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arch/context.hpp"
#include "arch/x86_layout.h"

namespace ukernel::x86 {

struct CpuLocal {
  CpuLocal* self;
  word kernel_stack_top;  // every entry from user mode starts here
  word user_rsp;          // scratch for the syscall entry
  word context_end;       // one past the running thread's Context: the syscall frame goes here
  Context* current;       // the running thread's Context, nullptr when idle
  Context* fs_owner;      // whose fs_base the FS base register holds (set_user_context)
};
static_assert(offsetof(CpuLocal, self) == UK_CPU_SELF);
static_assert(offsetof(CpuLocal, kernel_stack_top) == UK_CPU_KERNEL_STACK);
static_assert(offsetof(CpuLocal, user_rsp) == UK_CPU_USER_RSP);
static_assert(offsetof(CpuLocal, context_end) == UK_CPU_CONTEXT_END);

CpuLocal& cpu_local();

// Loads the GDT, TSS and IDT, points GS at CpuLocal and programs the syscall MSRs.
void descriptors_init();
// Where the next user-mode entry saves its registers (TSS.RSP0 and CpuLocal::context_end), and
// the thread's FS base (its IPC buffer) when another thread's was loaded or it changed.
void set_user_context(Context* context);

}  // namespace ukernel::x86
