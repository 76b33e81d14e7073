// The hosted Machine: physical memory, the virtual clock, interrupt lines, console, and the
// software page table.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "arch/log.hpp"
#include "state.hpp"
#include "ukernel/hosted/devices.hpp"

namespace ukernel::arch {

namespace {
HostedState g_state;
constexpr word kFree = 0;
constexpr word kDeleted = 1;
constexpr unsigned kTypeShift = 3;
}  // namespace

HostedState& hosted() {
  return g_state;
}

std::uint64_t next_random() {
  // splitmix64: tiny, and every value follows from the seed.
  std::uint64_t z = (g_state.rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void* Machine::kernel_pointer(word paddr) {
  HostedState& s = g_state;
  if (paddr < kPhysicalBase || paddr - kPhysicalBase >= s.memory_bytes) {
    std::fprintf(stderr, "hosted: kernel_pointer(0x%llx) outside physical memory\n",
                 static_cast<unsigned long long>(paddr));
    std::abort();  // a kernel bug: the core only passes addresses it got from untyped memory
  }
  return s.memory + (paddr - kPhysicalBase);
}

void Machine::irq_mask(unsigned line) {
  if (line < kIrqLines) g_state.irq_masked[line] = true;
}

void Machine::irq_unmask(unsigned line) {
  if (line < kIrqLines) g_state.irq_masked[line] = false;
}

std::uint64_t Machine::now_ns() {
  return g_state.now_ns;
}

void Machine::timer_arm(std::uint64_t deadline_ns) {
  g_state.timer_deadline_ns = deadline_ns;
}

// Behind ukernel::log: server images call it, so formatting code stays out of them. It lives
// here, beside the console, so every program that runs a simulation links (and exports) it.
std::size_t vformat_to_buffer(char* out, std::size_t capacity, fmt::string_view text,
                              fmt::format_args args) {
  return fmt::vformat_to_n(out, capacity, text, args).size;
}

void Machine::console_write(std::string_view text) {
  g_state.console.append(text);
  if (g_state.echo_console) std::fwrite(text.data(), 1, text.size(), stdout);
}

// --- the software page table: open addressing over the space's pool ------------------------

HostedPageTable::HostedPageTable(void* pool, std::size_t pool_bytes, word)
    : entries_(static_cast<Entry*>(pool)), capacity_(pool_bytes / sizeof(Entry)) {}

HostedPageTable::Entry* HostedPageTable::find(word vpage) const {
  if (capacity_ == 0) return nullptr;
  std::size_t i = (vpage * 0x9e3779b97f4a7c15ull) % capacity_;
  for (std::size_t n = 0; n < capacity_; ++n, i = (i + 1) % capacity_) {
    if (entries_[i].vpage == vpage) return &entries_[i];
    if (entries_[i].vpage == kFree) return nullptr;
  }
  return nullptr;
}

bool HostedPageTable::map_page(word vaddr, word paddr, Rights rights, MemoryType type) {
  word vpage = (vaddr / Machine::kPageSize) + 2;  // +2 keeps clear of kFree and kDeleted
  if (capacity_ == 0) return false;
  std::size_t i = (vpage * 0x9e3779b97f4a7c15ull) % capacity_;
  for (std::size_t n = 0; n < capacity_; ++n, i = (i + 1) % capacity_) {
    if (entries_[i].vpage == kFree || entries_[i].vpage == kDeleted) {
      entries_[i] = {
          vpage, (paddr & ~(Machine::kPageSize - 1)) | word(rights) | (word(type) << kTypeShift)};
      return true;
    }
  }
  return false;
}

void HostedPageTable::unmap(word vaddr) {
  if (Entry* e = find((vaddr / Machine::kPageSize) + 2)) *e = {kDeleted, 0};
}

word HostedPageTable::lookup(word vaddr) const {
  const Entry* e = find((vaddr / Machine::kPageSize) + 2);
  if (e == nullptr) return kNoPhysical;
  return (e->ppage_and_rights & ~(Machine::kPageSize - 1)) + vaddr % Machine::kPageSize;
}

HostedPageTable::Translation HostedPageTable::translate(word vaddr) const {
  const Entry* e = find((vaddr / Machine::kPageSize) + 2);
  if (e == nullptr) return {};
  word low = e->ppage_and_rights & (Machine::kPageSize - 1);
  return {(e->ppage_and_rights & ~(Machine::kPageSize - 1)) + vaddr % Machine::kPageSize,
          Rights(low & word(Rights::kAll)), MemoryType(low >> kTypeShift)};
}

// Every line can be raised by message: a write of the line to the bus's doorbell (bus.cpp).
bool Machine::msi_message(unsigned line, word& address, word& data) {
  address = hosted::kMsiAddress;
  data = line;
  return true;
}

}  // namespace ukernel::arch
