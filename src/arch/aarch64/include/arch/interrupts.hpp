// The GICv2 and the EL1 timers, where the device tree says (QEMU virt: distributor 0x08000000,
// CPU interface 0x08010000; CNTV on PPI 27, CNTP on PPI 30). See interrupts.cpp.
#pragma once

#include <cstdint>

namespace ukernel::aarch64 {

// Device lines: line n < kSpiLines is SPI n (INTID 32 + n). QEMU virt wires SPIs 0..47 to
// devices and gives its GICv2m frame SPIs 48..111 (MSI_TYPER), which become lines raised by MSI.
// The last line, kDeadlineLine, is the EL1 non-secure physical timer (CNTP, its PPI from the
// device tree): a user-level timer driver holding its IrqHandler sets one deadline at a time
// (kIrqHandlerSetDeadline) and hears it as its notification. The kernel's own clock is the
// virtual timer (CNTV, also a PPI from the device tree); the two never share a register.
inline constexpr unsigned kSpiLines = 112;
inline constexpr unsigned kDeadlineLine = kSpiLines;
inline constexpr unsigned kIrqLines = kSpiLines + 1;
inline constexpr unsigned kFirstSpi = 32;
// The INTIDs of the kernel's timer (virtual) and of the deadline line's timer (physical).
unsigned kernel_timer_intid();
unsigned deadline_timer_intid();

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
// The deadline line's timer: one interrupt at absolute time `deadline_ns` (the clock of
// timer_now_ns; 0 disarms); disarm also stops a fired one asserting its interrupt.
void deadline_arm(std::uint64_t deadline_ns);
void deadline_disarm();
std::uint64_t timer_hz();

}  // namespace ukernel::aarch64
