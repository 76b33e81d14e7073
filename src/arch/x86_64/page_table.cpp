// User address spaces: construct, map, unmap, lookup, PCIDs (see arch/page_table.hpp).
#include "arch/page_table.hpp"

#include <array>

#include "arch/context.hpp"
#include "arch/entry.hpp"
#include "cpu.hpp"
#include "paging.hpp"

namespace ukernel::x86 {
namespace {

constexpr word kUserTableFlags = pte::kPresent | pte::kWrite | pte::kUser;

constexpr std::uint64_t kCr4Pcide = 1u << 17;
constexpr word kCr3NoFlush = word{1} << 63;
constexpr std::size_t kPcids = 4095;  // 1..4095; 0 is the kernel's table and spaces without one

PcidSupport support{};
// The PCIDs no live space holds.
std::array<std::uint16_t, kPcids> free_pcids;
std::size_t free_pcid_count = 0;

bool is_user_page(word vaddr) {
  return vaddr < kUserEnd && (vaddr & (kPageSize - 1)) == 0;
}

// Runs `action` in the space `cr3` names, then goes back to the current one, flushing neither
// (every space has the same kernel half, so the kernel keeps running across the switch).
template <class Action>
void in_space(word cr3, Action&& action) {
  word current = read_cr3();
  write_cr3(cr3);
  action();
  write_cr3(current | kCr3NoFlush);
}

}  // namespace

void activate_kernel_space() {
  write_cr3(kernel_root());
}

void pcid_init() {
  if ((cpuid(1).ecx & (1u << 17)) == 0) return;
  support.pcid = true;
  support.invpcid = cpuid(0).eax >= 7 && (cpuid(7).ebx & (1u << 10)) != 0;
  write_cr4(read_cr4() | kCr4Pcide);
  for (std::size_t i = 0; i < kPcids; ++i)
    free_pcids[i] = static_cast<std::uint16_t>(kPcids - i);  // PCID 1 is handed out first
  free_pcid_count = kPcids;
}

PcidSupport pcid_support() {
  return support;
}

PageTable::PageTable(void*, std::size_t pool_size, word pool_paddr)
    : pool_next_((pool_paddr + kPageSize - 1) & ~(kPageSize - 1)),
      pool_end_((pool_paddr + pool_size) & ~(kPageSize - 1)) {
  // The pool is reached through the direct map (like every table), so the pool pointer itself
  // is not needed.
  if (pool_end_ < pool_next_) pool_end_ = pool_next_;
  root_ = allocate_table();
  cr3_ = root_ != kNoPhysical ? root_ : kernel_root();
  if (root_ == kNoPhysical) return;
  const word* kernel = table_at(kernel_root());
  word* table = table_at(root_);
  for (unsigned i = 256; i < 512; ++i)
    table[i] = kernel[i];
  if (free_pcid_count == 0) return;  // PCIDs off, or all taken: PCID 0, flushed on each switch
  word pcid = free_pcids[--free_pcid_count];
  // What an earlier holder of the PCID left in the TLB goes now: a CR3 load without the no-flush
  // bit flushes the PCID it loads. From then on the TLB holds only this space's entries for it.
  in_space(root_ | pcid, [] {});
  cr3_ = root_ | pcid | kCr3NoFlush;
}

PageTable::~PageTable() {
  if (root_ == kNoPhysical) return;
  if ((read_cr3() & pte::kAddressMask) == root_) write_cr3(kernel_root());
  if (pcid() != 0) free_pcids[free_pcid_count++] = static_cast<std::uint16_t>(pcid());
}

word PageTable::allocate_table() {
  if (pool_next_ >= pool_end_) return kNoPhysical;
  word table = pool_next_;
  pool_next_ += kPageSize;
  __builtin_memset(table_at(table), 0, kPageSize);
  return table;
}

bool PageTable::map_page(word vaddr, word paddr, Rights rights, bool device) {
  if (root_ == kNoPhysical || !is_user_page(vaddr) || (paddr & (kPageSize - 1)) != 0 ||
      rights == Rights::kNone) {
    return false;
  }
  word* entry = walk_create(root_, vaddr, kUserTableFlags, [this] { return allocate_table(); });
  if (entry == nullptr || (*entry & pte::kPresent) != 0) return false;
  word flags = pte::kPresent | pte::kUser;
  word no_execute = nx_enabled() ? pte::kNoExecute : 0;
  if (has_rights(rights, Rights::kWrite)) flags |= pte::kWrite | no_execute;
  if (device) flags |= pte::kCacheDisable | pte::kWriteThrough | no_execute;
  *entry = (paddr & pte::kAddressMask) | flags;
  return true;
}

void PageTable::unmap(word vaddr) {
  if (root_ == kNoPhysical || vaddr >= kUserEnd) return;
  word* entry = walk(root_, vaddr);
  if (entry == nullptr) return;
  *entry = 0;
  if ((read_cr3() & pte::kAddressMask) == root_) {
    invlpg(vaddr);  // the current PCID's entry
  } else if (pcid() != 0) {
    // Another space's entries outlive switches under its PCID. (Without one, the CR3 load that
    // activates the space flushes them.)
    if (support.invpcid) {
      invpcid_address(pcid(), vaddr);
    } else {
      in_space(cr3_, [vaddr] { invlpg(vaddr); });
    }
  }
}

word PageTable::lookup(word vaddr) const {
  if (root_ == kNoPhysical || vaddr >= kUserEnd) return kNoPhysical;
  word* entry = walk(root_, vaddr);
  if (entry == nullptr || (*entry & pte::kPresent) == 0) return kNoPhysical;
  return (*entry & pte::kAddressMask) | (vaddr & (kPageSize - 1));
}

}  // namespace ukernel::x86
