// User address spaces: construct, map, unmap, lookup (see arch/page_table.hpp).
#include "arch/page_table.hpp"

#include "arch/context.hpp"
#include "cpu.hpp"
#include "paging.hpp"

namespace ukernel::x86 {
namespace {

constexpr word kUserTableFlags = pte::kPresent | pte::kWrite | pte::kUser;

bool is_user_page(word vaddr) {
  return vaddr < kUserEnd && (vaddr & (kPageSize - 1)) == 0;
}

}  // namespace

PageTable::PageTable(void*, std::size_t pool_size, word pool_paddr)
    : pool_next_((pool_paddr + kPageSize - 1) & ~(kPageSize - 1)),
      pool_end_((pool_paddr + pool_size) & ~(kPageSize - 1)) {
  // The pool is reached through the direct map (like every table), so the pool pointer itself
  // is not needed.
  if (pool_end_ < pool_next_) pool_end_ = pool_next_;
  root_ = allocate_table();
  if (root_ == kNoPhysical) return;
  const word* kernel = table_at(kernel_root());
  word* table = table_at(root_);
  for (unsigned i = 256; i < 512; ++i)
    table[i] = kernel[i];
}

word PageTable::allocate_table() {
  if (pool_next_ >= pool_end_) return kNoPhysical;
  word table = pool_next_;
  pool_next_ += kPageSize;
  __builtin_memset(table_at(table), 0, kPageSize);
  return table;
}

bool PageTable::map(word vaddr, word paddr, Rights rights) {
  if (root_ == kNoPhysical || !is_user_page(vaddr) || (paddr & (kPageSize - 1)) != 0 ||
      rights == Rights::kNone) {
    return false;
  }
  word* entry = walk_create(root_, vaddr, kUserTableFlags, [this] { return allocate_table(); });
  if (entry == nullptr || (*entry & pte::kPresent) != 0) return false;
  word flags = pte::kPresent | pte::kUser;
  if (has_rights(rights, Rights::kWrite)) {
    flags |= pte::kWrite | (nx_enabled() ? pte::kNoExecute : 0);
  }
  *entry = (paddr & pte::kAddressMask) | flags;
  return true;
}

void PageTable::unmap(word vaddr) {
  if (root_ == kNoPhysical || vaddr >= kUserEnd) return;
  word* entry = walk(root_, vaddr);
  if (entry == nullptr) return;
  *entry = 0;
  // Another address space's stale entry is flushed by the CR3 write that activates it.
  if ((read_cr3() & pte::kAddressMask) == root_) invlpg(vaddr);
}

word PageTable::lookup(word vaddr) const {
  if (root_ == kNoPhysical || vaddr >= kUserEnd) return kNoPhysical;
  word* entry = walk(root_, vaddr);
  if (entry == nullptr || (*entry & pte::kPresent) == 0) return kNoPhysical;
  return (*entry & pte::kAddressMask) | (vaddr & (kPageSize - 1));
}

}  // namespace ukernel::x86
