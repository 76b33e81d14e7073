// The timer device as the timer service sees it, on the hosted back-end: a virtual clock and
// one programmable deadline that raises the timer's interrupt line, in the page the description
// grants the timer ("timer": mmio(...)), mapped at kRegistersAddress.
#pragma once

#include <cstdint>

#include "system/runtime.hpp"
#include "ukernel/hosted/devices.hpp"

namespace system_example {

using ukernel::word;

class Clock {
 public:
  // Maps the granted registers; once per instance, before any other call.
  static void attach(Runtime& runtime) {
    auto window = runtime.map_mmio("timer", kRegistersAddress);
    if (!window.ok()) fail("timer: cannot map the timer's registers");
    registers_ = window.value();
  }
  static std::uint64_t now_ns() { return registers_.read64(word(Register::kNow)); }
  // Raises the interrupt once at `deadline_ns` (0: never), replacing any earlier deadline.
  static void set_deadline(std::uint64_t deadline_ns) {
    registers_.write64(word(Register::kDeadline), deadline_ns);
  }

 private:
  using Register = ukernel::hosted::TimerRegister;
  static constexpr word kRegistersAddress = 0x30000000;
  static inline ukernel::Mmio registers_;
};

}  // namespace system_example
