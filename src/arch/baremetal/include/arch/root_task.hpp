// Booting the kernel core on a bare-metal back-end: the root task's image and the root thread.
//
// An image that links the kernel core (ukernel_baremetal_kernel_image in
// cmake/baremetal-image.cmake) embeds the root task as an ELF file (root_image.S, from the
// back-end's root_image.S.in) and gets kernel_main() from src/arch/baremetal/kernel_main.cpp: it
// loads the ELF's PT_LOAD segments into fresh frames, hands the rest of RAM to core::boot as
// untyped memory, and runs the root task. What it needs to know about the machine is in the
// back-end's <arch/boot.hpp> and root_task.cpp.
#pragma once

#include <span>

#include "ukernel/abi.hpp"

namespace ukernel::core {
struct MemoryRegion;
struct Thread;
}  // namespace ukernel::core

namespace ukernel::baremetal {

// Set by the boot code: the thread whose end ends the system (core_entry.cpp).
void set_root_thread(core::Thread* thread);

// What the image checks when the root task exits, before the machine stops (one file per
// variant, chosen by ukernel_baremetal_kernel_image's INVARIANTS option): root_exit_plain.cpp
// checks nothing; root_exit_invariants.cpp runs the core's invariant checker
// (core/debug/invariants.hpp) and prints its report. False: the kernel's state is broken, and
// the image exits with failure whatever the root task's code.
bool check_at_root_exit();

// The kernel trace of a trace build (trace_ring.cpp; nothing otherwise): attaches the ring
// once core::boot has reset the kernel, and writes the ring through the back-end's trace port
// when the system ends.
void attach_trace();
void dump_trace();

// Defined by the back-end (its root_task.cpp), for kernel_main():
// prints the banner's lines particular to this machine;
void print_boot_details();
// the device regions handed to the root task as device untyped (they include the PCI host
// bridge's ECAM and memory windows);
std::span<const core::MemoryRegion> root_device_regions();
// the PCI Express host bridge (BootInfo::pci; all zero: none).
BootInfo::PciHost root_pci_host();

}  // namespace ukernel::baremetal

// Defined by root_image.S in each image (the back-end's root_image.S.in).
extern "C" const unsigned char ukernel_root_elf_start[];
extern "C" const unsigned char ukernel_root_elf_end[];
extern "C" const unsigned char ukernel_fastpath_option;  // 1: fast path on, 0: off
