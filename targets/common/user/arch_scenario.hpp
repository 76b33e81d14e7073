// What the shared scenario (scenario_root.cpp) lends the checks of what only some architectures
// have (x86-64: I/O ports). Each target's user/arch_checks.hpp defines arch_checks(), which the
// scenario runs after the shared checks; a target with nothing to check prints why as "skip:"
// lines there, so the shared source never tests the architecture.
#pragma once

#include <string_view>

#include "fault_case.hpp"
#include "log.hpp"
#include "root_kit.hpp"

namespace ukernel::user {

struct Scenario {
  RootKit* root;
  // Prints "ok: group: what" or "FAIL: group: what" and counts the check.
  void (*report)(bool ok, std::string_view group, std::string_view what);
  // Restarts the fault-test thread at `c` and checks the fault message its supervisor receives.
  bool (*fault)(const FaultCase& c);
  word peer_cnode;      // the fault-test thread's CSpace (a CNode in the root's CSpace)
  word peer_free_slot;  // an empty slot of that CNode
};

// Prints "skip: group: what (why)" for a check this architecture cannot make (not counted).
inline void report_skip(std::string_view group, std::string_view what, std::string_view why) {
  Line line;
  line << "skip: " << group << ": " << what << " (" << why << ")";
  line.end();
}

}  // namespace ukernel::user
