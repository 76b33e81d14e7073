// The hosted console UART and timer, MMIO models reached through their pages' device frames:
// input becomes readable at its virtual time, paced one byte per 86,806 ns like a 115200-baud
// line, and each byte raises the console's line; a programmed deadline raises the timer's line
// then, and a new one replaces it; the transcript keeps the kernel console's lines in order with
// the UART's output; an access that is not a whole register reaches nothing.
#include <catch2/catch.hpp>

#include "support/root_kit.hpp"
#include "ukernel/hosted/devices.hpp"
#include "ukernel/mmio.hpp"

using namespace ukernel;
using hosted::ConsoleRegister;
using hosted::TimerRegister;

namespace {

struct Observed {
  word status_before = 0;
  word status_after = 0;
  std::string read;
  std::string read_first;  // what the first interrupt found
  std::uint64_t second_byte_at = 0;
  word closed_status = 0;
  std::uint64_t input_woke_at = 0;
  std::uint64_t timer_woke_at = 0;
  word narrow_read = 0;
  word past_registers = 0;
  bool mapped = false;
} g;

constexpr word kConsoleMapped = 0x50000000;
constexpr word kTimerMapped = 0x50001000;
const Mmio kConsole{kConsoleMapped, hosted::kPageBytes};
const Mmio kTimer{kTimerMapped, hosted::kPageBytes};

word console(ConsoleRegister r) {
  return kConsole.read64(word(r));
}
word timer(TimerRegister r) {
  return kTimer.read64(word(r));
}

// Maps the device page at `paddr` (the first frame of its device untyped) at `vaddr`.
bool map_device_page(test::RootKit& kit, word paddr, word vaddr) {
  const BootInfo& info = kit.info();
  for (word i = 0; i < info.untyped_count; ++i) {
    if (info.untyped[i].is_device == 0 || info.untyped[i].paddr != paddr) continue;
    word frame = kit.slot();
    return retype(kFirstUntypedSlot + i, ObjectType::kFrame, 12, kRootCNodeSlot, frame) ==
               Error::kOk &&
           map_frame(kRootAddressSpaceSlot, frame, vaddr, Rights::kRead | Rights::kWrite) ==
               Error::kOk;
  }
  return false;
}

void root(word info) {
  test::RootKit kit(info);
  g.mapped = map_device_page(kit, hosted::kConsoleAddress, kConsoleMapped) &&
             map_device_page(kit, hosted::kTimerAddress, kTimerMapped);
  if (!g.mapped) return;
  word notification = kit.make(ObjectType::kNotification);
  word input_bit = kit.mint(notification, Rights::kWrite, 1);
  word timer_bit = kit.mint(notification, Rights::kWrite, 2);
  word uart_irq = kit.slot();
  word timer_irq = kit.slot();
  if (irq_control_get(kIrqControlSlot, hosted::kConsoleIrqLine, kRootCNodeSlot, uart_irq) !=
          Error::kOk ||
      irq_control_get(kIrqControlSlot, hosted::kTimerIrqLine, kRootCNodeSlot, timer_irq) !=
          Error::kOk ||
      irq_set_notification(uart_irq, input_bit) != Error::kOk ||
      irq_set_notification(timer_irq, timer_bit) != Error::kOk)
    return;
  g.status_before = console(ConsoleRegister::kStatus);
  (void)wait(notification);  // the input at 5 ms
  g.input_woke_at = timer(TimerRegister::kNow);
  g.status_after = console(ConsoleRegister::kStatus);
  while ((console(ConsoleRegister::kStatus) & hosted::kInputReady) != 0)
    g.read += char(console(ConsoleRegister::kData));
  g.read_first = g.read;
  (void)irq_ack(uart_irq);
  (void)wait(notification);  // the second byte, one byte time later
  g.second_byte_at = timer(TimerRegister::kNow);
  while ((console(ConsoleRegister::kStatus) & hosted::kInputReady) != 0)
    g.read += char(console(ConsoleRegister::kData));
  (void)irq_ack(uart_irq);
  (void)debug_write("kernel line\n");
  for (char c : std::string_view("uart line\n"))
    kConsole.write64(word(ConsoleRegister::kData), word(c));
  // Not whole registers: nothing is printed or armed, and reads are all ones.
  kConsole.write8(word(ConsoleRegister::kData), 'x');
  kConsole.write64(16, 'y');
  kTimer.write32(word(TimerRegister::kDeadline), 1);
  g.narrow_read = kTimer.read32(word(TimerRegister::kNow));
  g.past_registers = kTimer.read64(16);
  std::uint64_t now = timer(TimerRegister::kNow);
  kTimer.write64(word(TimerRegister::kDeadline), now + 1'000'000);
  kTimer.write64(word(TimerRegister::kDeadline), now + 2'000'000);
  Message bits = wait(notification);
  g.timer_woke_at = (bits.badge & 2) ? timer(TimerRegister::kNow) : 0;
  (void)irq_ack(timer_irq);
  (void)wait(notification);  // input closes at 20 ms
  g.closed_status = console(ConsoleRegister::kStatus);
}

}  // namespace

TEST_CASE("the hosted UART and timer raise their lines at virtual times") {
  g = Observed{};
  hosted::reset_devices();
  hosted::Simulation sim;
  hosted::console_input("ab", 5'000'000);
  hosted::console_close_input(20'000'000);
  REQUIRE(sim.run(root) == hosted::RunResult::kIdle);
  REQUIRE(g.mapped);
  CHECK(g.status_before == 0);
  CHECK(g.input_woke_at >= 5'000'000);
  CHECK(g.status_after == hosted::kInputReady);
  CHECK(g.read_first == "a");  // paced: "b" is still on the wire
  CHECK(g.read == "ab");
  CHECK(g.second_byte_at >= g.input_woke_at + 86'806);
  CHECK(g.second_byte_at < g.input_woke_at + 2 * 86'806);
  CHECK(g.timer_woke_at >= g.input_woke_at + 2'000'000);  // the second deadline replaced the first
  CHECK(g.closed_status == hosted::kInputClosed);
  CHECK(g.narrow_read == 0xffffffff);
  CHECK(g.past_registers == ~word{0});
  // (then the kernel's line about the root task returning)
  CHECK(hosted::console_transcript().rfind("kernel line\nuart line\n[kernel]", 0) == 0);
}
