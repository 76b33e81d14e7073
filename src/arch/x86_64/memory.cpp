// Boot memory map (PVH), the frame allocator, the direct map and device mappings.
//
// Boot leaves physical [0, 1 GiB) mapped at 0, at UK_DIRECT_MAP and at UK_KERNEL_VMA (boot.S).
// memory_init() copies the PVH memory map, builds the list of free RAM ranges (RAM above 1 MiB,
// minus the kernel image and boot modules), extends the direct map over RAM above 1 GiB, and
// removes the identity map. The image window shrinks to the image itself, with per-part
// rights (protect_image). Device memory goes into the last GiB of the address space
// (PML4[511], PDPT[511]) as uncached 4 KiB pages.
#include <array>

#include "arch/console.hpp"
#include "cpu.hpp"
#include "paging.hpp"

extern "C" char __text_start[], __text_end[], __rodata_start[], __data_start[], __kernel_end[];

namespace ukernel::x86 {
namespace {

// struct hvm_start_info and hvm_memmap_table_entry from Xen's public/arch-x86/hvm/start_info.h.
struct HvmStartInfo {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint32_t flags;
  std::uint32_t nr_modules;
  std::uint64_t modlist_paddr;
  std::uint64_t cmdline_paddr;
  std::uint64_t rsdp_paddr;
  std::uint64_t memmap_paddr;
  std::uint32_t memmap_entries;
  std::uint32_t reserved;
};
struct HvmMemmapEntry {
  std::uint64_t addr;
  std::uint64_t size;
  std::uint32_t type;
  std::uint32_t reserved;
};
struct HvmModule {
  std::uint64_t paddr;
  std::uint64_t size;
  std::uint64_t cmdline_paddr;
  std::uint64_t reserved;
};
constexpr std::uint32_t kHvmMagic = 0x336ec578;

constexpr word kLargePage = word{1} << 21;
constexpr word kGiB = word{1} << 30;
constexpr word kDeviceBase = 0xffffffffc0000000;  // the last GiB
constexpr word kDeviceSize = kGiB - kPageSize;

std::array<MemoryRegion, 64> memory_map;
std::size_t memory_map_size = 0;

// Free RAM not yet handed out, as [begin, end) ranges, and frames handed back.
struct Range {
  word begin, end;
};
std::array<Range, 64> free_ranges;
std::size_t free_range_count = 0;
word free_list = kNoPhysical;  // linked through the first word of each frame
word free_list_count = 0;

acpi::Tables tables;

word kernel_root_paddr = 0;
bool nx = false;
word device_next = kDeviceBase;

constexpr word align_up(word v, word a) {
  return (v + a - 1) & ~(a - 1);
}
constexpr word align_down(word v, word a) {
  return v & ~(a - 1);
}

// Removes [begin, end) from the free ranges (splitting one if needed).
void exclude(word begin, word end) {
  for (std::size_t i = 0; i < free_range_count; ++i) {
    Range r = free_ranges[i];
    if (end <= r.begin || begin >= r.end) continue;
    if (begin > r.begin && end < r.end) {
      if (free_range_count == free_ranges.size()) panic("memory map has too many ranges");
      free_ranges[i].end = begin;
      free_ranges[free_range_count++] = Range{end, r.end};
      continue;
    }
    if (begin <= r.begin) free_ranges[i].begin = end < r.end ? end : r.end;
    if (end >= r.end) free_ranges[i].end = begin > r.begin ? begin : r.begin;
  }
}

// Physical memory as the ACPI reader sees it. Below 1 GiB it is the boot direct map. Above it
// (firmware puts the tables at the top of low RAM, past 1 GiB when the machine has more), each
// read maps the 2 MiB page it needs at its direct-map address, read-only, and unmaps it again
// unless it was mapped already: the page may hold more than the tables, and nothing else of
// it is the kernel's to touch.
struct BootMemory {
  bool read(word paddr, void* out, word size) const {
    auto* bytes = static_cast<std::uint8_t*>(out);
    while (size != 0) {
      word piece = kLargePage - paddr % kLargePage;
      if (piece > size) piece = size;
      if (paddr >= kMaxPhysical || !read_piece(paddr, bytes, piece)) return false;
      paddr += piece;
      bytes += piece;
      size -= piece;
    }
    return true;
  }

 private:
  static constexpr word kMaxPhysical = word{1} << 46;

  static bool read_piece(word paddr, std::uint8_t* out, word size) {
    if (paddr < kGiB) {
      __builtin_memcpy(out, physical_to_virtual(paddr), size);
      return true;
    }
    word vaddr = UK_DIRECT_MAP + align_down(paddr, kLargePage);
    word* pdpt_entry = &table_at(table_at(kernel_root_paddr)[table_index(vaddr, 3)] &
                                 pte::kAddressMask)[table_index(vaddr, 2)];
    if ((*pdpt_entry & pte::kPresent) == 0) {
      word pd = frame_alloc();
      if (pd == kNoPhysical) return false;
      *pdpt_entry = pd | pte::kPresent | pte::kWrite;
    }
    word& entry = table_at(*pdpt_entry & pte::kAddressMask)[table_index(vaddr, 1)];
    bool temporary = (entry & pte::kPresent) == 0;
    if (temporary) {
      entry =
          align_down(paddr, kLargePage) | pte::kPresent | pte::kLarge | (nx ? pte::kNoExecute : 0);
      invlpg(vaddr);
    }
    __builtin_memcpy(out, physical_to_virtual(paddr), size);
    if (temporary) {
      entry = 0;
      invlpg(vaddr);
    }
    return true;
  }
};

// Reads MADT, MCFG and HPET, then reserves their pages: a memory map may call them RAM (ACPI
// reclaimable memory is reported as type 3, but nothing requires firmware to keep them apart).
void read_acpi(word rsdp_paddr) {
  BootMemory memory;
  if (rsdp_paddr == 0 && acpi::find_rsdp(memory, rsdp_paddr) != acpi::Error::kOk)
    panic("ACPI: no RSDP (none in the PVH start info or the BIOS areas)");
  acpi::Error e = acpi::read_tables(memory, rsdp_paddr, tables);
  if (e != acpi::Error::kOk) panic(acpi::describe(e));
  if (tables.madt.io_apic_count == 0) panic("ACPI: the MADT lists no I/O APIC");
  for (std::size_t i = 0; i < tables.region_count; ++i) {
    const acpi::Region& r = tables.regions[i];
    exclude(align_down(r.paddr, kPageSize), align_up(r.paddr + r.size, kPageSize));
  }
}

void read_start_info(const HvmStartInfo& info) {
  if (info.magic != kHvmMagic) panic("no PVH start info (bad magic)");
  if (info.version < 1 || info.memmap_entries == 0) panic("PVH start info has no memory map");
  auto* entries = static_cast<const HvmMemmapEntry*>(physical_to_virtual(info.memmap_paddr));
  for (std::uint32_t i = 0; i < info.memmap_entries && memory_map_size < memory_map.size(); ++i) {
    memory_map[memory_map_size++] = MemoryRegion{entries[i].addr, entries[i].size, entries[i].type};
  }
  for (std::size_t i = 0; i < memory_map_size; ++i) {
    const MemoryRegion& region = memory_map[i];
    word begin = align_up(region.base > 0x100000 ? region.base : 0x100000, kPageSize);
    word end = align_down(region.base + region.size, kPageSize);
    if (region.type != kMemoryRam || begin >= end) continue;
    if (free_range_count == free_ranges.size()) break;
    free_ranges[free_range_count++] = Range{begin, end};
  }
  exclude(0x100000, reinterpret_cast<word>(__kernel_end) - UK_KERNEL_VMA);
  read_acpi(info.version >= 1 ? info.rsdp_paddr : 0);
  auto* modules = static_cast<const HvmModule*>(physical_to_virtual(info.modlist_paddr));
  for (std::uint32_t i = 0; i < info.nr_modules; ++i) {
    exclude(align_down(modules[i].paddr, kPageSize),
            align_up(modules[i].paddr + modules[i].size, kPageSize));
  }
}

// Maps RAM above the boot-time 1 GiB into the direct map with 2 MiB pages.
void extend_direct_map() {
  word root = kernel_root_paddr;
  for (std::size_t i = 0; i < memory_map_size; ++i) {
    const MemoryRegion& region = memory_map[i];
    if (region.type != kMemoryRam) continue;
    word begin = align_down(region.base, kLargePage);
    if (begin < kGiB) begin = kGiB;
    for (word p = begin; p < region.base + region.size; p += kLargePage) {
      word vaddr = UK_DIRECT_MAP + p;
      word* pdpt_entry = &table_at(table_at(root)[table_index(vaddr, 3)] &
                                   pte::kAddressMask)[table_index(vaddr, 2)];
      if ((*pdpt_entry & pte::kPresent) == 0) {
        word pd = frame_alloc();
        if (pd == kNoPhysical) panic("out of memory building the direct map");
        *pdpt_entry = pd | pte::kPresent | pte::kWrite;
      }
      word* pd = table_at(*pdpt_entry & pte::kAddressMask);
      pd[table_index(vaddr, 1)] =
          p | pte::kPresent | pte::kWrite | pte::kLarge | pte::kGlobal | (nx ? pte::kNoExecute : 0);
    }
  }
}

word image_physical(const char* symbol) {
  return reinterpret_cast<word>(symbol) - UK_KERNEL_VMA;
}

// Replaces the boot-time image window (all of [0, 1 GiB), read-write-execute) with one that maps
// only the image, in 4 KiB pages with the rights of each part: text read-execute, rodata
// read-only, everything else (boot, data, bss, stacks) read-write and no-execute. A stray write
// to code or jump into data is then a ring-0 fault, not silent corruption.
void protect_image() {
  word no_execute = nx ? pte::kNoExecute : 0;
  word text_begin = image_physical(__text_start);
  word text_end = align_up(image_physical(__text_end), kPageSize);
  word rodata_begin = image_physical(__rodata_start);
  word data_begin = image_physical(__data_start);
  word image_end = image_physical(__kernel_end);
  word pd = frame_alloc();
  if (pd == kNoPhysical) panic("out of memory protecting the kernel image");
  for (word chunk = 0; chunk < image_end; chunk += kLargePage) {
    word pt = frame_alloc();
    if (pt == kNoPhysical) panic("out of memory protecting the kernel image");
    for (unsigned i = 0; i < 512; ++i) {
      word p = chunk + i * kPageSize;
      word flags = pte::kPresent | pte::kGlobal;
      if (p >= text_begin && p < text_end) {
        // read and execute
      } else if (p >= rodata_begin && p < data_begin) {
        flags |= no_execute;
      } else {
        flags |= pte::kWrite | no_execute;
      }
      table_at(pt)[i] = p | flags;
    }
    table_at(pd)[table_index(UK_KERNEL_VMA + chunk, 1)] = pt | pte::kPresent | pte::kWrite;
  }
  word* pml4 = table_at(kernel_root_paddr);
  word* pdpt = table_at(pml4[table_index(UK_KERNEL_VMA, 3)] & pte::kAddressMask);
  pdpt[table_index(UK_KERNEL_VMA, 2)] = pd | pte::kPresent | pte::kWrite;
}

}  // namespace

std::span<const MemoryRegion> boot_memory_map() {
  return std::span<const MemoryRegion>(memory_map.data(), memory_map_size);
}

bool nx_enabled() {
  return nx;
}
word kernel_root() {
  return kernel_root_paddr;
}

word frame_alloc() {
  word frame = kNoPhysical;
  if (free_list != kNoPhysical) {
    frame = free_list;
    free_list = *table_at(frame);
    --free_list_count;
  } else {
    for (std::size_t i = 0; i < free_range_count; ++i) {
      if (free_ranges[i].begin < free_ranges[i].end) {
        frame = free_ranges[i].begin;
        free_ranges[i].begin += kPageSize;
        break;
      }
    }
  }
  if (frame != kNoPhysical) __builtin_memset(physical_to_virtual(frame), 0, kPageSize);
  return frame;
}

void frame_free(word paddr) {
  *table_at(paddr) = free_list;
  free_list = paddr;
  ++free_list_count;
}

word frames_free_count() {
  word count = free_list_count;
  for (std::size_t i = 0; i < free_range_count; ++i) {
    count += (free_ranges[i].end - free_ranges[i].begin) / kPageSize;
  }
  return count;
}

std::size_t release_free_memory(std::span<PhysicalRange> out, word keep_frames) {
  for (word i = 0; i < keep_frames; ++i) {
    word frame = frame_alloc();
    if (frame == kNoPhysical) break;
    frame_free(frame);
  }
  std::size_t count = 0;
  while (count < out.size()) {
    std::size_t largest = free_range_count;
    for (std::size_t i = 0; i < free_range_count; ++i) {
      word size = free_ranges[i].end - free_ranges[i].begin;
      if (size > 0 && (largest == free_range_count ||
                       size > free_ranges[largest].end - free_ranges[largest].begin)) {
        largest = i;
      }
    }
    if (largest == free_range_count) break;
    out[count++] = PhysicalRange{free_ranges[largest].begin, free_ranges[largest].end};
    free_ranges[largest].begin = free_ranges[largest].end;
  }
  return count;
}

word* walk(word root, word vaddr) {
  word* table = table_at(root);
  for (unsigned level = 3; level > 0; --level) {
    word entry = table[table_index(vaddr, level)];
    if ((entry & pte::kPresent) == 0 || (entry & pte::kLarge) != 0) return nullptr;
    table = table_at(entry & pte::kAddressMask);
  }
  return &table[table_index(vaddr, 0)];
}

void* map_device(word paddr, word size) {
  word offset = paddr & (kPageSize - 1);
  word pages = align_up(offset + size, kPageSize) / kPageSize;
  if (device_next + pages * kPageSize > kDeviceBase + kDeviceSize) panic("device window full");
  word vaddr = device_next;
  for (word i = 0; i < pages; ++i) {
    word* entry = walk_create(kernel_root_paddr, vaddr + i * kPageSize, pte::kPresent | pte::kWrite,
                              frame_alloc);
    if (entry == nullptr) panic("out of memory mapping a device");
    *entry = (align_down(paddr, kPageSize) + i * kPageSize) | pte::kPresent | pte::kWrite |
             pte::kCacheDisable | pte::kWriteThrough | pte::kGlobal | (nx ? pte::kNoExecute : 0);
    invlpg(vaddr + i * kPageSize);
  }
  device_next += pages * kPageSize;
  return reinterpret_cast<void*>(vaddr + offset);
}

const acpi::Tables& platform_tables() {
  return tables;
}

void memory_init(std::uint64_t start_info_paddr) {
  nx = (rdmsr(msr::kEfer) & kEferNxe) != 0;
  kernel_root_paddr = read_cr3() & pte::kAddressMask;
  if (start_info_paddr >= kGiB) panic("PVH start info above 1 GiB");
  read_start_info(*static_cast<const HvmStartInfo*>(physical_to_virtual(start_info_paddr)));
  extend_direct_map();
  // The PDPT of the device window must exist now: address spaces copy PML4 entries, not PDPTs,
  // so every kernel-half PDPT is created before the first address space.
  if (walk_create(kernel_root_paddr, kDeviceBase, pte::kPresent | pte::kWrite, frame_alloc) ==
      nullptr) {
    panic("out of memory for the device window");
  }
  protect_image();
  table_at(kernel_root_paddr)[0] = 0;  // drop the identity map: the lower half is user space
  write_cr3(kernel_root_paddr);
}

}  // namespace ukernel::x86
