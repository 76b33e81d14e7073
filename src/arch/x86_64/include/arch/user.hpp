// The x86-64 user side of a system call (the API of src/arch/hosted/include/arch/user.hpp):
// ukernel/syscall.hpp fills a UserFrame, user_trap() executes `syscall` with it and writes the
// results back into the same frame.
//
// How this works: a UserFrame is a plain array on the caller's stack, not a view of saved
// registers, so every thread (of any address space) has its own. user_trap() loads it into the
// registers of the system-call ABI (docs/x86_64.md): Status=rax Cap=rdi Info=rsi Badge=rdx
// MR0..MR5=r8 r9 r10 r12 r13 r14. Once inlined, the array lives in registers.
//
// The rest of the API (memory layout, UserFrame, user_pointer) is <arch/user_frame.hpp>, shared
// by the bare-metal back-ends (src/arch/baremetal/include).
#pragma once

#include <cstddef>

#include "arch/user_frame.hpp"
#include "arch/user_mmio.hpp"
#include "ukernel/abi.hpp"

namespace ukernel::arch {

// Makes the system call in `frame`; returns with the results in `frame` once the thread runs
// again. rbx, rbp, r15 and rsp are preserved by the kernel; rcx and r11 are clobbered.
inline void user_trap(UserFrame& frame) {
  word status = frame[0];
  word cap = frame[1];
  word info = frame[2];
  word badge = frame[3];
  register word mr0 asm("r8") = frame[4];
  register word mr1 asm("r9") = frame[5];
  register word mr2 asm("r10") = frame[6];
  register word mr3 asm("r12") = frame[7];
  register word mr4 asm("r13") = frame[8];
  register word mr5 asm("r14") = frame[9];
  asm volatile("syscall"
               : "+a"(status), "+D"(cap), "+S"(info), "+d"(badge), "+r"(mr0), "+r"(mr1), "+r"(mr2),
                 "+r"(mr3), "+r"(mr4), "+r"(mr5)
               :
               : "rcx", "r11", "memory");
  frame = UserFrame{{status, cap, info, badge, mr0, mr1, mr2, mr3, mr4, mr5}};
}

// The calling thread's IPC buffer, wherever kThreadConfigure put it: the kernel loads the
// thread's buffer address as its FS base and writes the same address into the buffer's `self`
// word, so one load through FS finds it (any number of IPC-buffer threads per space). A thread
// configured without a buffer has FS base 0: it must not call this.
inline IpcBuffer* user_ipc_buffer() {
  IpcBuffer* buffer;
  asm("mov %%fs:%c1, %0" : "=r"(buffer) : "i"(offsetof(IpcBuffer, self)));
  return buffer;
}

}  // namespace ukernel::arch
