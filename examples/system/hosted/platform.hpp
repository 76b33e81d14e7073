// The hosted back-end as the system description sees it: no I/O ports; device memory, where the
// simulated console and timer (include/ukernel/hosted/devices.hpp) are MMIO models of one page
// each, granted like any device's registers.
// Each back-end has a platform.hpp at this path; the build puts the right one on the include
// path, so the description itself never tests which back-end it is built for.
#pragma once

#include "arch/machine.hpp"
#include "description.hpp"
#include "ukernel/hosted/devices.hpp"

namespace system_example {

using ukernel::word;

struct Platform {
  static constexpr std::string_view kName = "hosted";
  static constexpr bool kHasIoPorts = false;
  static constexpr bool kHasMmio = true;
  static constexpr unsigned kIrqLines = ukernel::arch::Machine::kIrqLines;
  // What the timer service's nanoseconds are here, for figures measured with them (`bench ipc`):
  // the virtual clock (docs/hosted.md) advances a fixed 100 ns per kernel entry
  // (SimulationConfig::syscall_cost_ns), so a duration counts kernel entries, not time.
  // No cycle counter: `bench fsread`/`bench fswrite` move the bytes and say so.
  static constexpr bool kHasCycleCounter = false;
  static word cycle_count() { return 0; }
  // The supervisor's watchdog: a server that has not answered a ping for this long is hung.
  static constexpr std::uint64_t kPingTimeoutNs = 50'000'000;
  static constexpr std::string_view kClockMeasures =
      "hosted virtual clock: a synthetic 100 ns per kernel entry, not real time";

  // The console UART and its interrupt line.
  static constexpr sysdesc::Grant console_uart() {
    return sysdesc::mmio("uart", ukernel::hosted::kConsoleAddress, ukernel::hosted::kPageBytes);
  }
  static constexpr sysdesc::Grant console_irq() {
    return sysdesc::irq("uart-irq", ukernel::hosted::kConsoleIrqLine);
  }
  // The one-shot timer the timer service drives.
  static constexpr sysdesc::Grant timer_device() {
    return sysdesc::mmio("timer", ukernel::hosted::kTimerAddress, ukernel::hosted::kPageBytes);
  }
  static constexpr sysdesc::Grant timer_irq() {
    return sysdesc::irq("timer-irq", ukernel::hosted::kTimerIrqLine);
  }

  // The root task's side (examples/supervisor/boot.cpp): a server's page-table pool, and where
  // threads the supervisor starts in its own space get their IPC buffers. Threads run on the
  // simulation's fibers: no stack pages, stack pointer 0.
  static constexpr unsigned kAddressSpaceBits = 16;  // room for a 4 MiB block session
  static constexpr word kRootThreadArea = 0x40000000;
  static constexpr word kThreadStackPages = 0;
  static constexpr word entry_stack(word) { return 0; }

  // Power-off: the host ends a hosted run (when its input ends); no device to do it.
  static constexpr sysdesc::Grant power_off_ports() { return {}; }
  static constexpr bool can_power_off(word) { return false; }
  static ukernel::Error power_off(word) { return ukernel::Error::kIllegalOperation; }
};

}  // namespace system_example
