// The hosted back-end's user side of a system call: the user library writes the arguments into
// the current thread's registers, traps into the kernel (a function call on the same fiber),
// and reads the results from the same registers once the thread runs again.
#pragma once

#include "arch/machine.hpp"

namespace ukernel::arch {

using UserFrame = word*;  // kStatus, kCap, kInfo, kBadge, then the message registers

// The current thread's registers.
UserFrame user_frame();
// Enters the kernel with the system call in `frame`; returns when the thread runs again.
void user_trap(UserFrame frame);
// The current thread's IPC buffer (nullptr if none is configured).
IpcBuffer* user_ipc_buffer();
// A pointer to `bytes` bytes at user address `vaddr` of the current address space, or nullptr
// if that range is not mapped in one frame.
void* user_pointer(word vaddr, std::size_t bytes);

// A device register of `width` bytes (1, 2, 4, 8) at `vaddr`, which must be in a page the
// current thread mapped from a device frame: the access reaches the device model attached at
// that physical address (ukernel/hosted/devices.hpp). Anything else faults the thread with
// kMemoryAccess at `vaddr`, as a stray access would on hardware. ukernel/mmio.hpp wraps these.
word mmio_read(word vaddr, unsigned width);
void mmio_write(word vaddr, unsigned width, word value);

inline constexpr std::size_t kUserMessageRegisters = HostedContext::kMessageRegisters;

}  // namespace ukernel::arch
