// Booting the kernel core on AArch64: the root task's image and the switches an image sets.
//
// An image that links the kernel core (ukernel_aarch64_kernel_image in
// cmake/aarch64-image.cmake) embeds the root task as an ELF file (root_image.S) and gets
// kernel_main() from root_task.cpp: it loads the ELF's PT_LOAD segments into fresh frames,
// hands the rest of RAM to core::boot as untyped memory, and runs the root task.
#pragma once

#include "ukernel/abi.hpp"

namespace ukernel::core {
struct Thread;
}

namespace ukernel::aarch64 {

// Set by the boot code: the thread whose end ends the system (core_entry.cpp).
void set_root_thread(core::Thread* thread);

}  // namespace ukernel::aarch64

// Defined by root_image.S in each image.
extern "C" const unsigned char ukernel_root_elf_start[];
extern "C" const unsigned char ukernel_root_elf_end[];
extern "C" const unsigned char ukernel_fastpath_option;  // 1: fast path on, 0: off
