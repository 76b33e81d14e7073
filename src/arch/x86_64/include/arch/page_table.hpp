// PageTable: one user address space's 4-level x86-64 page tables.
//
// The lower half (user, [0, 2^47)) is private; the upper half is the kernel's, shared by copying
// the kernel PML4's upper 256 entries at construction (the PDPTs under them never change after
// boot). Rights: kRead maps read-only and executable, kRead|kWrite maps writable and no-execute
// (W^X: the ABI's Rights have no execute bit, so writability decides). kGrant is ignored.
//
// Table memory comes from the pool the core hands to the constructor (the memory that follows
// the AddressSpace object): the first page-aligned page of it holds the PML4, later pages the
// PDPTs, page directories and page tables, handed out in order. Tables are not freed one by one;
// the pool goes back to the core with the AddressSpace.
#pragma once

#include <cstddef>

#include "ukernel/abi.hpp"

namespace ukernel::x86 {

class PageTable {
 public:
  // `pool` is the kernel's pointer to `pool_size` bytes at physical address `pool_paddr`; it
  // need not be page-aligned. A pool without room for the PML4 makes a table that maps nothing.
  PageTable(void* pool, std::size_t pool_size, word pool_paddr);
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;

  // Maps the 4 KiB page at `vaddr` (user half, page-aligned) to `paddr`; false if the address is
  // not a user page, the rights are empty, the page is already mapped, or the pool is used up.
  [[nodiscard]] bool map(word vaddr, word paddr, Rights rights);
  void unmap(word vaddr);
  word lookup(word vaddr) const;

  // Physical address of the PML4 (what CR3 holds), or kNoPhysical for an unusable table.
  word root() const { return root_; }
  // Pool pages not yet used for tables.
  std::size_t pool_pages_left() const {
    return static_cast<std::size_t>(pool_end_ - pool_next_) / 4096;
  }

 private:
  word allocate_table();

  word pool_next_;  // physical address of the next free page-aligned pool page
  word pool_end_;   // end of the pool's last whole page
  word root_ = kNoPhysical;
};

}  // namespace ukernel::x86
