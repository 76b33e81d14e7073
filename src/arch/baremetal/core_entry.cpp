// The kernel core's entry points on the bare-metal back-ends: the back-end's trap handlers
// (arch/entry.hpp) call into core::handle_* and resume whatever core::current() names afterwards
// (nullptr: idle).
//
// One system-wide policy sits here too, because the core has no notion of "the machine stops":
// the root task ends the system. Its kAbort (its `main` returning) exits QEMU with success for
// code 0 and failure otherwise (and when the image's check_at_root_exit() finds the kernel's
// state broken); any other fault of the root task (it has no supervisor, so the fault stops it)
// is a failure.
//
// The functions are the back-end's (ukernel::backend, arch/backend.hpp), defined once here.
#include "arch/backend.hpp"
#include "arch/console.hpp"
#include "arch/entry.hpp"
#include "arch/root_task.hpp"
#include "core/kernel.hpp"
#include "core/thread.hpp"

namespace ukernel {
namespace {

using namespace backend;

core::Thread* root_thread = nullptr;

[[noreturn]] void root_task_stopped(FaultKind kind, word address) {
  baremetal::dump_trace();  // a trace build's ring, at power-off
  if (kind == FaultKind::kAbort) {
    bool intact = baremetal::check_at_root_exit();
    print("root task: exit ", address, "\n");
    exit_qemu(address == 0 && intact ? ExitCode::kSuccess : ExitCode::kFailure);
  }
  print("root task: fault kind=", static_cast<word>(kind), " address=", hex(address),
        " ip=", hex(root_thread->context.instruction_pointer()), "\n");
  exit_qemu(ExitCode::kFailure);
}

// The root task has no fault endpoint: a fault stops it (the core says so on the console), and
// nobody could restart it.
bool root_task_stopped() {
  return root_thread != nullptr && root_thread->state == ThreadState::kInactive;
}

// Nothing is runnable: the CPU idles. Out of line, off the system-call path.
[[gnu::noinline]] Context* nothing_runs() {
  if (root_task_stopped()) {
    print("root task: stopped by a fault\n");
    baremetal::dump_trace();
    exit_qemu(ExitCode::kFailure);
  }
  // The core forgets the active space when it deletes it; the CPU must not idle on its tables
  // (their memory may be retyped), so it idles in the kernel's own.
  if (core::kernel().active_space == nullptr) activate_kernel_space();
  return nullptr;
}

Context* next_context() {
  core::Thread* t = core::current();
  return t != nullptr ? &t->context : nothing_runs();
}

}  // namespace

void baremetal::set_root_thread(core::Thread* thread) {
  root_thread = thread;
}

Context* backend::on_syscall(Context& current) {
  if (current.get(SysReg::kStatus) == static_cast<word>(Syscall::kAbort) &&
      core::current() == root_thread) {
    root_task_stopped(FaultKind::kAbort, current.get(SysReg::kMr0));
  }
  core::handle_syscall();
  return next_context();
}

Context* backend::on_user_fault(Context&, const UserFault& fault) {
  bool root = core::current() == root_thread;
  core::handle_fault(fault.kind, fault.address);
  if (root && root_task_stopped()) root_task_stopped(fault.kind, fault.address);
  return next_context();
}

Context* backend::on_timer(Context*) {
  core::handle_timer();
  return next_context();
}

Context* backend::on_irq(Context*, unsigned line) {
  core::handle_interrupt(line);
  return next_context();
}

}  // namespace ukernel
