// Kernel invariants, checked from outside a kernel entry: debug code for host tests and the
// system-call fuzzer (tests/fuzz/kernel_fuzz.cpp), never linked into a bare-metal kernel.
//
// How this works: starting from the root CNode, the checker finds every slot and object the
// kernel can still reach: a CNode's slots, a thread's own five slots, and the derivation tree's
// links (parent, children, siblings), which reach slots in any CNode. It then checks:
//   - the derivation tree: links are symmetric, empty slots are unlinked, a child of an untyped
//     capability lies in the untyped's memory below its watermark;
//   - reference counts: each object's cap_count equals the capabilities found that name it (an
//     object referenced from a slot the walk cannot reach shows up here);
//   - threads: a thread is in at most one queue (ready, an endpoint's senders or receivers, a
//     notification's waiters), in the one its state says, and every thread in a queue or current
//     is a live object; a runnable thread is current or ready (never lost); a thread blocked on
//     a reply is named by the reply capability it points to; bindings are symmetric.
#pragma once

#include <cstddef>
#include <string>

#include "core/cnode.hpp"

namespace ukernel::core::debug {

struct InvariantReport {
  std::string failure;      // the first broken invariant; empty if all hold
  std::size_t slots = 0;    // slots reached (empty ones included)
  std::size_t objects = 0;  // reference-counted objects reached
  std::size_t threads = 0;
  std::size_t untyped_children = 0;  // capabilities whose parent is an untyped capability
  bool ok() const { return failure.empty(); }
};

// Checks every invariant above for the objects reachable from `root` (the root task's CNode).
InvariantReport check_invariants(CNode& root);

}  // namespace ukernel::core::debug
