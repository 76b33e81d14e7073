// The host's invariant check (see invariants.hpp): the checker's scratch memory from the heap,
// doubled until the tables fit (up to 1 GiB: a walk that needs more is reported as it is).
#include <memory>

#include "core/debug/invariants.hpp"

namespace ukernel::core::debug {

InvariantReport check_invariants(CNode& root) {
  for (std::size_t bytes = std::size_t{1} << 20;; bytes *= 2) {
    std::unique_ptr<std::byte[]> scratch(new std::byte[bytes]);
    InvariantReport report = check_invariants(root, std::span(scratch.get(), bytes));
    if (!report.scratch_too_small || bytes >= std::size_t{1} << 30) return report;
  }
}

}  // namespace ukernel::core::debug
