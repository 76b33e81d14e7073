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
//
// PCIDs (when the CPU has them, CR4.PCIDE): each space takes a process-context identifier
// (1..4095) when it is made and returns it when it is destroyed, so the TLB keeps a space's
// entries while other spaces run. Activation stays one CR3 load, with the no-flush bit: the
// PCID's old entries (from an earlier space that held it) were flushed when it was handed out.
// With more than 4095 spaces alive, the rest get PCID 0 and a CR3 load that flushes, as without
// PCIDs. unmap() invalidates the page in the current space with INVLPG; in another space with
// INVPCID (when the CPU has it), else with INVLPG after loading that space's CR3 for a moment.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ukernel/abi.hpp"

namespace ukernel::x86 {

class PageTable {
 public:
  // `pool` is the kernel's pointer to `pool_size` bytes at physical address `pool_paddr`; it
  // need not be page-aligned. A pool without room for the PML4 makes a table that maps nothing.
  PageTable(void* pool, std::size_t pool_size, word pool_paddr);
  // Returns the PCID; if the CPU is in this space, moves it to the kernel's table, since the
  // memory of these tables is about to be reused.
  ~PageTable();
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;

  // Maps the 4 KiB page at `vaddr` (user half, page-aligned) to `paddr`; false if the address is
  // not a user page, the rights are empty, the page is already mapped, or the pool is used up.
  [[nodiscard]] bool map(word vaddr, word paddr, Rights rights) {
    return map_page(vaddr, paddr, rights, false);
  }
  // As map(), for device memory: uncached (PCD|PWT: PAT entry 3, UC) and never executable.
  [[nodiscard]] bool map_device(word vaddr, word paddr, Rights rights) {
    return map_page(vaddr, paddr, rights, true);
  }
  // As map(), for RAM a device reads without snooping caches (a kUncached frame): the same
  // memory type, UC, and never executable.
  [[nodiscard]] bool map_uncached(word vaddr, word paddr, Rights rights) {
    return map_page(vaddr, paddr, rights, true);
  }
  void unmap(word vaddr);
  word lookup(word vaddr) const;

  // Physical address of the PML4, or kNoPhysical for an unusable table.
  word root() const { return root_; }
  // Makes this the CPU's address space (Machine::activate): one CR3 load, no branch, so the IPC
  // fast path's two switches per round trip cost what they did before PCIDs.
  void activate() const { asm volatile("mov %0, %%cr3" : : "r"(cr3_) : "memory"); }
  // The PCID (0: none).
  word pcid() const { return cr3_ & 0xfff; }
  // Pool pages not yet used for tables.
  std::size_t pool_pages_left() const {
    return static_cast<std::size_t>(pool_end_ - pool_next_) / 4096;
  }

 private:
  bool map_page(word vaddr, word paddr, Rights rights, bool device);
  word allocate_table();

  word pool_next_;  // physical address of the next free page-aligned pool page
  word pool_end_;   // end of the pool's last whole page
  word root_ = kNoPhysical;
  // What activate() loads: the PML4 (the kernel's for an unusable table), and with a PCID also
  // the PCID and the no-flush bit.
  word cr3_ = 0;
};

// Turns PCIDs on if the CPU has them (CPUID.1:ECX.PCID), using INVPCID if it has that too.
// Called once at boot, before the first PageTable is made, while CR3's low 12 bits are 0.
void pcid_init();
struct PcidSupport {
  bool pcid, invpcid;
};
PcidSupport pcid_support();

}  // namespace ukernel::x86
