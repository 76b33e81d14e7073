// The example system's description as the AArch64 build sees it (examples/system/aarch64/
// platform.hpp): the console's PL011 as device memory and SPI 1, the timer service holding only
// the kernel's deadline line (no device of its own), no I/O ports. Compiled only
// (system.description_aarch64).
#include "layout.hpp"

namespace {
using namespace system_example;
static_assert(Platform::kName == "aarch64" && !Platform::kHasIoPorts);
static_assert(sysdesc::check<Platform>(kSystem).ok());
static_assert(grant(kConsoleIndex, "uart").kind == sysdesc::GrantKind::kMmio);
static_assert(grant(kConsoleIndex, "uart").first == 0x09000000);
static_assert(grant(kConsoleIndex, "uart-irq").first == 1);
static_assert(grant(kTimerIndex, "timer-irq").first == Platform::kDeadlineLine);
static_assert(Platform::kDeadlineLine == Platform::kIrqLines - 1);
static_assert(kSystem.servers[kTimerIndex].grant_count() == 1);  // the line and nothing else
}  // namespace
