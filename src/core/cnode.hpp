// CNode: a table of capability slots. A thread's CSpace is one CNode; a capability address is
// an index into it. Slot 0 never holds a capability (address 0 means "none"), which is why the
// first 64 bytes of a CNode's memory can hold its header.
#pragma once

#include "core/cap.hpp"

namespace ukernel::core {

struct CNode : KernelObject {
  std::uint32_t size_bits = 0;

  std::size_t slot_count() const { return std::size_t{1} << size_bits; }
  // Slot `index`, or nullptr if the index is 0 or outside the CNode.
  Slot* slot(word index) {
    if (index == 0 || index >= slot_count()) return nullptr;
    return reinterpret_cast<Slot*>(this) + index;
  }
};
static_assert(sizeof(CNode) <= sizeof(Slot));

inline std::size_t cnode_bytes(unsigned size_bits) {
  return sizeof(Slot) << size_bits;
}

// Creates a CNode of 2^size_bits slots in zeroed memory.
CNode* make_cnode(void* memory, unsigned size_bits);

// The CNode invocations (Invocation::kCNode*), with `cnode` the invoked (destination) CNode.
Error invoke_cnode(CNode& cnode, const Cap& cap, word label, Thread& caller);

void finalise_cnode(CNode& cnode);

}  // namespace ukernel::core
