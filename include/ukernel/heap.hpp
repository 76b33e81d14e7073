// A per-server heap carved from memory the server was given (a frame mapped in its space).
//
// First fit over an address-ordered free list, coalescing on free. No hidden allocation and no
// global state: a server owns its Heap object, so a restarted server starts with a fresh one.
// Freeing a pointer the heap did not hand out (or freeing twice) is a caller bug: it is caught
// (free returns false) rather than corrupting the heap.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ukernel {

class Heap {
 public:
  static constexpr std::size_t kAlignment = 16;

  Heap(void* memory, std::size_t bytes) {
    auto base = reinterpret_cast<std::uintptr_t>(memory);
    std::uintptr_t start = (base + kAlignment - 1) & ~(kAlignment - 1);
    std::size_t usable = bytes > start - base ? (bytes - (start - base)) & ~(kAlignment - 1) : 0;
    if (usable >= 2 * sizeof(Block)) {
      free_ = reinterpret_cast<Block*>(start);
      free_->size = usable;
      free_->next = nullptr;
      begin_ = start;
      end_ = start + usable;
    }
  }

  // `bytes` of memory aligned to kAlignment, or nullptr if no free block is large enough.
  void* allocate(std::size_t bytes) {
    if (bytes == 0 || bytes > end_ - begin_) return nullptr;
    std::size_t need = round_up(bytes + sizeof(Block));
    for (Block** link = &free_; *link != nullptr; link = &(*link)->next) {
      Block* b = *link;
      if (b->size < need) continue;
      if (b->size - need >= 2 * sizeof(Block)) {  // split: the tail stays free
        auto* rest = reinterpret_cast<Block*>(reinterpret_cast<std::uintptr_t>(b) + need);
        rest->size = b->size - need;
        rest->next = b->next;
        *link = rest;
        b->size = need;
      } else {
        *link = b->next;
      }
      b->next = allocated();
      used_ += b->size;
      return b + 1;
    }
    return nullptr;
  }

  // Returns the block to the heap; false (and no change) if `p` is not a live allocation.
  bool free(void* p) {
    if (p == nullptr) return true;
    auto addr = reinterpret_cast<std::uintptr_t>(p);
    if (addr < begin_ + sizeof(Block) || addr >= end_ || addr % kAlignment != 0) return false;
    auto* b = reinterpret_cast<Block*>(addr - sizeof(Block));  // from the range-checked address
    if (b->next != allocated() || b->size < sizeof(Block) ||
        b->size > end_ - reinterpret_cast<std::uintptr_t>(b))
      return false;
    used_ -= b->size;
    Block** link = &free_;
    while (*link != nullptr && *link < b)
      link = &(*link)->next;
    b->next = *link;
    *link = b;
    merge_with_next(b);
    // Merge with the previous free block, if it ends where b starts.
    for (Block* prev = free_; prev != nullptr && prev != b; prev = prev->next) {
      if (prev->next == b) {
        merge_with_next(prev);
        break;
      }
    }
    return true;
  }

  std::size_t used() const { return used_; }
  std::size_t capacity() const { return end_ - begin_; }
  // Free blocks (1 when nothing is allocated: everything coalesced).
  std::size_t free_blocks() const {
    std::size_t n = 0;
    for (Block* b = free_; b != nullptr; b = b->next)
      ++n;
    return n;
  }

 private:
  struct alignas(kAlignment) Block {
    std::size_t size;  // including this header
    Block* next;       // next free block, or kAllocated
  };
  // The `next` of an allocated block: never a valid free-list pointer.
  static Block* allocated() { return reinterpret_cast<Block*>(std::uintptr_t{1}); }

  static std::size_t round_up(std::size_t n) { return (n + kAlignment - 1) & ~(kAlignment - 1); }
  static void merge_with_next(Block* b) {
    auto end = reinterpret_cast<std::uintptr_t>(b) + b->size;
    if (b->next != nullptr && reinterpret_cast<std::uintptr_t>(b->next) == end) {
      b->size += b->next->size;
      b->next = b->next->next;
    }
  }

  Block* free_ = nullptr;
  std::uintptr_t begin_ = 0;
  std::uintptr_t end_ = 0;
  std::size_t used_ = 0;
};

}  // namespace ukernel
