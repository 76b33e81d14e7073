// The scenario's AArch64-only checks: none. The x86-64 ones are about I/O ports, which AArch64
// does not have (its devices are memory-mapped, reached through frame mappings); the root task's
// kIoPortsSlot is empty here.
#pragma once

#include "arch_scenario.hpp"

namespace ukernel::user {

inline void arch_checks(const Scenario&) {
  report_skip("ioports", "I/O port capabilities",
              "AArch64 has no I/O ports: devices are memory-mapped");
}

}  // namespace ukernel::user
