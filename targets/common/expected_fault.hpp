// What one of boot-smoke's faulting actions must report (targets/common/boot_smoke.cpp); each
// target's smoke/target.hpp lists its actions. Cause is the target's part of a fault report
// (x86-64: the vector and error code; AArch64: the ESR's exception class).
#pragma once

#include <string_view>

#include "ukernel/abi.hpp"

namespace ukernel::boot_smoke {

template <typename Cause>
struct ExpectedFault {
  std::string_view action;
  FaultKind kind;
  Cause cause;
  word ip;
  word address;
};

}  // namespace ukernel::boot_smoke
