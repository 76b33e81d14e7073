// The x86-64 back-end as the system description sees it: I/O ports (reached through IoPorts
// capabilities, docs/x86_64.md), device memory, the I/O APIC's interrupt lines. The
// console is COM1 (a 16550 at 0x3f8, ISA IRQ 4 = I/O APIC pin 4); the timer service's clock is
// the PIT (ports 0x40-0x43; ISA IRQ 0 arrives at I/O APIC pin 2, as on every PC since the
// APIC: QEMU's q35 has the usual interrupt source override) plus the TSC, which it calibrates
// against the PIT (clock.hpp). Each back-end has a platform.hpp at this path; the build puts
// the right one on the include path.
#pragma once

#include "description.hpp"
#include "ukernel/caps.hpp"

namespace system_example {

using ukernel::word;

struct Platform {
  static constexpr std::string_view kName = "x86_64";
  static constexpr bool kHasIoPorts = true;
  static constexpr bool kHasMmio = true;
  static constexpr unsigned kIrqLines = 24;  // the I/O APIC's pins (arch::Machine::kIrqLines)
  // What the timer service's nanoseconds are here, for figures measured with them (`bench ipc`):
  // run-system runs QEMU with -icount shift=0, so the TSC and the PIT advance one nanosecond per
  // guest instruction: a duration counts instructions, not time.
  static constexpr std::string_view kClockMeasures =
      "QEMU -icount clock: 1 ns per guest instruction, so this counts instructions";
  // The cycle counter for `bench fsread`/`bench fswrite`: the TSC (user mode may read it). Under
  // -icount shift=0 it advances one tick per guest instruction while the guest runs; the ticks
  // the kernel spent halted (ukernel::debug_idle_ticks()) are subtracted.
  static constexpr bool kHasCycleCounter = true;
  static word cycle_count() {
    std::uint32_t low, high;
    asm volatile("rdtsc" : "=a"(low), "=d"(high));
    return word{high} << 32 | low;
  }
  // The supervisor's watchdog: a server that has not answered a ping for this long is hung.
  // Longer than hosted's 50 ms because this clock also runs, in real time, while the guest
  // halts waiting for QEMU to do its disk I/O (-icount sleep=on): fs mounting (it reads the
  // whole FAT) or a shell reading a file of a few MiB waits on hundreds of requests, each as
  // slow as the host is busy, and must not be taken for a hang.
  static constexpr std::uint64_t kPingTimeoutNs = 5'000'000'000;

  // The console UART and its interrupt line.
  static constexpr sysdesc::Grant console_uart() { return sysdesc::io_ports("uart", 0x3f8, 8); }
  static constexpr sysdesc::Grant console_irq() { return sysdesc::irq("uart-irq", 4); }
  // The timer service's deadline timer: PIT channel 0 and the mode/command port.
  static constexpr sysdesc::Grant timer_device() { return sysdesc::io_ports("timer", 0x40, 4); }
  static constexpr sysdesc::Grant timer_irq() { return sysdesc::irq("timer-irq", 2); }

  // The root task's side (examples/supervisor/boot.cpp). A server's address space needs page
  // tables for four regions (image, IPC buffer, stack, shared region): 64 KiB of pool.
  static constexpr unsigned kAddressSpaceBits = 16;
  // Threads the supervisor starts in its own space: IPC buffer and stack pages from here on
  // (above the boot modules at 0x40000000 and the loader's scratch page at 0x30000000).
  static constexpr word kRootThreadArea = 0x60000000;
  static constexpr word kThreadStackPages = 4;
  // The stack pointer a thread's entry function expects: as if called (rsp + 8 aligned).
  static constexpr word entry_stack(word top) { return top - 8; }

  // Power-off: QEMU's isa-debug-exit device; writing 0x10 ends QEMU with exit status 33, the
  // normal power-off (tests/qemu/run-qemu.sh). Only the supervisor holds a capability for it.
  static constexpr sysdesc::Grant power_off_ports() {
    return sysdesc::io_ports("power-off", 0xf4, 4);
  }
  static constexpr bool can_power_off(word ports_slot) { return ports_slot != 0; }
  static ukernel::Error power_off(word ports_slot) {
    return ukernel::IoPorts(ports_slot).write8(0xf4, 0x10);
  }
};

}  // namespace system_example
