// Boot on x86-64: what runs after the back-end has initialised the machine.
//
// boot.S enters x86_boot() in 64-bit mode on the kernel stack; it brings up, in order: the
// console, GDT/TSS/IDT and syscall MSRs, CPU protection features (WP, NX, SMEP, SMAP; x87/SSE
// disabled for user code), physical memory and the direct map, the interrupt controllers and the
// timer calibration; then runs global constructors and calls kernel_main().
#pragma once

#include <cstdint>
#include <string_view>

#include "arch/x86_layout.h"
#include "ukernel/abi.hpp"
#include "ukernel/elf.hpp"

namespace ukernel::x86 {

// Implemented by the image (the kernel core, or a scenario): interrupts are off, the kernel's
// address space is active, and boot_memory_map() describes RAM. Never returns: it ends by
// resume()ing a thread or idle()ing.
[[noreturn]] void kernel_main();

// Runs the constructors of globals (src/arch/baremetal/runtime.cpp); boot calls it once, before
// kernel_main().
void run_global_constructors();

// What kernel_main() of images that run the kernel core (src/arch/baremetal/kernel_main.cpp)
// needs to know about this machine: its name for the banner, the ELF machine of root images, and
// where the kernel image (with the boot modules' .modules section) is linked relative to its
// physical address.
inline constexpr std::string_view kMachineName = "x86-64";
inline constexpr std::uint16_t kRootElfMachine = elf::kMachineX86_64;
inline constexpr word kKernelImageOffset = UK_KERNEL_VMA;

// What boot found, for the banner and the docs.
struct CpuFeatures {
  bool nx, smep, smap, pcid;
};
CpuFeatures cpu_features();

}  // namespace ukernel::x86
