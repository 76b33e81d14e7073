// The x86-64 side of the shared smoke images (targets/common/boot_smoke.cpp, panic_smoke.cpp), at
// the same path in every target so that they never name an architecture: the back-end's name, and
// for boot-smoke what user_program.S's faulting actions must report (vector, error code), COM1's
// IRQ 4 routed through the I/O APIC as the interrupt to take, and what the machine reports at boot
// (CPU features, the memory map, the LAPIC and TSC frequencies).
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

extern "C" const char user_fault_write[], user_fault_hlt[], user_fault_inb[], user_fault_divide[],
    user_fault_code_write[];

namespace ukernel::x86::smoke {

// How the smoke images name the architecture in their first line ("ukernel x86-64 boot-smoke").
constexpr std::string_view kArchName = "x86-64";
constexpr word kKernelWriteAddress = 0xffffffff80100000;  // user_program.S writes here
constexpr word kKernelHalfIp = 0xffff800000000000;        // the last action starts here
constexpr word kKernelAddress = UK_KERNEL_VMA;            // a user mapping here must be refused
constexpr std::string_view kRootTableName = "PML4";
constexpr std::string_view kTimerTick = " in ring 3 at ip=";                // "timer: tick N ..."
constexpr std::string_view kFurtherChecks = " protection checks passed\n";  // "smoke: N ..."

// What an action must report. The first four are the scenario's four faults; the rest check the
// protection the back-end promises on top (NX stack, read-only code, no kernel-half ip).
struct FaultCause {
  word vector;
  word error_code;
};
// The tables below leave out the braces around the cause.
using Expected = boot_smoke::ExpectedFault<FaultCause>;
inline std::array<Expected, 7> expected_faults(word (*user_address)(const char*), word code_base,
                                               word stack_code_address) {
  return {{
      {"write to kernel memory", FaultKind::kMemoryAccess, 14, 0x7, user_address(user_fault_write),
       kKernelWriteAddress},
      {"hlt", FaultKind::kProtection, 13, 0, user_address(user_fault_hlt), 0},
      {"inb", FaultKind::kProtection, 13, 0, user_address(user_fault_inb), 0},
      {"divide by zero", FaultKind::kArithmetic, 0, 0, user_address(user_fault_divide), 0},
      // error 0x15: present, user, instruction fetch.
      {"execute on the stack (NX)", FaultKind::kMemoryAccess, 14, 0x15, stack_code_address,
       stack_code_address},
      {"write to read-only code", FaultKind::kMemoryAccess, 14, 0x7,
       user_address(user_fault_code_write), code_base},
      {"kernel-half ip refused", FaultKind::kMemoryAccess, 14, 0, kKernelHalfIp, kKernelHalfIp},
  }};
}
inline void print_fault_cause(const UserFault& fault) {
  print(" vector=", fault.vector, " error=", hex(fault.error_code));
}
inline bool same_cause(const UserFault& fault, const FaultCause& want) {
  return fault.vector == want.vector && fault.error_code == want.error_code;
}

// The interrupt the scenario takes first: COM1's transmit interrupt on IRQ 4.
constexpr unsigned kIrqLine = 4;
constexpr std::string_view kIrqSource = "COM1";
constexpr std::string_view kIrqController = "I/O APIC";
constexpr std::string_view kIrqMissing = "COM1 IRQ 4 did not arrive through the I/O APIC";
inline void irq_source_start() {
  arch::Machine::irq_unmask(kIrqLine);
  serial_set_transmit_interrupt(true);
}
inline void irq_source_stop() {
  serial_set_transmit_interrupt(false);
}

inline word physical_address(const void* kernel_pointer) {
  return reinterpret_cast<word>(kernel_pointer) - UK_KERNEL_VMA;
}
// No device is mapped into the user space on x86-64 (the scenario's I/O is through ports).
inline std::string_view map_devices(PageTable&) {
  return {};
}
inline void print_device_mappings() {}

// Prints the CPU's features and the RAM; returns the end of the highest RAM region.
inline word report_machine() {
  CpuFeatures f = cpu_features();
  print("cpu: nx=", f.nx, " smep=", f.smep, " smap=", f.smap, " pcid=", f.pcid, "\n");
  word ram = 0;
  word top = 0;
  for (const MemoryRegion& region : boot_memory_map()) {
    if (region.type != kMemoryRam) continue;
    ram += region.size;
    if (region.base + region.size > top) top = region.base + region.size;
  }
  print("memory: ", ram >> 20, " MiB RAM, ", frames_free_count(), " free frames\n");
  return top;
}
inline void report_timer() {
  print("timer: lapic ", timer_lapic_hz() / 1000, " kHz, tsc ", timer_tsc_hz() / 1000, " kHz\n");
}

}  // namespace ukernel::x86::smoke
