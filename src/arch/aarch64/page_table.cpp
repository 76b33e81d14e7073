// User address spaces: construct, map, unmap, lookup, activate (see arch/page_table.hpp).
#include "arch/page_table.hpp"

#include "arch/context.hpp"
#include "arch/entry.hpp"
#include "arch/memory.hpp"
#include "cpu.hpp"

extern "C" char aarch64_empty_table[];

namespace ukernel::aarch64 {
namespace {

// Translation table descriptor bits (4 KiB granule).
namespace desc {
constexpr word kValid = 1;
constexpr word kTableOrPage = 2;
constexpr word kDevice = word{1} << 2;        // AttrIndx 1: Device-nGnRnE (MAIR_EL1, boot.S)
constexpr word kNonCacheable = word{2} << 2;  // AttrIndx 2: Normal Non-cacheable (boot.S)
constexpr word kUser = word{1} << 6;          // AP[1]: EL0 may access
constexpr word kReadOnly = word{1} << 7;      // AP[2]
constexpr word kInnerShareable = word{3} << 8;
constexpr word kAccessed = word{1} << 10;   // AF: no access-flag faults
constexpr word kNotGlobal = word{1} << 11;  // tagged with the ASID
constexpr word kPrivilegedNoExecute = word{1} << 53;
constexpr word kUserNoExecute = word{1} << 54;
constexpr word kAddressMask = 0x0000fffffffff000;
}  // namespace desc

constexpr word kAsidCount = word{1} << 16;
word asid_generation = 1;
word next_asid = 1;

word* table_at(word paddr) {
  return static_cast<word*>(physical_to_virtual(paddr));
}

bool is_user_page(word vaddr) {
  return vaddr < kUserEnd && (vaddr & (kPageSize - 1)) == 0;
}

// A page about to become executable at EL0 was written through the data side (the root image
// loader, or a thread through another mapping): clean it from the data cache to the point of
// unification and drop stale instructions, as the architecture requires before executing it.
void make_executable(word paddr) {
  word line = word{4} << ((UK_READ_SYSREG(ctr_el0) >> 16) & 0xf);  // DminLine, in bytes
  auto begin = reinterpret_cast<word>(physical_to_virtual(paddr));
  for (word p = begin; p < begin + kPageSize; p += line)
    asm volatile("dc cvau, %0" ::"r"(p) : "memory");
  dsb_ish();
  asm volatile("ic ialluis" ::: "memory");
  dsb_ish();
}

}  // namespace

word empty_table() {
  return virtual_to_physical(aarch64_empty_table);
}

void activate_kernel_space() {
  UK_WRITE_SYSREG(ttbr0_el1, empty_table());
  asm volatile("isb" ::: "memory");
}

PageTable::PageTable(void*, std::size_t pool_size, word pool_paddr)
    : pool_next_((pool_paddr + kPageSize - 1) & ~(kPageSize - 1)),
      pool_end_((pool_paddr + pool_size) & ~(kPageSize - 1)) {
  // The pool is reached through the direct map (like every table), so the pool pointer itself
  // is not needed.
  if (pool_end_ < pool_next_) pool_end_ = pool_next_;
  root_ = allocate_table();
}

word PageTable::allocate_table() {
  if (pool_next_ >= pool_end_) return kNoPhysical;
  word table = pool_next_;
  pool_next_ += kPageSize;
  __builtin_memset(table_at(table), 0, kPageSize);
  return table;
}

// The level-3 entry of `vaddr`, creating missing tables if `create` (nullptr: none, or no pool).
word* PageTable::walk(word vaddr, bool create) {
  if (root_ == kNoPhysical) return nullptr;
  word* table = table_at(root_);
  for (unsigned shift = 39; shift > 12; shift -= 9) {
    word& entry = table[(vaddr >> shift) & 511];
    if ((entry & desc::kValid) == 0) {
      if (!create) return nullptr;
      word next = allocate_table();
      if (next == kNoPhysical) return nullptr;
      entry = next | desc::kValid | desc::kTableOrPage;
    }
    table = table_at(entry & desc::kAddressMask);
  }
  return &table[(vaddr >> 12) & 511];
}

bool PageTable::map(word vaddr, word paddr, Rights rights) {
  bool writable = has_rights(rights, Rights::kWrite);
  return set_entry(vaddr, paddr, rights,
                   desc::kInnerShareable | (writable ? desc::kUserNoExecute : 0));
}

bool PageTable::map_device(word vaddr, word paddr, Rights rights) {
  return set_entry(vaddr, paddr, rights, desc::kDevice | desc::kUserNoExecute);
}

bool PageTable::map_uncached(word vaddr, word paddr, Rights rights) {
  return set_entry(vaddr, paddr, rights,
                   desc::kNonCacheable | desc::kInnerShareable | desc::kUserNoExecute);
}

// Writes the level-3 entry of a user page (`attributes`: memory type, shareability, UXN), which
// must be empty; false if it is not, or the arguments are not a user page. A page EL0 may execute
// is made coherent for instruction fetches first.
bool PageTable::set_entry(word vaddr, word paddr, Rights rights, word attributes) {
  if (!is_user_page(vaddr) || (paddr & (kPageSize - 1)) != 0 || rights == Rights::kNone) {
    return false;
  }
  word* entry = walk(vaddr, true);
  if (entry == nullptr || (*entry & desc::kValid) != 0) return false;
  word flags = desc::kValid | desc::kTableOrPage | desc::kUser | desc::kAccessed |
               desc::kNotGlobal | desc::kPrivilegedNoExecute | attributes;
  if (!has_rights(rights, Rights::kWrite)) flags |= desc::kReadOnly;
  if ((flags & desc::kUserNoExecute) == 0) make_executable(paddr);
  *entry = (paddr & desc::kAddressMask) | flags;
  dsb_ishst();  // the walker sees the entry before the thread next runs
  return true;
}

void PageTable::unmap(word vaddr) {
  if (vaddr >= kUserEnd) return;
  word* entry = walk(vaddr, false);
  if (entry == nullptr) return;
  *entry = 0;
  flush(vaddr);
}

// Removes `vaddr` of this space from the TLB. A space without an ASID of the current generation
// has no TLB entries (the generation change flushed them all).
void PageTable::flush(word vaddr) const {
  dsb_ishst();
  if (asid_ == 0 || generation_ != asid_generation) return;
  word operand = asid_ << 48 | ((vaddr >> 12) & ((word{1} << 44) - 1));
  asm volatile("tlbi vae1is, %0" ::"r"(operand) : "memory");
  dsb_ish();
  isb();
}

word PageTable::lookup(word vaddr) const {
  if (vaddr >= kUserEnd) return kNoPhysical;
  word* entry = const_cast<PageTable*>(this)->walk(vaddr, false);
  if (entry == nullptr || (*entry & desc::kValid) == 0) return kNoPhysical;
  return (*entry & desc::kAddressMask) | (vaddr & (kPageSize - 1));
}

void PageTable::activate() {
  if (root_ == kNoPhysical) {
    UK_WRITE_SYSREG(ttbr0_el1, empty_table());
    isb();
    return;
  }
  if (asid_ == 0 || generation_ != asid_generation) {
    if (next_asid == kAsidCount) {
      // Out of ASIDs: forget every tagged entry, and every space asks again when it next runs.
      ++asid_generation;
      next_asid = 1;
      asm volatile("tlbi vmalle1is" ::: "memory");
      dsb_ish();
    }
    asid_ = next_asid++;
    generation_ = asid_generation;
  }
  UK_WRITE_SYSREG(ttbr0_el1, root_ | asid_ << 48);
  isb();
}

}  // namespace ukernel::aarch64
