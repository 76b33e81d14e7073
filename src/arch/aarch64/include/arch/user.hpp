// The AArch64 user side of a system call (the API of src/arch/x86_64/include/arch/user.hpp):
// ukernel/syscall.hpp fills a UserFrame, user_trap() executes `svc #0` with it and writes the
// results back into the same frame.
//
// How this works: a UserFrame is a plain array on the caller's stack, not a view of saved
// registers, so every thread (of any address space) has its own. user_trap() loads it into the
// registers of the system-call ABI (docs/aarch64.md): Status=x0 Cap=x1 Info=x2 Badge=x3
// MR0..MR5=x4..x9. Once inlined, the array lives in registers.
//
// User memory layout the root task and the back-end's loader agree on (the x86-64 one): the IPC
// buffer of the space's first thread at kUserIpcBuffer, the boot info page at kUserBootInfo (root
// task only), the root task's stack below kRootStackTop, the root image linked at kRootImageBase
// (src/arch/aarch64/user/user.ld).
#pragma once

#include <cstddef>

#include "arch/context.hpp"
#include "ukernel/abi.hpp"

namespace ukernel::arch {

inline constexpr std::size_t kUserMessageRegisters = aarch64::Context::kMessageRegisters;

inline constexpr word kRootImageBase = 0x400000;
inline constexpr word kUserIpcBuffer = 0x10000000;
inline constexpr word kUserBootInfo = 0x10001000;
inline constexpr word kRootStackTop = 0x20000000;
inline constexpr std::size_t kRootStackPages = 8;
// The image's boot modules (BootInfo::modules_vaddr), read-only in the root task's space.
inline constexpr word kUserBootModules = 0x40000000;

// kStatus, kCap, kInfo, kBadge, then the message registers (indexed by SysReg).
struct UserFrame {
  word regs[4 + kUserMessageRegisters];
  word& operator[](std::size_t i) { return regs[i]; }
  word operator[](std::size_t i) const { return regs[i]; }
};

// A fresh frame for the next system call.
inline UserFrame user_frame() {
  return UserFrame{};
}

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
  frame[0] = status;
  frame[1] = cap;
  frame[2] = info;
  frame[3] = badge;
  frame[4] = mr0;
  frame[5] = mr1;
  frame[6] = mr2;
  frame[7] = mr3;
  frame[8] = mr4;
  frame[9] = mr5;
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

// User addresses are the program's own pointers.
inline void* user_pointer(word vaddr, std::size_t) {
  return reinterpret_cast<void*>(vaddr);
}

}  // namespace ukernel::arch
