// boot-smoke: the AArch64 back-end's first scenario, before the kernel core is linked in.
//
// Boots, takes the PL011's transmit interrupt through the GIC, builds one user address space
// (with the PL011 mapped as device memory), runs user_program.S at EL0: a kDebugWrite system
// call, a line written straight to the UART, then spinning while the generic timer preempts it,
// then one faulting action per restart of the program. Every fault must be reported with the
// expected kind, address and instruction pointer. Then QEMU exits with ExitCode::kSuccess. Any
// surprise exits with kFailure (a test failure) or kPanic (kernel bug).
#include <array>
#include <cstdint>
#include <string_view>

#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/entry.hpp"
#include "arch/interrupts.hpp"
#include "arch/machine.hpp"

extern "C" const char user_program_start[], user_program_end[], user_entry[];
extern "C" const char user_fault_write[], user_fault_wfi[], user_fault_mmio[], user_fault_daif[],
    user_fault_undefined[], user_fault_brk[], user_fault_code_write[];

namespace ukernel::aarch64 {
namespace {

using Machine = arch::Machine;

constexpr word kCodeBase = 0x400000;
constexpr word kStackTop = 0x800000;
constexpr unsigned kSpinTicks = 3;
constexpr std::uint64_t kTickNs = 1'000'000;

constexpr word kKernelWriteAddress = 0xffff000040200000;  // user_program.S writes here
constexpr word kUartAddress = 0x09000000;                 // and reads here
constexpr word kKernelHalfIp = 0xffff000040200000;        // the last action starts here
constexpr word kStackCodeAddress = kStackTop - 64;        // action 7 jumps here
constexpr word kUserUartAddress = 0x600000;               // action 0 writes a line to the UART here

word user_address(const char* symbol) {
  return kCodeBase + static_cast<word>(symbol - user_program_start);
}

// What each action must report (exception classes: 0x24 data abort, 0x20 instruction abort,
// 0x01 WFI, 0x18 MSR, 0x00 unknown, 0x3c BRK). The first four are the scenario's faults; the
// rest check the protection the back-end promises on top.
struct Expected {
  std::string_view action;
  FaultKind kind;
  word exception_class;
  word ip;
  word address;
};
constexpr std::size_t kRequiredFaults = 4;
std::array<Expected, 9> expected_faults() {
  return {{
      {"write to kernel memory", FaultKind::kMemoryAccess, 0x24, user_address(user_fault_write),
       kKernelWriteAddress},
      {"wfi", FaultKind::kProtection, 0x01, user_address(user_fault_wfi), 0},
      {"device registers without a mapping", FaultKind::kMemoryAccess, 0x24,
       user_address(user_fault_mmio), kUartAddress},
      {"mask interrupts", FaultKind::kProtection, 0x18, user_address(user_fault_daif), 0},
      {"undefined instruction", FaultKind::kIllegalInstruction, 0x00,
       user_address(user_fault_undefined), 0},
      {"brk", FaultKind::kBreakpoint, 0x3c, user_address(user_fault_brk), 0},
      {"execute on the stack (UXN)", FaultKind::kMemoryAccess, 0x20, kStackCodeAddress,
       kStackCodeAddress},
      {"write to read-only code", FaultKind::kMemoryAccess, 0x24,
       user_address(user_fault_code_write), kCodeBase},
      {"kernel-half ip", FaultKind::kMemoryAccess, 0x20, kKernelHalfIp, kKernelHalfIp},
  }};
}

// The page-table pool, as the core will carve it from untyped memory after the AddressSpace.
alignas(4096) std::array<std::uint8_t, 8 * 4096> space_pool;
PageTable space(space_pool.data(), space_pool.size(), virtual_to_physical(space_pool.data()));
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

std::string_view kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kMemoryAccess:
      return "memory";
    case FaultKind::kIllegalInstruction:
      return "illegal-instruction";
    case FaultKind::kProtection:
      return "protection";
    case FaultKind::kBreakpoint:
      return "breakpoint";
    default:
      return "other";
  }
}

Context* start_action(unsigned next) {
  action = next;
  thread.start(action == 9 ? kKernelHalfIp : user_address(user_entry), kStackTop, action);
  return &thread;
}

void check_interrupt_routing() {
  Machine::irq_unmask(kUartLine);
  uart_set_transmit_interrupt(true);
  print("irq: waiting for the PL011 transmit interrupt\n");
  Machine::timer_arm(Machine::now_ns() + 100 * kTickNs);  // a timeout, should the IRQ not come
  while (!irq_seen && !irq_timed_out)
    wait_for_interrupt_once();
  Machine::timer_arm(0);
  if (!irq_seen) fail("the PL011 interrupt (SPI 1) did not arrive through the GIC");
  print("irq: PL011 line ", kUartLine, " delivered through the GIC\n");
}

void build_address_space() {
  if (space.root() == kNoPhysical) fail("no pool page for the root table");
  word code = frame_alloc();
  word stack = frame_alloc();
  if (code == kNoPhysical || stack == kNoPhysical) fail("no frames for the user program");
  auto size = static_cast<std::size_t>(user_program_end - user_program_start);
  __builtin_memcpy(Machine::kernel_pointer(code), user_program_start, size);
  if (!space.map(kCodeBase, code, Rights::kRead)) fail("map code");
  if (!space.map(kStackTop - kPageSize, stack, Rights::kRead | Rights::kWrite)) fail("map stack");
  if (space.map(kCodeBase, stack, Rights::kRead)) fail("mapped over an existing page");
  if (space.map(kKernelWriteAddress, stack, Rights::kRead)) fail("mapped a kernel address");
  if (space.lookup(kCodeBase + 5) != code + 5) fail("lookup of the code page");
  space.unmap(kStackTop - kPageSize);
  if (space.lookup(kStackTop - 8) != kNoPhysical) fail("unmap");
  if (!space.map(kStackTop - kPageSize, stack, Rights::kRead | Rights::kWrite)) fail("remap");
  if (!space.map_device(kUserUartAddress, kUartAddress, Rights::kRead | Rights::kWrite) ||
      space.lookup(kUserUartAddress) != kUartAddress) {
    fail("device mapping of the UART");
  }
  print("paging: user space at ", hex(space.root()), ": code ", hex(kCodeBase), " (r-x), stack ",
        hex(kStackTop - kPageSize), " (rw-), UART ", hex(kUserUartAddress), " (device)\n");
}

}  // namespace

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
        " ip=", hex(current.instruction_pointer()), " esr=", hex(fault.syndrome), "\n");
  const auto expected = expected_faults();
  if (action == 0 || action > expected.size()) fail("fault in the syscall/spin phase");
  const Expected& want = expected[action - 1];
  if (fault.kind != want.kind || fault.syndrome >> 26 != want.exception_class ||
      fault.address != want.address || current.instruction_pointer() != want.ip) {
    fail(want.action);
  }
  print("smoke: ", want.action, " reported\n");
  ++faults;
  if (faults == kRequiredFaults) print("smoke: ", faults, " faults reported\n");
  if (action < expected.size()) return start_action(action + 1);
  print("smoke: ", faults - kRequiredFaults, " further checks passed\n");
  exit_qemu(ExitCode::kSuccess);
}

Context* on_timer(Context* current) {
  if (current == nullptr) {
    irq_timed_out = true;
    return nullptr;
  }
  ++ticks;
  print("timer: tick ", ticks, " at EL0 ip=", hex(current->instruction_pointer()), "\n");
  if (action != 0) fail("timer tick outside the spin phase");
  if (ticks < kSpinTicks) {
    Machine::timer_arm(Machine::now_ns() + kTickNs);
    return current;
  }
  print("timer: ", ticks, " ticks preempted the spinning program\n");
  return start_action(1);
}

Context* on_irq(Context* current, unsigned line) {
  if (line != kUartLine) fail("interrupt on an unexpected line");
  uart_set_transmit_interrupt(false);
  irq_seen = true;
  return current;
}

void kernel_main() {
  print("ukernel aarch64 boot-smoke\n");
  print("memory: ", ram_size() >> 20, " MiB RAM at ", hex(ram_base()), ", ", frames_free_count(),
        " free frames\n");
  // The direct map must reach the last byte of RAM (a hole here is an EL1 data abort).
  word top = ram_base() + ram_size();
  auto* last = static_cast<volatile word*>(Machine::kernel_pointer(top - sizeof(word)));
  word saved = *last;
  *last = 0x5a5a5a5a5a5a5a5a;
  if (*last != 0x5a5a5a5a5a5a5a5a) fail("direct map: the last RAM word does not read back");
  *last = saved;
  print("memory: direct map reaches ", hex(top), "\n");
  print("timer: generic timer ", timer_hz() / 1000, " kHz\n");
  check_interrupt_routing();
  build_address_space();
  Machine::activate(space);
  Machine::timer_arm(Machine::now_ns() + kTickNs);
  resume(*start_action(0));
}

}  // namespace ukernel::aarch64
