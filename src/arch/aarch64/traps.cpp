// Trap dispatch: what each kernel entry from entry.S does, the EL1 exception report, and
// resume()/idle().
//
// From EL0: a synchronous exception is a system call (`svc`) or becomes a UserFault for the core
// (on_user_fault), an interrupt goes to on_timer/on_irq; the returned Context is resumed. From
// EL1 every exception is a kernel bug, reported with all registers and a frame-pointer
// backtrace; QEMU exits with ExitCode::kPanic.
#include <array>
#include <string_view>

#include "arch/console.hpp"
#include "arch/entry.hpp"
#include "arch/fpu.hpp"
#include "arch/interrupts.hpp"
#include "arch/machine.hpp"
#include "arch/memory.hpp"
#include "cpu.hpp"

extern "C" [[noreturn]] void aarch64_exit_to_user(ukernel::aarch64::Context* context);
extern "C" char kernel_stack_top[], kernel_stack_guard[];

namespace ukernel::aarch64 {
namespace {

// Exception classes (ESR_EL1.EC) the back-end tells apart.
namespace ec {
constexpr word kUnknown = 0x00;  // undefined instruction (also EL1 registers read from EL0)
constexpr word kWaitForInterrupt = 0x01;
constexpr word kFloatingPoint = 0x07;
constexpr word kIllegalState = 0x0e;
constexpr word kSvc = 0x15;
constexpr word kSystemRegister = 0x18;  // MSR/MRS/SYS trapped (DAIF from EL0, for instance)
constexpr word kInstructionAbortLower = 0x20;
constexpr word kInstructionAbortSame = 0x21;
constexpr word kPcAlignment = 0x22;
constexpr word kDataAbortLower = 0x24;
constexpr word kDataAbortSame = 0x25;
constexpr word kSpAlignment = 0x26;
constexpr word kBreakpointLower = 0x30;
constexpr word kSoftwareStepLower = 0x32;
constexpr word kWatchpointLower = 0x34;
constexpr word kBrk = 0x3c;
}  // namespace ec

// The user-mode fault an exception class stands for. AArch64 has no arithmetic fault: integer
// division by zero returns 0 and does not trap.
FaultKind fault_kind(word exception_class) {
  switch (exception_class) {
    case ec::kInstructionAbortLower:
    case ec::kDataAbortLower:
    case ec::kPcAlignment:
    case ec::kSpAlignment:
      return FaultKind::kMemoryAccess;
    case ec::kUnknown:
    case ec::kIllegalState:
      return FaultKind::kIllegalInstruction;
    case ec::kBrk:
    case ec::kBreakpointLower:
    case ec::kSoftwareStepLower:
    case ec::kWatchpointLower:
      return FaultKind::kBreakpoint;
    default:  // WFI, trapped system registers and the rest: a privileged operation
      return FaultKind::kProtection;
  }
}

Context* user_sync(Context& context) {
  word syndrome = UK_READ_SYSREG(esr_el1);
  word exception_class = syndrome >> 26;
  if (exception_class == ec::kSvc) return on_syscall(context);
  if (exception_class == ec::kFloatingPoint) {  // the thread's first FP/SIMD use since it lost it
    fpu_claim(context);
    return &context;
  }
  FaultKind kind = fault_kind(exception_class);
  word address = 0;
  if (kind == FaultKind::kMemoryAccess) {
    address = exception_class == ec::kSpAlignment ? context.sp : UK_READ_SYSREG(far_el1);
  }
  return on_user_fault(context, UserFault{kind, address, syndrome});
}

// Takes one pending interrupt from the GIC (current: the interrupted thread, nullptr if idle).
Context* take_interrupt(Context* current) {
  unsigned intid = gic_acknowledge();
  if (intid >= 1020) return current;  // spurious: nothing pending any more
  if (intid == kernel_timer_intid()) {
    timer_disarm();  // level-triggered: it would fire again until re-armed
    gic_end(intid);
    return on_timer(current);
  }
  if (intid == deadline_timer_intid()) {
    gic_mask(kDeadlineLine);  // stops the timer; the core unmasks the line on the driver's ack
    gic_end(intid);
    return on_irq(current, kDeadlineLine);
  }
  if (intid >= kFirstSpi && intid < kFirstSpi + kSpiLines) {
    gic_mask(intid - kFirstSpi);  // the core unmasks it once the driver acknowledged
    gic_end(intid);
    return on_irq(current, intid - kFirstSpi);
  }
  gic_end(intid);
  print("interrupt: unexpected INTID ", intid, "\n");
  return current;
}

constexpr std::array<std::string_view, 4> kVectorNames = {"synchronous", "IRQ", "FIQ", "SError"};

}  // namespace

void resume(Context& context) {
  context.pstate &= kUserPstateMask;  // EL0t, DAIF clear, only the condition flags kept
  aarch64_exit_to_user(&context);
}

namespace {
word halted_ticks = 0;  // idle_ticks(): counter ticks spent in idle()'s wfi
}  // namespace

word idle_ticks() {
  return halted_ticks;
}

void idle() {
  for (;;) {
    const word before = UK_READ_SYSREG(cntvct_el0);
    asm volatile("wfi" ::: "memory");
    halted_ticks += UK_READ_SYSREG(cntvct_el0) - before;
    if (Context* next = take_interrupt(nullptr)) resume(*next);
  }
}

void wait_for_interrupt_once() {
  asm volatile("wfi" ::: "memory");
  (void)take_interrupt(nullptr);
}

}  // namespace ukernel::aarch64

using namespace ukernel;
using namespace ukernel::aarch64;

extern "C" [[noreturn]] void aarch64_user_entry(Context* context, word kind) {
  Context* next = context;
  switch (kind) {
    case UK_ENTRY_SYNC:
      next = user_sync(*context);
      break;
    case UK_ENTRY_IRQ:
      next = take_interrupt(context);
      break;
    case UK_ENTRY_SERROR:
      next =
          on_user_fault(*context, UserFault{FaultKind::kMemoryAccess, 0, UK_READ_SYSREG(esr_el1)});
      break;
    default:  // FIQ: nothing is routed to FIQ
      break;
  }
  if (next != nullptr) resume(*next);
  idle();
}

// An exception at EL1: a kernel bug. `frame` holds the registers at the exception, with the
// interrupted sp in frame->sp (entry.S); it is on the panic stack, so a kernel stack overflow
// is reported too.
extern "C" [[noreturn]] void aarch64_kernel_exception(const Context* frame, word kind) {
  static bool reporting = false;
  if (reporting) exit_qemu(ExitCode::kPanic);  // the report itself faulted
  reporting = true;
  word syndrome = UK_READ_SYSREG(esr_el1);
  word fault_address = UK_READ_SYSREG(far_el1);
  auto guard = reinterpret_cast<word>(kernel_stack_guard);
  if (fault_address - guard < kPageSize) print("\nPANIC: kernel stack overflow");
  print("\nPANIC: EL1 exception: ", kVectorNames[kind % 4], kind < 4 ? " (SP_EL0)" : "",
        kind >= 8 ? " (from AArch32)" : "", " ESR=", hex(syndrome), " EC=", hex(syndrome >> 26),
        " FAR=", hex(fault_address), "\n");
  print("  pc=", hex(frame->pc), " pstate=", hex(frame->pstate), " sp=", hex(frame->sp), "\n");
  for (unsigned i = 0; i < 31; ++i) {
    print(i < 10 ? "  x" : " x", i, "=", hex(frame->x[i]), i % 4 == 3 || i == 30 ? "\n" : "");
  }
  // Frame records on the kernel stack: [x29] = caller's x29, [x29 + 8] = return address.
  print("  backtrace: ", hex(frame->pc));
  word fp = frame->x[29];
  auto stack_top = reinterpret_cast<word>(kernel_stack_top);
  for (unsigned depth = 0; depth < 16 && fp > guard + kPageSize && fp < stack_top && fp % 16 == 0;
       ++depth) {
    const auto* record = reinterpret_cast<const word*>(fp);
    print(" ", hex(record[1]));
    fp = record[0];
  }
  print("\n");
  exit_qemu(ExitCode::kPanic);
}
