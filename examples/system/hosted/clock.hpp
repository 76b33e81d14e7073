// The timer device as the timer service sees it, on the hosted back-end: a virtual clock and
// one programmable deadline that raises the timer's interrupt line.
#pragma once

#include <cstdint>

#include "ukernel/hosted/devices.hpp"

namespace system_example {

using ukernel::word;

class Clock {
 public:
  static std::uint64_t now_ns() {
    return ukernel::hosted::device_read(kDevice, word(ukernel::hosted::TimerRegister::kNow));
  }
  // Raises the interrupt once at `deadline_ns` (0: never), replacing any earlier deadline.
  static void set_deadline(std::uint64_t deadline_ns) {
    ukernel::hosted::device_write(kDevice, word(ukernel::hosted::TimerRegister::kDeadline),
                                  deadline_ns);
  }

 private:
  static constexpr auto kDevice = ukernel::hosted::Device::kTimer;
};

}  // namespace system_example
