// Trap dispatch: what each kernel entry from entry.S does, the ring-0 exception report, and
// resume()/idle().
//
// From user mode: an exception becomes a UserFault for the core (on_user_fault), an interrupt
// goes to on_timer/on_irq, a system call to on_syscall; the returned Context is resumed. From
// kernel mode: interrupts are expected only while idle; any exception is a kernel bug, reported
// with all registers and a frame-pointer backtrace, and QEMU exits with ExitCode::kPanic.
#include <array>
#include <string_view>

#include "arch/console.hpp"
#include "arch/entry.hpp"
#include "arch/fpu.hpp"
#include "arch/interrupts.hpp"
#include "arch/machine.hpp"
#include "cpu.hpp"
#include "cpu_local.hpp"

namespace ukernel::x86 {
namespace {

constexpr std::array<std::string_view, 32> kExceptionNames = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved",
    "#MF x87 error",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD error",
    "#VE virtualization",
    "#CP control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "#HV hypervisor",
    "#VC VMM communication",
    "#SX security",
    "reserved",
};

constexpr word kVectorDeviceNotAvailable = 7;
constexpr word kVectorPageFault = 14;

void print_register(std::string_view name, word value) {
  print("  ", name, "=", hex(value));
}

[[noreturn]] void kernel_exception(const Context& frame, std::string_view where) {
  std::string_view name = frame.vector < 32 ? kExceptionNames[frame.vector] : "interrupt";
  print("\nPANIC: ", where, " exception vector=", frame.vector, " (", name,
        ") error=", hex(frame.error_code), "\n");
  print_register("rip", frame.rip);
  print_register("cs", frame.cs);
  print_register("rflags", frame.rflags);
  print_register("rsp", frame.rsp);
  print_register("ss", frame.ss);
  print("\n");
  print_register("rax", frame.rax);
  print_register("rbx", frame.rbx);
  print_register("rcx", frame.rcx);
  print_register("rdx", frame.rdx);
  print("\n");
  print_register("rsi", frame.rsi);
  print_register("rdi", frame.rdi);
  print_register("rbp", frame.rbp);
  print("\n");
  print_register("r8", frame.r8);
  print_register("r9", frame.r9);
  print_register("r10", frame.r10);
  print_register("r11", frame.r11);
  print("\n");
  print_register("r12", frame.r12);
  print_register("r13", frame.r13);
  print_register("r14", frame.r14);
  print_register("r15", frame.r15);
  print("\n");
  print_register("cr2", read_cr2());
  print_register("cr3", read_cr3());
  print_register("cr0", read_cr0());
  print_register("cr4", read_cr4());
  print("\nbacktrace (addr2line -e <image>):\n  ", hex(frame.rip), "\n");
  // Each frame: [rbp] = caller's rbp, [rbp+8] = return address. Only follow kernel addresses.
  word rbp = frame.rbp;
  for (int depth = 0; depth < 16 && rbp >= UK_KERNEL_VMA && (rbp & 7) == 0; ++depth) {
    const auto* link = reinterpret_cast<const word*>(rbp);
    if (link[1] == 0) break;
    print("  ", hex(link[1]), "\n");
    rbp = link[0];
  }
  exit_qemu(ExitCode::kPanic);
}

UserFault classify(const Context& frame) {
  FaultKind kind;
  switch (frame.vector) {
    case 0:   // #DE
    case 4:   // #OF
    case 16:  // #MF
    case 19:  // #XM
      kind = FaultKind::kArithmetic;
      break;
    case 1:  // #DB
    case 3:  // #BP
      kind = FaultKind::kBreakpoint;
      break;
    case 5:  // #BR (never in 64-bit code)
    case 6:  // #UD (#NM never gets here: x86_user_trap hands the thread the FPU)
      kind = FaultKind::kIllegalInstruction;
      break;
    case 12:  // #SS: stack outside the canonical range
    case 14:  // #PF
    case 17:  // #AC
      kind = FaultKind::kMemoryAccess;
      break;
    default:  // #GP (privileged instruction, I/O port, non-canonical address), #TS, #NP, #CP
      kind = FaultKind::kProtection;
      break;
  }
  word address = frame.vector == kVectorPageFault ? read_cr2() : 0;
  return UserFault{kind, address, frame.vector, frame.error_code};
}

// An interrupt: acknowledge it and tell the core. Returns the Context to run next.
Context* interrupt(Context* current, word vector) {
  if (vector == UK_VECTOR_TIMER) {
    lapic_eoi();
    return on_timer(current);
  }
  if (vector >= UK_VECTOR_IRQ_BASE && vector < UK_VECTOR_IRQ_BASE + kIrqLines) {
    auto line = static_cast<unsigned>(vector - UK_VECTOR_IRQ_BASE);
    if (!irq_line_acknowledge(line)) return current;  // a masked MSI line: now pending
    return on_irq(current, line);
  }
  // The APIC's spurious vector needs no EOI; the masked PIC's spurious IRQ 7/15 none either
  // (for 15 the master saw a real IRQ 2 and would want one, but it is masked too).
  return current;
}

[[noreturn]] void run(Context* next);

// A thread whose instruction pointer is outside the user half: neither sysretq (non-canonical
// rcx) nor iretq may fault in ring 0, so the thread faults instead.
[[noreturn, gnu::noinline]] void refuse_kernel_ip(Context& context) {
  UserFault fault{FaultKind::kMemoryAccess, context.rip, kVectorPageFault, 0};
  run(on_user_fault(context, fault));
}

// resume(), inlined into the system-call path (the hottest caller).
[[noreturn, gnu::always_inline]] inline void exit_to_user(Context& context) {
  if (context.rip >= kUserEnd) refuse_kernel_ip(context);
  // sysretq takes the selectors from STAR and the flags saved from r11 at the `syscall`, which
  // the kernel never changes while the context stays UK_ENTRY_SYSCALL (Context::set_reg and
  // start() switch it to iretq); only an iretq exit needs the frame sanitised.
  if (context.vector != UK_ENTRY_SYSCALL) {
    context.cs = UK_SEL_USER_CODE;
    context.ss = UK_SEL_USER_DATA;
    context.rflags = (context.rflags & kUserFlagsMask) | kFlagsInterrupt | kFlagsReserved1;
  }
  cpu_local().leave(&context);  // leave_to_user, or fpu_leave_to_user while CR0.TS is clear
  __builtin_unreachable();
}

[[noreturn]] void run(Context* next) {
  if (next != nullptr) exit_to_user(*next);
  idle();
}

}  // namespace

void resume(Context& context) {
  exit_to_user(context);
}

void wait_for_interrupt_once() {
  wait_for_interrupt();
}

// The TSC ticks spent halted in idle() (idle_ticks()): idle notes when it halts, the interrupt
// that ends the halt adds the difference (in x86_kernel_trap, which may resume a thread without
// coming back here). Under QEMU's -icount the TSC jumps while the guest halts, so a benchmark
// subtracts this to count only executed instructions (docs/performance.md, storage).
namespace {
std::uint64_t halted_since = 0;  // 0: not halted
word halted_ticks = 0;

void end_halt() {
  if (halted_since == 0) return;
  halted_ticks += rdtsc() - halted_since;
  halted_since = 0;
}
}  // namespace

word idle_ticks() {
  return halted_ticks;
}

void idle() {
  cpu_local().current = nullptr;
  for (;;) {
    halted_since = rdtsc();
    wait_for_interrupt();
    end_halt();
  }
}

}  // namespace ukernel::x86

using ukernel::x86::Context;

// No frame pointer: entry.S starts the frame chain at rbp = 0 and this function never returns,
// so a push and mov of rbp would be two instructions more on every system call. A backtrace
// from a function it calls ends here (the chain link it pushes is whatever rbp then holds, which
// the panic handler follows only while it is an aligned kernel address).
extern "C" [[noreturn, gnu::optimize("omit-frame-pointer")]] void x86_syscall(Context* context) {
  using namespace ukernel::x86;
  Context* next = on_syscall(*context);
  if (next != nullptr) exit_to_user(*next);
  idle();
}

extern "C" [[noreturn]] void x86_user_trap(Context* frame) {
  using namespace ukernel::x86;
  // NMI, double fault and machine check run on IST stacks, so `frame` is not a Context; none of
  // them is the user's doing.
  if (frame->vector == 2 || frame->vector == 8 || frame->vector == 18) {
    kernel_exception(*frame, "hardware (in user mode)");
  }
  if (frame->vector == kVectorDeviceNotAvailable) {
    fpu_claim(*frame);  // the thread's first FPU instruction since it last lost the FPU
    exit_to_user(*frame);
  }
  if (frame->vector < 32) run(on_user_fault(*frame, classify(*frame)));
  run(interrupt(frame, frame->vector));
}

extern "C" void x86_kernel_trap(Context* frame) {
  using namespace ukernel::x86;
  if (frame->vector < 32) kernel_exception(*frame, "ring-0");
  end_halt();
  Context* next = interrupt(nullptr, frame->vector);
  if (next != nullptr) resume(*next);  // the kernel was idle: its stack holds nothing
}
