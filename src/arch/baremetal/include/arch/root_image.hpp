// The root task's image in a bare-metal kernel image, and the root thread: what the shared boot
// (src/arch/baremetal/kernel_main.cpp) and entry glue (core_entry.cpp) have in common with the
// image. The back-end's part is its <arch/root_task.hpp>.
#pragma once

#include <span>

namespace ukernel::core {
struct MemoryRegion;
struct Thread;
}  // namespace ukernel::core

namespace ukernel::baremetal {

// Set by the boot code: the thread whose end ends the system (core_entry.cpp).
void set_root_thread(core::Thread* thread);

// Defined by the back-end (its root_task.cpp), for kernel_main():
// prints the banner's lines particular to this machine;
void print_boot_details();
// the device regions handed to the root task as device untyped.
std::span<const core::MemoryRegion> root_device_regions();

}  // namespace ukernel::baremetal

// Defined by root_image.S in each image (the back-end's root_image.S.in).
extern "C" const unsigned char ukernel_root_elf_start[];
extern "C" const unsigned char ukernel_root_elf_end[];
extern "C" const unsigned char ukernel_fastpath_option;  // 1: fast path on, 0: off
