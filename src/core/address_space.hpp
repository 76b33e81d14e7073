// AddressSpace: a set of mapped frames. Frames are mapped through their capabilities; each frame
// capability maps its frame at most once (copy the capability to map a frame twice). The space
// remembers which capabilities are mapped in it, so that deleting either side unmaps.
//
// The space's memory holds its header and, after it, the pool its page tables are built from:
// page tables are paid for by whoever made the space, like any other kernel memory.
#pragma once

#include "core/arch.hpp"
#include "core/cap.hpp"

namespace ukernel::core {

struct AddressSpace : KernelObject {
  static constexpr unsigned kMinSizeBits = 12;
  static constexpr std::size_t kMaxMappings = 128;

  PageTable page_table;
  word paddr = 0;  // where the object lives: names it in traces, the same on every run
  std::uint32_t mapping_count = 0;
  Slot* mappings[kMaxMappings] = {};

  AddressSpace(void* pool, std::size_t pool_bytes, word pool_paddr)
      : page_table(pool, pool_bytes, pool_paddr) {}
};

// Creates an address space of 2^size_bits bytes at `paddr`.
AddressSpace* make_address_space(word paddr, unsigned size_bits);

Error invoke_address_space(AddressSpace& as, const Cap& cap, word label, Thread& caller);
Error invoke_frame(Slot& frame, word label, Thread& caller);

// Unmaps the frame that the capability in `frame` mapped, if any.
void unmap_frame(Slot& frame);
// A mapped frame capability moved from `from` to `to`.
void frame_slot_moved(Slot& from, Slot& to);

// The kernel's pointer to the user address `vaddr` of `as`, if a frame with `rights` is mapped
// there for `bytes` bytes (within one frame), else nullptr.
void* user_to_kernel(AddressSpace& as, word vaddr, std::size_t bytes);

void finalise_address_space(AddressSpace& as);

}  // namespace ukernel::core
