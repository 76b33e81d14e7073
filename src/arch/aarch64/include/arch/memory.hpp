// Physical memory on AArch64: the kernel's view of it (the TTBR1 direct map), the frame
// allocator, and what is left for the kernel core.
//
// RAM is found in the device tree QEMU places at the start of RAM (0x40000000); memory_init()
// hands out the RAM above the kernel image (the device tree and the image are never handed out).
#pragma once

#include <cstddef>
#include <span>

#include "arch/aarch64_layout.h"
#include "ukernel/abi.hpp"

namespace ukernel::fdt {
struct Platform;
}

namespace ukernel::aarch64 {

// What the device tree says about the machine (GIC, GICv2m, PCIe, ...); nullptr if the blob
// was refused (memory_init() said why).
const fdt::Platform* platform();

inline constexpr word kPageSize = 4096;
// Physical [0, 2 GiB) is mapped at UK_KERNEL_BASE + paddr (boot.S): device memory below
// kRamBase, then 1 GiB of RAM (the kernel image with per-part rights, the rest read-write).
inline constexpr word kRamBase = 0x40000000;

inline void* physical_to_virtual(word paddr) {
  return reinterpret_cast<void*>(UK_KERNEL_BASE + paddr);
}
inline word virtual_to_physical(const void* pointer) {
  return reinterpret_cast<word>(pointer) - UK_KERNEL_BASE;
}

// Reads the device tree's memory node and sets up the frame allocator.
void memory_init();
// The RAM the kernel uses: the device tree's first memory range, clipped to the first GiB (the
// part the boot tables map).
word ram_base();
word ram_size();

// A zeroed 4 KiB frame, or kNoPhysical.
word frame_alloc();
void frame_free(word paddr);
word frames_free_count();

struct PhysicalRange {
  word begin, end;
};
// Hands every free range to the caller (largest first), keeping `keep_frames` frames for the
// back-end; the allocator owns nothing else afterwards.
std::size_t release_free_memory(std::span<PhysicalRange> out, word keep_frames);

// The translation table TTBR0 holds when no user space is active: it maps nothing.
word empty_table();

}  // namespace ukernel::aarch64
