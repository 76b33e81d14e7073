// The scenario's fault tests on AArch64; the instructions are in fault_actions.S.
//
// The x86-64 acceptance test has four faults: a kernel-memory write, hlt, inb and a division by
// zero. AArch64 has no I/O ports and its integer division by zero does not trap (it returns 0),
// so two of them are replaced by what AArch64 does have: a load from device registers (the
// PL011's) without a mapping, and masking interrupts (`msr daifset`), which EL0 may not do. The
// scenario prints both substitutions as skipped checks.
#pragma once

#include <array>

#include "fault_case.hpp"

extern "C" char fault_write_kernel[], fault_write_kernel_insn[], fault_wfi[], fault_mmio[],
    fault_mmio_insn[], fault_daif[], fault_bad_capability[], fault_undefined[], fault_breakpoint[];

namespace ukernel::user {

inline constexpr word kBadCapabilityAddress = 100;               // fault_actions.S
inline constexpr word kFaultKernelAddress = 0xffff000040200000;  // kernel text
inline constexpr word kFaultDeviceAddress = 0x09000000;          // the PL011's registers

inline constexpr std::array<FaultCase, 4> kAcceptanceFaults = {{
    {"write to kernel memory", fault_write_kernel, fault_write_kernel_insn,
     FaultKind::kMemoryAccess, kFaultKernelAddress},
    {"wfi", fault_wfi, fault_wfi, FaultKind::kProtection, 0},
    {"device registers without a mapping", fault_mmio, fault_mmio_insn, FaultKind::kMemoryAccess,
     kFaultDeviceAddress},
    {"mask interrupts (msr daifset)", fault_daif, fault_daif, FaultKind::kProtection, 0},
}};

inline constexpr std::array<FaultCase, 3> kMoreFaults = {{
    {"undefined instruction", fault_undefined, fault_undefined, FaultKind::kIllegalInstruction, 0},
    {"breakpoint", fault_breakpoint, fault_breakpoint, FaultKind::kBreakpoint, 0},
    {"bad capability address", fault_bad_capability, nullptr, FaultKind::kCapability,
     kBadCapabilityAddress},
}};

inline constexpr std::array<SkippedCheck, 2> kSkippedChecks = {{
    {"acceptance", "inb without an I/O port capability",
     "AArch64 has no I/O ports: replaced by device registers without a mapping"},
    {"acceptance", "divide by zero",
     "AArch64 integer division by zero returns 0 and does not trap: replaced by masking "
     "interrupts"},
}};

}  // namespace ukernel::user
