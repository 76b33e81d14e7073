// Page-table entry bits and the walk shared by the kernel mappings (memory.cpp) and user
// address spaces (page_table.cpp).
#pragma once

#include <cstdint>

#include "arch/memory.hpp"

namespace ukernel::x86 {

namespace pte {
inline constexpr word kPresent = 1u << 0;
inline constexpr word kWrite = 1u << 1;
inline constexpr word kUser = 1u << 2;
inline constexpr word kWriteThrough = 1u << 3;
inline constexpr word kCacheDisable = 1u << 4;
inline constexpr word kLarge = 1u << 7;
inline constexpr word kGlobal = 1u << 8;
inline constexpr word kNoExecute = word{1} << 63;
inline constexpr word kAddressMask = 0x000ffffffffff000;
}  // namespace pte

inline word* table_at(word paddr) {
  return static_cast<word*>(physical_to_virtual(paddr));
}

// Index of `vaddr` in the table at `level` (3 = PML4 .. 0 = page table).
inline unsigned table_index(word vaddr, unsigned level) {
  return static_cast<unsigned>((vaddr >> (12 + 9 * level)) & 0x1ff);
}

// The entry for `vaddr` in the page table (level 0) under `root`, or nullptr if a table on the
// way is missing or a large page is in the way.
word* walk(word root, word vaddr);

// As walk(), but creates missing tables with `table_flags`, taking zeroed frames from
// `allocate()` (which returns kNoPhysical when it has none left: walk then returns nullptr).
template <class Allocate>
word* walk_create(word root, word vaddr, word table_flags, Allocate&& allocate) {
  word* table = table_at(root);
  for (unsigned level = 3; level > 0; --level) {
    word& entry = table[table_index(vaddr, level)];
    if ((entry & pte::kPresent) == 0) {
      word frame = allocate();
      if (frame == kNoPhysical) return nullptr;
      entry = frame | table_flags;
    } else if ((entry & pte::kLarge) != 0) {
      return nullptr;
    }
    table = table_at(entry & pte::kAddressMask);
  }
  return &table[table_index(vaddr, 0)];
}

// Whether EFER.NXE is on (the no-execute bit may be set).
bool nx_enabled();
// The kernel's own PML4; every address space copies its upper half.
word kernel_root();

void memory_init(std::uint64_t start_info_paddr);

}  // namespace ukernel::x86
