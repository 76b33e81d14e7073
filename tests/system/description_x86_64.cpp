// The example system's description as the x86-64 build sees it (examples/system/x86_64/
// platform.hpp): it grants I/O ports, which the hosted platform refuses
// (io_ports_on_hosted.cpp), and x86-64 accepts. Compiled only (system.description_x86_64).
#include "layout.hpp"

namespace {
using namespace system_example;
static_assert(Platform::kName == "x86_64" && Platform::kHasIoPorts);
static_assert(sysdesc::check<Platform>(kSystem).ok());
static_assert(grant(kConsoleIndex, "uart").kind == sysdesc::GrantKind::kIoPorts);
static_assert(grant(kTimerIndex, "timer").kind == sysdesc::GrantKind::kIoPorts);
static_assert(grant(kConsoleIndex, "uart-irq").first == 4);
}  // namespace
