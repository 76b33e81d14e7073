// The AArch64 back-end (QEMU virt) as the system description sees it: device memory and GIC
// lines, no I/O ports. The console is the PL011 UART (its page at 0x09000000 as device memory,
// SPI 1 as line 1); the timer service has no device of its own: virt's only spare timer counts
// seconds (the PL031), so the kernel lends it the EL1 physical timer as a line (the last one,
// kIrqHandlerSetDeadline; docs/aarch64.md), and the time is the counter EL0 may read (clock.hpp).
// Each back-end has a platform.hpp at this path; the build puts the right one on the include
// path.
//
// The kernel finds the devices in the device tree and hands the root task a device untyped for
// exactly the PL011's and the PL031's pages; the addresses here are virt's, as a board
// description names them. On a machine whose device tree disagrees, the supervisor's boot stops
// with the grant's carve error instead of mapping some other device.
#pragma once

#include "description.hpp"
#include "ukernel/caps.hpp"

namespace system_example {

using ukernel::word;

struct Platform {
  static constexpr std::string_view kName = "aarch64";
  static constexpr bool kHasIoPorts = false;
  static constexpr bool kHasMmio = true;
  // SPIs 0..111, then the deadline line (arch::Machine::kIrqLines).
  static constexpr unsigned kIrqLines = 113;
  static constexpr unsigned kDeadlineLine = 112;
  // What the timer service's nanoseconds are here, for figures measured with them (`bench ipc`):
  // run-system runs QEMU with -icount shift=0, so the generic timer's counter advances one
  // nanosecond's worth per guest instruction: a duration counts instructions, not time.
  static constexpr std::string_view kClockMeasures =
      "QEMU -icount clock: 1 ns per guest instruction, so this counts instructions";
  // The cycle counter for `bench fsread`/`bench fswrite`: the generic timer's virtual count
  // (EL0 may read it), in the units the kernel counts its halted time in
  // (ukernel::debug_idle_ticks(), counted across `wfi`), which the shell subtracts.
  static constexpr bool kHasCycleCounter = true;
  static word cycle_count() {
    word count;
    asm volatile("isb; mrs %0, cntvct_el0" : "=r"(count));
    return count;
  }
  // The supervisor's watchdog, as on x86-64 (the guest's clock runs in real time while it
  // halts waiting for QEMU's disk I/O).
  static constexpr std::uint64_t kPingTimeoutNs = 5'000'000'000;

  // The console UART and its interrupt line (SPI 1: INTID 33).
  static constexpr sysdesc::Grant console_uart() {
    return sysdesc::mmio("uart", 0x09000000, 0x1000);
  }
  static constexpr sysdesc::Grant console_irq() { return sysdesc::irq("uart-irq", 1); }
  // The timer service's deadline timer: only its line; no registers to grant.
  static constexpr sysdesc::Grant timer_device() { return {}; }
  static constexpr sysdesc::Grant timer_irq() { return sysdesc::irq("timer-irq", kDeadlineLine); }

  // The root task's side (examples/supervisor/boot.cpp), as on x86-64 (the bare-metal user
  // layout is shared: boot modules at 0x40000000, the loader's scratch page at 0x30000000).
  static constexpr unsigned kAddressSpaceBits = 16;
  static constexpr word kRootThreadArea = 0x60000000;
  static constexpr word kThreadStackPages = 4;
  // The stack pointer a thread's entry function expects: 16-byte aligned, as at a call.
  static constexpr word entry_stack(word top) { return top; }

  // Power-off: the kernel's semihosting exit (status 33, the normal power-off), through the
  // root task's IrqControl capability, which only the supervisor holds (kIrqControlPowerOff).
  static constexpr sysdesc::Grant power_off_ports() { return {}; }
  static constexpr bool can_power_off(word) { return true; }
  static ukernel::Error power_off(word) { return ukernel::root_task::kIrqControl.power_off(); }
};

}  // namespace system_example
