// Interrupts as notifications. IrqControl hands out one IrqHandler capability per line; the
// handler names a notification, which the kernel signals (with that capability's badge) when
// the line fires. The line stays masked until the driver acknowledges it.
#pragma once

#include "core/arch.hpp"
#include "core/cap.hpp"

namespace ukernel::core {

struct IrqLine {
  bool claimed = false;
  std::uint32_t handler_caps = 0;  // IrqHandler capabilities (and copies) naming this line
  Slot notification;               // a copy of the notification capability to signal
};

// An IrqHandler capability was made or deleted. Deleting the last one releases the line: it is
// masked, forgets its notification, and IrqControl can hand it out again.
void irq_handler_cap_added(unsigned line);
void irq_handler_cap_deleted(unsigned line);

Error invoke_irq_control(const Cap& cap, word label, Thread& caller);
Error invoke_irq_handler(const Cap& cap, word label, Thread& caller);

// Called by the back-end when device line `line` fires (the timer is separate).
void deliver_interrupt(unsigned line);

}  // namespace ukernel::core
