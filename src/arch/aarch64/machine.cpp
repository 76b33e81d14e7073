// The out-of-line parts of arch::Machine (include/arch/machine.hpp).
#include "arch/machine.hpp"

#include "arch/interrupts.hpp"

namespace ukernel::aarch64 {

static_assert(arch::Machine::kIrqLines == kIrqLines);

void activate(PageTable& page_table) {
  page_table.activate();
}
void irq_mask(unsigned line) {
  gic_mask(line);
}
void irq_unmask(unsigned line) {
  gic_unmask(line);
}
bool irq_msi_message(unsigned line, word& address, word& data) {
  return gic_msi_message(line, address, data);
}
// Out of line, as on x86-64: the core's trace check stays small enough to inline.
[[gnu::noinline]] std::uint64_t now_ns() {
  return timer_now_ns();
}
void timer_arm_ns(std::uint64_t deadline_ns) {
  timer_arm(deadline_ns);
}
bool irq_set_deadline(unsigned line, std::uint64_t deadline_ns) {
  if (line != kDeadlineLine) return false;
  deadline_arm(deadline_ns);
  return true;
}
// Semihosting SYS_EXIT with status 33, the runners' normal power-off (PSCI SYSTEM_OFF would make
// QEMU exit with 0, which they rightly take for a failure).
bool power_off() {
  exit_qemu(ExitCode::kSuccess);
}

}  // namespace ukernel::aarch64
