// Kernel entry and exit on x86-64: the events the back-end delivers to the kernel, and the two
// ways it leaves the kernel.
//
// How control flows: entry.S saves the user registers into the running thread's Context and
// calls the back-end's dispatcher on a fresh kernel stack, which calls one of the on_*
// functions below. Those are implemented by the kernel core (or by a scenario image before the
// core is linked in). Each returns the Context to run next (the same one, another one, or
// nullptr for "nothing is runnable"); the back-end then resume()s it or idle()s. The address
// space to run it in must already be active (Machine::activate).
#pragma once

#include "arch/context.hpp"
#include "ukernel/abi.hpp"

namespace ukernel::x86 {

// A synchronous exception raised by user code: the core turns it into a fault message.
struct UserFault {
  FaultKind kind;
  word address;     // the faulting data address for kMemoryAccess (CR2), else 0
  word vector;      // the x86 exception vector
  word error_code;  // the x86 error code (0 for vectors without one)
};

// Implemented by the kernel core (or the scenario image). `current` is the interrupted thread's
// Context; for on_timer and on_irq it is nullptr when the CPU was idle.
Context* on_syscall(Context& current);
Context* on_user_fault(Context& current, const UserFault& fault);
Context* on_timer(Context* current);
// Device interrupt `line` (an I/O APIC input). The line is masked on delivery; the core unmasks
// it (Machine::irq_unmask) once the driver has acknowledged the interrupt.
Context* on_irq(Context* current, unsigned line);

// Runs `context` in user mode. Registers are sanitised first (user segments, IF on, IOPL 0); a
// thread whose instruction pointer is outside the user half gets on_user_fault(kMemoryAccess)
// instead of running, so neither sysretq nor iretq can fault in ring 0.
[[noreturn]] void resume(Context& context);
// Makes the kernel's own tables the active address space: the CPU idles in them once the core
// has deleted the space that was active (its tables' memory may be retyped).
void activate_kernel_space();
// Waits with interrupts enabled until an interrupt handler returns a Context to resume.
[[noreturn]] void idle();
// Enables interrupts until one has been handled, then disables them (boot-time tests only).
void wait_for_interrupt_once();

}  // namespace ukernel::x86
