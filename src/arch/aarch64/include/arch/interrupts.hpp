// The GICv2 (QEMU virt: distributor 0x08000000, CPU interface 0x08010000) and the EL1 virtual
// timer (CNTV, PPI 27). See interrupts.cpp.
#pragma once

#include <cstdint>

namespace ukernel::aarch64 {

// Device lines: line n is SPI n (INTID 32 + n). QEMU virt wires SPIs 0..47 to devices and gives
// its GICv2m frame SPIs 48..111 (MSI_TYPER), which become lines raised by MSI.
inline constexpr unsigned kIrqLines = 112;
inline constexpr unsigned kFirstSpi = 32;
inline constexpr unsigned kTimerIntid = 27;  // the EL1 virtual timer's PPI

// Sets up the distributor and CPU interface, and the GICv2m frame's SPIs (edge-triggered) when
// the device tree names one.
void gic_init();
// The MSI (address, data) that raises `line`: the v2m frame's MSI_SETSPI_NS register and the
// SPI's INTID. False for wired lines, and on a machine without a v2m frame.
bool gic_msi_message(unsigned line, std::uint64_t& address, std::uint64_t& data);
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
