// The shape of the scenario's fault tests (scenario_root.cpp); each target's fault_cases.hpp
// lists its cases, which run in the fault-test thread of the second address space.
#pragma once

#include <string_view>

#include "ukernel/abi.hpp"

namespace ukernel::user {

struct FaultCase {
  std::string_view name;
  const char* entry;  // where the thread restarts
  const char* ip;     // the faulting instruction (nullptr: not checked)
  FaultKind kind;
  word address;  // kMemoryAccess: the data address; kCapability: the slot address; else 0
};

// A check of the scenario this architecture cannot make, printed as "skip: group: what (why)".
struct SkippedCheck {
  std::string_view group;
  std::string_view what;
  std::string_view why;
};

}  // namespace ukernel::user
