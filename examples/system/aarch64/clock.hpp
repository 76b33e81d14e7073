// The timer device as the timer service sees it, on AArch64: the time from the generic timer's
// counter (CNTVCT_EL0, which the kernel lets EL0 read), deadlines through the kernel's deadline
// line, the EL1 physical timer, whose IrqHandler the description grants the timer service
// ("timer-irq"; kIrqHandlerSetDeadline). The counter's nanoseconds are computed as the kernel
// computes them, so a deadline the kernel reaches is one this clock has reached too.
#pragma once

#include <cstdint>

#include "system/layout.hpp"
#include "ukernel/caps.hpp"

namespace system_example {

using ukernel::word;
class Runtime;  // runtime.hpp

class Clock {
 public:
  // Nothing to map: the counter is a system register, the deadline a capability invocation.
  static void attach(Runtime&) {}
  static std::uint64_t now_ns() {
    std::uint64_t hz = frequency(), ticks = counter();
    return ticks / hz * kNsPerSecond + ticks % hz * kNsPerSecond / hz;
  }
  // Raises the interrupt once at `deadline_ns` (0: never), replacing any earlier deadline.
  static void set_deadline(std::uint64_t deadline_ns) {
    (void)ukernel::IrqHandler(grant_slot(kTimerIndex, "timer-irq")).set_deadline(deadline_ns);
  }

 private:
  static constexpr std::uint64_t kNsPerSecond = 1'000'000'000;
  static std::uint64_t counter() {
    std::uint64_t value;
    asm volatile("isb; mrs %0, cntvct_el0" : "=r"(value));
    return value;
  }
  static std::uint64_t frequency() {
    std::uint64_t value;
    asm volatile("mrs %0, cntfrq_el0" : "=r"(value));
    return value != 0 ? value : 1;
  }
};

}  // namespace system_example
