// Physical memory on x86-64: the boot memory map, the direct map and a frame allocator.
//
// All of physical RAM is mapped at UK_DIRECT_MAP (0xffff800000000000 + paddr) in every address
// space's kernel half, so the kernel reaches any frame by adding a constant. The frame allocator
// hands out 4 KiB frames of RAM from the PVH memory map that hold neither the kernel image nor
// boot modules; the back-end uses it for its own page tables and the root task's image, then
// hands the rest to the kernel core as untyped memory (release_free_memory).
#pragma once

#include <cstdint>
#include <span>

#include "arch/x86_layout.h"
#include "ukernel/abi.hpp"
#include "ukernel/acpi.hpp"

namespace ukernel::x86 {

inline constexpr word kPageSize = 4096;

struct MemoryRegion {
  word base;
  word size;
  std::uint32_t type;  // 1 = RAM, as in the E820 map
};
inline constexpr std::uint32_t kMemoryRam = 1;

// The memory map PVH reported, copied into the kernel at boot.
std::span<const MemoryRegion> boot_memory_map();

inline void* physical_to_virtual(word paddr) {
  return reinterpret_cast<void*>(paddr + UK_DIRECT_MAP);
}

// A zeroed 4 KiB frame, or kNoPhysical when memory is exhausted.
[[nodiscard]] word frame_alloc();
void frame_free(word paddr);
word frames_free_count();

// Free RAM handed over to the kernel core (which makes it untyped memory).
struct PhysicalRange {
  word begin, end;
};
// Moves every free range into `out` (largest first), except `keep_frames` frames that stay with
// the frame allocator; returns how many ranges it wrote. Call once, after the back-end has
// allocated what it needs for good.
std::size_t release_free_memory(std::span<PhysicalRange> out, word keep_frames);

// The ACPI tables boot read (ukernel/acpi.hpp: MADT, MCFG, HPET), found through PVH's
// rsdp_paddr, else the BIOS areas; boot panics without them. The pages they occupy are taken out
// of the free RAM before the frame allocator runs, so they are never handed out.
const acpi::Tables& platform_tables();

// Maps `size` bytes of device memory at `paddr` uncached into the kernel half; returns the
// kernel's pointer to it.
void* map_device(word paddr, word size);

}  // namespace ukernel::x86
