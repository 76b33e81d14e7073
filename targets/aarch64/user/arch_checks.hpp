// The scenario's AArch64-only checks: device memory and a device interrupt (device_checks.hpp).
// The x86-64 I/O-port checks have no counterpart: AArch64 has no I/O ports (its devices are
// memory-mapped, reached through frame mappings), and the root task's kIoPortsSlot is empty.
#pragma once

#include "arch_scenario.hpp"
#include "device_checks.hpp"

namespace ukernel::user {

inline void arch_checks(const Scenario& s) {
  report_skip("ioports", "I/O port capabilities",
              "AArch64 has no I/O ports: devices are memory-mapped");
  device_memory_checks(s, kRtcProbe);
  interrupt_checks(s);
}

}  // namespace ukernel::user
