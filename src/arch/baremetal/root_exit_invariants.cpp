// check_at_root_exit() of the hostile image (arch/root_task.hpp; targets/common/user/
// hostile_root.cpp): after a million random system calls the kernel checks its own invariants
// with the checker the host tests and the system-call fuzzer use (core/debug/invariants.hpp),
// and prints one line: "invariants: ok: ..." or "invariants: FAIL: ...".
//
// The root task is the current thread, inside its kAbort entry before the core handles it: a
// state between kernel entries, the one the checker expects.
#include <cstddef>

#include "arch/backend.hpp"
#include "arch/console.hpp"
#include "arch/root_task.hpp"
#include "core/debug/invariants.hpp"
#include "core/kernel.hpp"
#include "core/thread.hpp"

namespace ukernel {
namespace {

// The checker's tables: the hostile root task's objects need a few hundred KiB (reachable slots
// are counted in tens of thousands); too little says so rather than passing.
alignas(64) std::byte scratch[4 << 20];

}  // namespace

bool baremetal::check_at_root_exit() {
  core::Thread* root = core::current();
  if (root == nullptr || root->cspace() == nullptr) {
    backend::print("invariants: FAIL: the root task has no CSpace\n");
    return false;
  }
  core::debug::InvariantReport report = core::debug::check_invariants(*root->cspace(), scratch);
  if (!report.ok()) {
    backend::print("invariants: FAIL: ", report.failure.c_str(), "\n");
    return false;
  }
  backend::print("invariants: ok: ", report.slots, " slots, ", report.objects, " objects, ",
                 report.threads, " threads, ", report.untyped_children, " untyped children\n");
  return true;
}

}  // namespace ukernel
