// The core's one view of the back-end: the Machine type selected for this build.
//
// <arch/machine.hpp> resolves to the selected back-end's header (each back-end puts its own
// include directory on the path), so the core never names a back-end.
#pragma once

#include <arch/machine.hpp>

#include "ukernel/arch/machine.hpp"

namespace ukernel::core {

using Machine = arch::Machine;
using Context = Machine::Context;
using PageTable = Machine::PageTable;
static_assert(arch::Backend<Machine>, "the selected back-end does not satisfy arch::Backend");

inline constexpr std::size_t kMessageRegisters = Context::kMessageRegisters;

}  // namespace ukernel::core
