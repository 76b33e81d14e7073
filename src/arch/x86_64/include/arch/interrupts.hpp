// Interrupt controllers: the legacy 8259 pair (remapped and masked for good), the local APIC
// (timer, EOI) and the I/O APIC (device lines). See interrupts.cpp for how they are set up.
#pragma once

#include <cstdint>

namespace ukernel::x86 {

// Interrupt lines: the first I/O APIC's inputs (QEMU's and most PCs' has 24), then lines raised
// only by message (MSI/MSI-X), which no wire reaches. Line n arrives at UK_VECTOR_IRQ_BASE + n.
inline constexpr unsigned kWiredLines = 24;
inline constexpr unsigned kMsiLines = 32;
inline constexpr unsigned kIrqLines = kWiredLines + kMsiLines;

void pic_disable();

void lapic_init();
void lapic_eoi();
// Measures the LAPIC timer and TSC rates against the PIT (10 ms); needs lapic_init().
void timer_calibrate();
std::uint64_t timer_now_ns();
// One-shot LAPIC timer interrupt at absolute time `deadline_ns` (0 disarms).
void timer_arm(std::uint64_t deadline_ns);
std::uint64_t timer_lapic_hz();
std::uint64_t timer_tsc_hz();

// Masks every input and applies the MADT's interrupt source overrides (polarity, trigger).
void ioapic_init();
// Line masking for wired and MSI lines alike. An MSI line is masked in the kernel's own table
// (a device's MSI-X vector stays the driver's to mask): one that fires while masked is
// remembered and raised again, by a self-IPI, when it is unmasked.
void irq_line_mask(unsigned line);
void irq_line_unmask(unsigned line);
// An interrupt at UK_VECTOR_IRQ_BASE + line: masks a wired line (a level-triggered one would
// fire again at once) and sends the EOI. False if the line is masked MSI: it is pending, not
// delivered.
bool irq_line_acknowledge(unsigned line);
// The MSI (address, data) that raises `line`: this CPU's local APIC, fixed delivery, edge,
// vector UK_VECTOR_IRQ_BASE + line. False for wired lines.
bool msi_message(unsigned line, std::uint64_t& address, std::uint64_t& data);

}  // namespace ukernel::x86
