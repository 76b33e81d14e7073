// Interrupt controllers: the legacy 8259 pair (remapped and masked for good), the local APIC
// (timer, EOI) and the I/O APIC (device lines). See interrupts.cpp for how they are set up.
#pragma once

#include <cstdint>

namespace ukernel::x86 {

// The number of I/O APIC inputs (QEMU's and most PCs' I/O APIC has 24).
inline constexpr unsigned kIrqLines = 24;

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

void ioapic_init();
void ioapic_mask(unsigned line);
void ioapic_unmask(unsigned line);
// Delivers `line` to this CPU at UK_VECTOR_IRQ_BASE + line: edge-triggered active-high (ISA) or
// level-triggered active-low (PCI). Routing leaves the mask state unchanged.
void ioapic_route(unsigned line, bool level_triggered);

}  // namespace ukernel::x86
