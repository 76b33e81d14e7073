// The scenario's fault tests on x86-64; the instructions are in fault_actions.S.
#pragma once

#include <array>

#include "fault_case.hpp"

extern "C" char fault_write_kernel[], fault_hlt[], fault_inb[], fault_inb_insn[], fault_divide[],
    fault_divide_insn[], fault_bad_capability[], fault_undefined[], fault_breakpoint[];

namespace ukernel::user {

inline constexpr word kBadCapabilityAddress = 100;               // fault_actions.S
inline constexpr word kFaultKernelAddress = 0xffffffff80100000;  // fault_actions.S writes here

// The acceptance test: a kernel-memory write, two privileged instructions, a division by zero.
inline constexpr std::array<FaultCase, 4> kAcceptanceFaults = {{
    {"write to kernel memory", fault_write_kernel, fault_write_kernel, FaultKind::kMemoryAccess,
     kFaultKernelAddress},
    {"hlt", fault_hlt, fault_hlt, FaultKind::kProtection, 0},
    {"inb without an I/O port capability", fault_inb, fault_inb_insn, FaultKind::kProtection, 0},
    {"divide by zero", fault_divide, fault_divide_insn, FaultKind::kArithmetic, 0},
}};

inline constexpr std::array<FaultCase, 3> kMoreFaults = {{
    {"undefined instruction", fault_undefined, fault_undefined, FaultKind::kIllegalInstruction, 0},
    // int3 reports the instruction after it, so the ip is not checked.
    {"breakpoint", fault_breakpoint, nullptr, FaultKind::kBreakpoint, 0},
    {"bad capability address", fault_bad_capability, nullptr, FaultKind::kCapability,
     kBadCapabilityAddress},
}};

inline constexpr std::array<SkippedCheck, 0> kSkippedChecks = {};

}  // namespace ukernel::user
