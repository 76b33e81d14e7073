// The timer device as the timer service sees it, on x86-64: the time from the TSC, deadlines
// from PIT channel 0, through the IoPorts capability the description grants the timer service
// ("timer": ports 0x40-0x43) and its interrupt (IRQ 0, I/O APIC pin 2).
//
// How this works: on first use the clock measures the TSC against the PIT (channel 0 counts
// 20 ms in mode 0; its OUT pin, read back through the status latch, says when). The rate is
// rounded to a whole MHz, so a restarted timer service, which measures again, finds the same
// rate and time does not jump. A deadline programs channel 0 in mode 0 ("interrupt on terminal
// count") for what is left, at most 50 ms (the counter has 16 bits at 1.193182 MHz): an early
// interrupt finds nobody due and programs the rest (timer_server.cpp).
#pragma once

#include <cstdint>

#include "system/layout.hpp"
#include "ukernel/caps.hpp"

namespace system_example {

using ukernel::word;
class Runtime;  // runtime.hpp

class Clock {
 public:
  // Nothing to map: the I/O ports are used through their capability where granted.
  static void attach(Runtime&) {}
  static std::uint64_t now_ns() {
    std::uint64_t hz = tsc_hz();
    std::uint64_t tsc = read_tsc();
    return tsc / hz * kNsPerSecond + tsc % hz * kNsPerSecond / hz;
  }
  // Raises the interrupt once at `deadline_ns` (0: never), replacing any earlier deadline.
  static void set_deadline(std::uint64_t deadline_ns) {
    if (deadline_ns == 0) return;  // a pending count ends in a harmless early interrupt
    std::uint64_t now = now_ns();
    std::uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
    if (left > kMaxCountNs) left = kMaxCountNs;
    std::uint64_t ticks = left * kPitHz / kNsPerSecond;
    start_count(ticks == 0 ? 1 : ticks > 0xffff ? 0xffff : word(ticks));
  }

 private:
  static constexpr std::uint64_t kNsPerSecond = 1'000'000'000;
  static constexpr std::uint64_t kPitHz = 1'193'182;
  static constexpr std::uint64_t kMaxCountNs = 50'000'000;
  static constexpr word kChannel0 = grant(kTimerIndex, "timer").first;
  static constexpr word kCommand = kChannel0 + 3;
  static constexpr std::uint8_t kChannel0Mode0 = 0x30;    // low then high byte, mode 0, binary
  static constexpr std::uint8_t kReadBackStatus0 = 0xe2;  // latch channel 0's status only
  static constexpr word kOutputHigh = 0x80;               // status: the OUT pin
  static constexpr word kCalibrationTicks = 23'864;       // 20 ms

  static ukernel::IoPorts ports() { return ukernel::IoPorts(grant_slot(kTimerIndex, "timer")); }
  static std::uint64_t read_tsc() {
    std::uint32_t low, high;
    asm volatile("rdtsc" : "=a"(low), "=d"(high));
    return (std::uint64_t{high} << 32) | low;
  }
  static void start_count(word ticks) {
    (void)ports().write8(kCommand, kChannel0Mode0);
    (void)ports().write8(kChannel0, std::uint8_t(ticks & 0xff));
    (void)ports().write8(kChannel0, std::uint8_t(ticks >> 8));
  }
  static std::uint64_t tsc_hz() {
    if (hz_ != 0) return hz_;
    start_count(kCalibrationTicks);
    std::uint64_t begin = read_tsc();
    for (int i = 0; i < 1'000'000; ++i) {
      (void)ports().write8(kCommand, kReadBackStatus0);
      if ((ports().read8(kChannel0).value & kOutputHigh) != 0) break;
    }
    std::uint64_t cycles = read_tsc() - begin;
    std::uint64_t hz = cycles * kPitHz / kCalibrationTicks;
    hz = (hz + 500'000) / 1'000'000 * 1'000'000;
    hz_ = hz != 0 ? hz : 1'000'000'000;
    return hz_;
  }
  static inline std::uint64_t hz_ = 0;
};

}  // namespace system_example
