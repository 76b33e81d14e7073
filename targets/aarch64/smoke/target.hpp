// The AArch64 side of the shared smoke images (targets/common/boot_smoke.cpp, panic_smoke.cpp), at
// the same path in every target so that they never name an architecture: the back-end's name, and
// for boot-smoke what user_program.S's faulting actions must report (the exception class of the
// ESR), the PL011's transmit interrupt through the GIC as the interrupt to take, the PL011 mapped
// into the user space as device memory, and what the machine reports at boot (RAM, the generic
// timer's frequency).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "arch/backend.hpp"  // ukernel::backend, the back-end's namespace
#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/interrupts.hpp"
#include "arch/machine.hpp"
#include "expected_fault.hpp"

extern "C" const char user_fault_write[], user_fault_wfi[], user_fault_mmio[], user_fault_daif[],
    user_fault_undefined[], user_fault_brk[], user_fault_code_write[];

namespace ukernel::aarch64::smoke {

// How the smoke images name the architecture in their first line ("ukernel aarch64 boot-smoke").
constexpr std::string_view kArchName = "aarch64";
constexpr word kKernelWriteAddress = 0xffff000040200000;  // user_program.S writes here
constexpr word kUartAddress = 0x09000000;                 // and reads here
constexpr word kKernelHalfIp = 0xffff000040200000;        // the last action starts here
constexpr word kKernelAddress = kKernelWriteAddress;      // a user mapping here must be refused
constexpr word kUserUartAddress = 0x600000;               // action 0 writes a line to the UART here
constexpr std::string_view kRootTableName = "root table";
constexpr std::string_view kTimerTick = " at EL0 ip=";                   // "timer: tick N ..."
constexpr std::string_view kFurtherChecks = " further checks passed\n";  // "smoke: N ..."

// What an action must report (exception classes: 0x24 data abort, 0x20 instruction abort,
// 0x01 WFI, 0x18 MSR, 0x00 unknown, 0x3c BRK). The first four are the scenario's faults; the
// rest check the protection the back-end promises on top.
struct FaultCause {
  word exception_class;
};
// The tables below leave out the braces around the cause.
using Expected = boot_smoke::ExpectedFault<FaultCause>;
inline std::array<Expected, 9> expected_faults(word (*user_address)(const char*), word code_base,
                                               word stack_code_address) {
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
      {"execute on the stack (UXN)", FaultKind::kMemoryAccess, 0x20, stack_code_address,
       stack_code_address},
      {"write to read-only code", FaultKind::kMemoryAccess, 0x24,
       user_address(user_fault_code_write), code_base},
      {"kernel-half ip", FaultKind::kMemoryAccess, 0x20, kKernelHalfIp, kKernelHalfIp},
  }};
}
inline void print_fault_cause(const UserFault& fault) {
  print(" esr=", hex(fault.syndrome));
}
inline bool same_cause(const UserFault& fault, const FaultCause& want) {
  return fault.syndrome >> 26 == want.exception_class;
}

// The interrupt the scenario takes first: the PL011's transmit interrupt (SPI 1).
constexpr unsigned kIrqLine = kUartLine;
constexpr std::string_view kIrqSource = "PL011";
constexpr std::string_view kIrqController = "GIC";
constexpr std::string_view kIrqMissing =
    "the PL011 interrupt (SPI 1) did not arrive through the GIC";
inline void irq_source_start() {
  arch::Machine::irq_unmask(kUartLine);
  uart_set_transmit_interrupt(true);
  print("irq: waiting for the PL011 transmit interrupt\n");
}
inline void irq_source_stop() {
  uart_set_transmit_interrupt(false);
}

inline word physical_address(const void* kernel_pointer) {
  return virtual_to_physical(kernel_pointer);
}
// The PL011, mapped as device memory for action 0's line; an error message, or empty.
inline std::string_view map_devices(PageTable& space) {
  if (!space.map_device(kUserUartAddress, kUartAddress, Rights::kRead | Rights::kWrite) ||
      space.lookup(kUserUartAddress) != kUartAddress) {
    return "device mapping of the UART";
  }
  return {};
}
inline void print_device_mappings() {
  print(", UART ", hex(kUserUartAddress), " (device)");
}

// Prints the RAM; returns its end.
inline word report_machine() {
  print("memory: ", ram_size() >> 20, " MiB RAM at ", hex(ram_base()), ", ", frames_free_count(),
        " free frames\n");
  return ram_base() + ram_size();
}
inline void report_timer() {
  print("timer: generic timer ", timer_hz() / 1000, " kHz\n");
}

}  // namespace ukernel::aarch64::smoke
