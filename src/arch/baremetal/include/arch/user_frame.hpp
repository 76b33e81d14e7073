// What the bare-metal back-ends' <arch/user.hpp> share: the user memory layout, the UserFrame a
// system call is made with, and user pointers. Each back-end's arch/user.hpp adds the trap
// itself (user_trap) and how a thread finds its IPC buffer (user_ipc_buffer).
//
// User memory layout the root task and the back-end's loader agree on (the same on both
// back-ends, and in every address space the root task builds): the IPC buffer of the space's
// first thread at kUserIpcBuffer, the boot info page at kUserBootInfo (root task only), the root
// task's stack below kRootStackTop, the root image linked at kRootImageBase (the back-end's
// user/user.ld).
#pragma once

#include <cstddef>

#include "arch/backend.hpp"
#include "arch/context.hpp"
#include "ukernel/abi.hpp"

namespace ukernel::arch {

inline constexpr std::size_t kUserMessageRegisters = backend::Context::kMessageRegisters;

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

// User addresses are the program's own pointers.
inline void* user_pointer(word vaddr, std::size_t) {
  return reinterpret_cast<void*>(vaddr);
}

}  // namespace ukernel::arch
