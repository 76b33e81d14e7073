// The GICv2 (QEMU virt: distributor 0x08000000, CPU interface 0x08010000) and the EL1 virtual
// timer (CNTV, PPI 27). See interrupts.cpp.
#pragma once

#include <cstdint>

namespace ukernel::aarch64 {

// Device lines: line n is SPI n (INTID 32 + n).
inline constexpr unsigned kIrqLines = 64;
inline constexpr unsigned kFirstSpi = 32;
inline constexpr unsigned kTimerIntid = 27;  // the EL1 virtual timer's PPI

void gic_init();
void gic_mask(unsigned line);
void gic_unmask(unsigned line);
// The highest-priority pending interrupt, acknowledged (INTID; 1023 if none), and its end.
unsigned gic_acknowledge();
void gic_end(unsigned intid);

void timer_init();
std::uint64_t timer_now_ns();
// One-shot timer interrupt at absolute time `deadline_ns` (0 disarms).
void timer_arm(std::uint64_t deadline_ns);
// Stops a fired timer from asserting its (level-triggered) interrupt again.
void timer_disarm();
std::uint64_t timer_hz();

}  // namespace ukernel::aarch64
