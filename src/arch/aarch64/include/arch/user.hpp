// The AArch64 user side of a system call (the API of src/arch/x86_64/include/arch/user.hpp):
// ukernel/syscall.hpp fills a UserFrame, user_trap() executes `svc #0` with it and writes the
// results back into the same frame.
//
// How this works: a UserFrame is a plain array on the caller's stack, not a view of saved
// registers, so every thread (of any address space) has its own. user_trap() loads it into the
// registers of the system-call ABI (docs/aarch64.md): Status=x0 Cap=x1 Info=x2 Badge=x3
// MR0..MR5=x4..x9. Once inlined, the array lives in registers.
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
// again. Every register outside x0..x9 is preserved by the kernel (the flags too).
inline void user_trap(UserFrame& frame) {
  register word status asm("x0") = frame[0];
  register word cap asm("x1") = frame[1];
  register word info asm("x2") = frame[2];
  register word badge asm("x3") = frame[3];
  register word mr0 asm("x4") = frame[4];
  register word mr1 asm("x5") = frame[5];
  register word mr2 asm("x6") = frame[6];
  register word mr3 asm("x7") = frame[7];
  register word mr4 asm("x8") = frame[8];
  register word mr5 asm("x9") = frame[9];
  asm volatile("svc #0"
               : "+r"(status), "+r"(cap), "+r"(info), "+r"(badge), "+r"(mr0), "+r"(mr1), "+r"(mr2),
                 "+r"(mr3), "+r"(mr4), "+r"(mr5)
               :
               : "memory");
  frame = UserFrame{{status, cap, info, badge, mr0, mr1, mr2, mr3, mr4, mr5}};
}

// The calling thread's IPC buffer, wherever kThreadConfigure put it: the kernel loads the
// thread's buffer address into TPIDRRO_EL0 (readable, not writable, at EL0) on every exit to
// user mode, so one `mrs` finds it (any number of IPC-buffer threads per space). A thread
// configured without a buffer reads 0: it must not call this.
inline IpcBuffer* user_ipc_buffer() {
  word address;
  asm("mrs %0, tpidrro_el0" : "=r"(address));
  return reinterpret_cast<IpcBuffer*>(address);
}

}  // namespace ukernel::arch
