// Kernel invariants, checked from outside a kernel entry: debug code for host tests, the
// system-call fuzzer (tests/fuzz/kernel_fuzz.cpp) and the bare-metal hostile image (its kernel
// checks them when the root task exits: src/arch/baremetal/root_exit_invariants.cpp). Never
// linked into another bare-metal kernel.
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
// It allocates nothing: its tables live in scratch memory the caller gives (the host overload
// allocates it), so the same code runs in a freestanding kernel.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "core/cnode.hpp"

namespace ukernel::core::debug {

// The first broken invariant, kept in the report itself (empty: all hold).
class FailureText {
 public:
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {text_, size_}; }
  const char* c_str() const { return text_; }
  // Sets the text to `what` followed by `detail` unless a failure is already recorded.
  void set_once(std::string_view what, std::string_view detail = {});
  friend bool operator==(const FailureText& f, std::string_view text) { return f.view() == text; }

 private:
  char text_[112] = {};
  std::size_t size_ = 0;
};

struct InvariantReport {
  FailureText failure;      // the first broken invariant; empty if all hold
  std::size_t slots = 0;    // slots reached (empty ones included)
  std::size_t objects = 0;  // reference-counted objects reached
  std::size_t threads = 0;
  std::size_t untyped_children = 0;  // capabilities whose parent is an untyped capability
  bool scratch_too_small = false;    // the check could not finish (failure says so too)
  bool ok() const { return failure.empty(); }
};

// Checks every invariant above for the objects reachable from `root` (the root task's CNode),
// with its tables in `scratch` (any alignment). Too little scratch memory: scratch_too_small,
// and the failure "checker: scratch memory too small".
InvariantReport check_invariants(CNode& root, std::span<std::byte> scratch);

// The host's: allocates the scratch memory, more until it is enough (invariants_host.cpp).
InvariantReport check_invariants(CNode& root);

}  // namespace ukernel::core::debug
