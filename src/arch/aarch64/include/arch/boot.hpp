// Boot on AArch64: what runs after the back-end has initialised the machine.
//
// boot.S enters aarch64_boot() at EL1 with the MMU on, on the kernel stack; it brings up, in
// order: the exception vectors (boot.S), the console, physical memory, the GIC and the timer,
// global constructors, then calls kernel_main().
#pragma once

#include <cstdint>
#include <string_view>

#include "arch/aarch64_layout.h"
#include "ukernel/abi.hpp"
#include "ukernel/elf.hpp"

namespace ukernel::aarch64 {

// Implemented by the image (the kernel core, or a scenario): interrupts are masked, the kernel's
// address space is active and the frame allocator is ready. Never returns: it ends by
// resume()ing a thread or idle()ing.
[[noreturn]] void kernel_main();

// Runs the constructors of globals (src/arch/baremetal/runtime.cpp); boot calls it once, before
// kernel_main().
void run_global_constructors();

// What kernel_main() of images that run the kernel core (src/arch/baremetal/kernel_main.cpp)
// needs to know about this machine: its name for the banner, the ELF machine of root images, and
// where the kernel image (with the boot modules' .modules section) is linked relative to its
// physical address.
inline constexpr std::string_view kMachineName = "AArch64";
inline constexpr std::uint16_t kRootElfMachine = elf::kMachineAArch64;
inline constexpr word kKernelImageOffset = UK_KERNEL_BASE;

}  // namespace ukernel::aarch64
