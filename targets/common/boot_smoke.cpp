// boot-smoke: a back-end's first scenario, before the kernel core is linked in; one source for
// every bare-metal target, whose side of it is smoke/target.hpp (targets/<arch>/smoke/).
//
// Boots, takes a device's interrupt through the interrupt controller, builds one user address
// space, runs user_program.S in user mode: a kDebugWrite system call, then spinning while the
// timer preempts it, then one faulting action per restart of the program. The first four are
// the scenario's faults; the rest check the protection the back-end promises on top. Every
// fault must be reported with the expected kind, cause, address and instruction pointer. Then
// QEMU exits with ExitCode::kSuccess. Any surprise exits with kFailure (a test failure) or kPanic
// (kernel bug).
#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/entry.hpp"
#include "arch/interrupts.hpp"
#include "arch/machine.hpp"
#include "smoke/target.hpp"

extern "C" const char user_program_start[], user_program_end[], user_entry[];

namespace ukernel::boot_smoke {
namespace {

using namespace backend;
using namespace backend::smoke;
using Machine = arch::Machine;

constexpr word kCodeBase = 0x400000;
constexpr word kStackTop = 0x800000;
constexpr word kStackCodeAddress = kStackTop - 64;  // an action jumps here
constexpr unsigned kSpinTicks = 3;
constexpr std::uint64_t kTickNs = 1'000'000;
constexpr std::size_t kRequiredFaults = 4;

word user_address(const char* symbol) {
  return kCodeBase + static_cast<word>(symbol - user_program_start);
}

auto all_expected_faults() {
  return expected_faults(user_address, kCodeBase, kStackCodeAddress);
}
constexpr unsigned kActions = std::tuple_size_v<decltype(all_expected_faults())>;

// The page-table pool, as the core will carve it from untyped memory after the AddressSpace.
alignas(4096) std::array<std::uint8_t, 8 * 4096> space_pool;
PageTable space(space_pool.data(), space_pool.size(), physical_address(space_pool.data()));
Context thread;
unsigned action = 0;  // what the running program does (user_program.S)
unsigned faults = 0;
unsigned ticks = 0;
bool irq_seen = false;
bool irq_timed_out = false;

[[noreturn]] void fail(std::string_view why) {
  print("smoke: FAIL: ", why, "\n");
  exit_qemu(ExitCode::kFailure);
}

// The fault kinds a user program can cause here, as this log names them ("kind=memory"; the
// core's trace has longer names).
std::string_view kind_name(FaultKind kind) {
  constexpr std::array<std::pair<FaultKind, std::string_view>, 5> kNames{{
      {FaultKind::kMemoryAccess, "memory"},
      {FaultKind::kArithmetic, "arithmetic"},
      {FaultKind::kIllegalInstruction, "illegal-instruction"},
      {FaultKind::kProtection, "protection"},
      {FaultKind::kBreakpoint, "breakpoint"},
  }};
  for (const auto& [known, name] : kNames) {
    if (known == kind) return name;
  }
  return "other";
}

// The last action starts the thread at a kernel-half instruction pointer.
Context* start_action(unsigned next) {
  action = next;
  thread.start(action == kActions ? kKernelHalfIp : user_address(user_entry), kStackTop, action);
  return &thread;
}

void check_interrupt_routing() {
  irq_source_start();
  Machine::timer_arm(Machine::now_ns() + 100 * kTickNs);  // a timeout, should the IRQ not come
  while (!irq_seen && !irq_timed_out)
    wait_for_interrupt_once();
  Machine::timer_arm(0);
  if (!irq_seen) fail(kIrqMissing);
  print("irq: ", kIrqSource, " line ", kIrqLine, " delivered through the ", kIrqController, "\n");
}

void build_address_space() {
  if (space.root() == kNoPhysical) {
    print("smoke: FAIL: no pool page for the ", kRootTableName, "\n");
    exit_qemu(ExitCode::kFailure);
  }
  word code = frame_alloc();
  word stack = frame_alloc();
  if (code == kNoPhysical || stack == kNoPhysical) fail("no frames for the user program");
  auto size = static_cast<std::size_t>(user_program_end - user_program_start);
  __builtin_memcpy(Machine::kernel_pointer(code), user_program_start, size);
  if (!space.map(kCodeBase, code, Rights::kRead)) fail("map code");
  if (!space.map(kStackTop - kPageSize, stack, Rights::kRead | Rights::kWrite)) fail("map stack");
  if (space.map(kCodeBase, stack, Rights::kRead)) fail("mapped over an existing page");
  if (space.map(kKernelAddress, stack, Rights::kRead)) fail("mapped a kernel address");
  if (space.lookup(kCodeBase + 5) != code + 5) fail("lookup of the code page");
  space.unmap(kStackTop - kPageSize);
  if (space.lookup(kStackTop - 8) != kNoPhysical) fail("unmap");
  if (!space.map(kStackTop - kPageSize, stack, Rights::kRead | Rights::kWrite)) fail("remap");
  if (std::string_view error = map_devices(space); !error.empty()) fail(error);
  print("paging: user space at ", hex(space.root()), ": code ", hex(kCodeBase), " (r-x), stack ",
        hex(kStackTop - kPageSize), " (rw-)");
  print_device_mappings();
  print("\n");
}

Context* on_syscall(Context& current) {
  if (current.get(SysReg::kStatus) != static_cast<word>(Syscall::kDebugWrite)) {
    fail("unexpected system call");
  }
  MessageInfo info(current.get(SysReg::kInfo));
  std::array<char, Context::kMessageRegisters * sizeof(word)> text{};
  if (info.length() > text.size()) {
    current.set(SysReg::kStatus, static_cast<word>(Error::kInvalidArgument));
    return &current;
  }
  for (std::size_t i = 0; i < Context::kMessageRegisters; ++i) {
    word w = current.get(static_cast<SysReg>(static_cast<unsigned>(SysReg::kMr0) + i));
    __builtin_memcpy(text.data() + i * sizeof(word), &w, sizeof(word));
  }
  Machine::console_write(std::string_view(text.data(), info.length()));
  current.set(SysReg::kStatus, static_cast<word>(Error::kOk));
  return &current;
}

Context* on_user_fault(Context& current, const UserFault& fault) {
  print("fault: kind=", kind_name(fault.kind), " addr=", hex(fault.address),
        " ip=", hex(current.instruction_pointer()));
  print_fault_cause(fault);
  print("\n");
  const auto expected = all_expected_faults();
  if (action == 0 || action > expected.size()) fail("fault in the syscall/spin phase");
  const auto& want = expected[action - 1];
  if (fault.kind != want.kind || !same_cause(fault, want.cause) || fault.address != want.address ||
      current.instruction_pointer() != want.ip) {
    fail(want.action);
  }
  print("smoke: ", want.action, " reported\n");
  ++faults;
  if (faults == kRequiredFaults) print("smoke: ", faults, " faults reported\n");
  if (action < expected.size()) return start_action(action + 1);
  print("smoke: ", faults - kRequiredFaults, kFurtherChecks);
  exit_qemu(ExitCode::kSuccess);
}

Context* on_timer(Context* current) {
  if (current == nullptr) {
    irq_timed_out = true;
    return nullptr;
  }
  ++ticks;
  print("timer: tick ", ticks, kTimerTick, hex(current->instruction_pointer()), "\n");
  if (action != 0) fail("timer tick outside the spin phase");
  if (ticks < kSpinTicks) {
    Machine::timer_arm(Machine::now_ns() + kTickNs);
    return current;
  }
  print("timer: ", ticks, " ticks preempted the spinning program\n");
  return start_action(1);
}

Context* on_irq(Context* current, unsigned line) {
  if (line != kIrqLine) fail("interrupt on an unexpected line");
  irq_source_stop();
  irq_seen = true;
  return current;
}

[[noreturn]] void kernel_main() {
  print("ukernel ", kArchName, " boot-smoke\n");
  word top = report_machine();  // the end of RAM
  // The direct map must reach the last byte of RAM (a hole here is a kernel page fault).
  auto* last = static_cast<volatile word*>(Machine::kernel_pointer(top - sizeof(word)));
  word saved = *last;
  *last = 0x5a5a5a5a5a5a5a5a;
  if (*last != 0x5a5a5a5a5a5a5a5a) fail("direct map: the last RAM word does not read back");
  *last = saved;
  print("memory: direct map reaches ", hex(top), "\n");
  report_timer();
  check_interrupt_routing();
  build_address_space();
  Machine::activate(space);
  Machine::timer_arm(Machine::now_ns() + kTickNs);
  resume(*start_action(0));
}

}  // namespace
}  // namespace ukernel::boot_smoke

// The back-end's entry points (arch/entry.hpp) are the scenario's.
namespace ukernel {

backend::Context* backend::on_syscall(Context& current) {
  return boot_smoke::on_syscall(current);
}
backend::Context* backend::on_user_fault(Context& current, const UserFault& fault) {
  return boot_smoke::on_user_fault(current, fault);
}
backend::Context* backend::on_timer(Context* current) {
  return boot_smoke::on_timer(current);
}
backend::Context* backend::on_irq(Context* current, unsigned line) {
  return boot_smoke::on_irq(current, line);
}
void backend::kernel_main() {
  boot_smoke::kernel_main();
}

}  // namespace ukernel
