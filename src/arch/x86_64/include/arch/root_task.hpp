// Booting the kernel core on x86-64: the root task's image and the switches an image sets.
//
// An image that links the kernel core (ukernel_x86_64_kernel_image in
// cmake/x86_64-image.cmake) embeds the root task as an ELF file (root_image.S) and gets
// kernel_main() from src/arch/baremetal/kernel_main.cpp: it loads the ELF's PT_LOAD segments into
// fresh frames, hands the rest of RAM to core::boot as untyped memory, and runs the root task.
#pragma once

#include <cstdint>
#include <string_view>

#include "arch/root_image.hpp"
#include "arch/x86_layout.h"
#include "ukernel/abi.hpp"
#include "ukernel/elf.hpp"

namespace ukernel::x86 {

// What kernel_main() (src/arch/baremetal/kernel_main.cpp) needs to know about this machine:
// its name for the banner, the ELF machine of root images, and where the kernel image (with the
// boot modules' .modules section) is linked relative to its physical address.
inline constexpr std::string_view kMachineName = "x86-64";
inline constexpr std::uint16_t kRootElfMachine = elf::kMachineX86_64;
inline constexpr word kKernelImageOffset = UK_KERNEL_VMA;

}  // namespace ukernel::x86
