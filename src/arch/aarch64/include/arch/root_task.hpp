// Booting the kernel core on AArch64: the root task's image and the switches an image sets.
//
// An image that links the kernel core (ukernel_aarch64_kernel_image in
// cmake/aarch64-image.cmake) embeds the root task as an ELF file (root_image.S) and gets
// kernel_main() from src/arch/baremetal/kernel_main.cpp: it loads the ELF's PT_LOAD segments into
// fresh frames, hands the rest of RAM to core::boot as untyped memory, and runs the root task.
#pragma once

#include <cstdint>
#include <string_view>

#include "arch/aarch64_layout.h"
#include "arch/root_image.hpp"
#include "ukernel/abi.hpp"
#include "ukernel/elf.hpp"

namespace ukernel::aarch64 {

// What kernel_main() (src/arch/baremetal/kernel_main.cpp) needs to know about this machine:
// its name for the banner, the ELF machine of root images, and where the kernel image (with the
// boot modules' .modules section) is linked relative to its physical address.
inline constexpr std::string_view kMachineName = "AArch64";
inline constexpr std::uint16_t kRootElfMachine = elf::kMachineAArch64;
inline constexpr word kKernelImageOffset = UK_KERNEL_BASE;

}  // namespace ukernel::aarch64
