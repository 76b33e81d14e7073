// Kernel entry and exit on AArch64: the events the back-end delivers to the kernel, and the two
// ways it leaves the kernel.
//
// How control flows: entry.S saves the user registers into the running thread's Context and
// calls the back-end's dispatcher (traps.cpp) on a fresh kernel stack, which calls one of the
// on_* functions below. Those are implemented by the kernel core (or by a scenario image before
// the core is linked in). Each returns the Context to run next (the same one, another one, or
// nullptr for "nothing is runnable"); the back-end then resume()s it or idle()s. The address
// space to run it in must already be active (Machine::activate).
#pragma once

#include "arch/context.hpp"
#include "ukernel/abi.hpp"

namespace ukernel::aarch64 {

// A synchronous exception raised by user code: the core turns it into a fault message.
struct UserFault {
  FaultKind kind;
  word address;   // the faulting address for kMemoryAccess (FAR_EL1), else 0
  word syndrome;  // ESR_EL1
};

// Implemented by the kernel core (or the scenario image). `current` is the interrupted thread's
// Context; for on_timer and on_irq it is nullptr when the CPU was idle.
Context* on_syscall(Context& current);
Context* on_user_fault(Context& current, const UserFault& fault);
Context* on_timer(Context* current);
// Device interrupt `line` (SPI n). The line is masked on delivery; the core unmasks it
// (Machine::irq_unmask) once the driver has acknowledged the interrupt.
Context* on_irq(Context* current, unsigned line);

// Runs `context` at EL0 (pstate sanitised first: EL0t, interrupts enabled, only NZCV kept).
[[noreturn]] void resume(Context& context);
// Makes the kernel's own tables the active address space: the CPU idles in them once the core
// has deleted the space that was active (its tables' memory may be retyped).
void activate_kernel_space();
// Waits until an interrupt handler returns a Context to resume.
[[noreturn]] void idle();
// Waits for one interrupt and handles it (boot-time tests only).
void wait_for_interrupt_once();

}  // namespace ukernel::aarch64
