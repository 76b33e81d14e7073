// The out-of-line parts of arch::Machine (include/arch/machine.hpp).
#include "arch/machine.hpp"

#include "arch/interrupts.hpp"
#include "cpu.hpp"
#include "paging.hpp"

namespace ukernel::x86 {

static_assert(arch::Machine::kIrqLines == kIrqLines);

void irq_mask(unsigned line) {
  irq_line_mask(line);
}
void irq_unmask(unsigned line) {
  irq_line_unmask(line);
}
bool irq_msi_message(unsigned line, word& address, word& data) {
  return msi_message(line, address, data);
}
// Out of line on purpose: with LTO, the TSC arithmetic inlined here makes every caller (the
// core's trace recording, on every kernel entry) too large to inline, and its disabled-trace
// check would then cost a call.
[[gnu::noinline]] std::uint64_t now_ns() {
  return timer_now_ns();
}
void timer_arm_ns(std::uint64_t deadline_ns) {
  timer_arm(deadline_ns);
}
word io_read(std::uint16_t port, unsigned width) {
  switch (width) {
    case 1:
      return inb(port);
    case 2:
      return inw(port);
    default:
      return inl(port);
  }
}
void io_write(std::uint16_t port, unsigned width, word value) {
  switch (width) {
    case 1:
      outb(port, std::uint8_t(value));
      break;
    case 2:
      outw(port, std::uint16_t(value));
      break;
    default:
      outl(port, std::uint32_t(value));
      break;
  }
}

}  // namespace ukernel::x86
