// User address spaces on AArch64: a 4-level TTBR0 translation table with 4 KiB pages, tagged
// with an ASID.
//
// Tables come from the pool the core passes in (the memory after the AddressSpace object) and
// go back to it with the object. Rights: kRead -> read-only, executable at EL0; kRead|kWrite ->
// read-write, never executable (W^X: the ABI has no execute right). Device pages (map_device)
// are never executable. No user page is executable at EL1 (PXN), and the kernel half is not
// accessible from EL0 at all.
//
// ASIDs: each table gets an ASID when it is first activated in the current generation; when
// the 16-bit ASIDs run out, the whole TLB is flushed and a new generation starts, so an ASID is
// never shared by two live spaces and a deleted space's stale entries die at the next flush.
#pragma once

#include <cstddef>

#include "ukernel/abi.hpp"

namespace ukernel::aarch64 {

class PageTable {
 public:
  PageTable(void* pool, std::size_t pool_size, word pool_paddr);

  bool map(word vaddr, word paddr, Rights rights);
  // Maps one page of device registers (Device-nGnRnE, never executable) for a user-mode driver.
  bool map_device(word vaddr, word paddr, Rights rights);
  // Maps one page of RAM Normal Non-cacheable (never executable), for a device that does not
  // snoop caches (a kUncached frame).
  bool map_uncached(word vaddr, word paddr, Rights rights);
  void unmap(word vaddr);
  word lookup(word vaddr) const;

  // The root table's physical address (kNoPhysical if the pool had no room for it).
  word root() const { return root_; }
  // Loads TTBR0 with this table (assigning an ASID first if it has none in this generation).
  void activate();

 private:
  word allocate_table();
  bool set_entry(word vaddr, word paddr, Rights rights, word attributes);
  word* walk(word vaddr, bool create);
  void flush(word vaddr) const;

  word root_;
  word pool_next_;
  word pool_end_;
  word asid_ = 0;
  word generation_ = 0;
};

}  // namespace ukernel::aarch64
