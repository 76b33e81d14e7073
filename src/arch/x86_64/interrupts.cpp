// Interrupt controllers and the timer.
//
// 8259 PIC: remapped to UK_VECTOR_PIC_BASE and fully masked, so that a spurious IRQ 7/15 cannot
// be mistaken for an exception; the kernel never unmasks it.
// Local APIC (xAPIC, MMIO, mapped uncached): spurious vector UK_VECTOR_SPURIOUS, timer in
// one-shot mode at UK_VECTOR_TIMER with divider 16. Both the timer rate and the TSC rate are
// measured once at boot against PIT channel 2 over 10 ms (PIT: 1.193182 MHz on every PC; it
// is the one clock whose rate is architectural). now_ns() is the TSC since calibration.
// Under QEMU TCG the LAPIC timer runs at 1 GHz / divider; calibration finds that, so nothing
// depends on it. With -icount the rates are in virtual time and runs are repeatable.
// I/O APIC: the first one ACPI's MADT lists (platform_tables(); 0xfec00000 on QEMU); line n
// delivers vector UK_VECTOR_IRQ_BASE + n to the boot CPU, physical destination, fixed delivery,
// edge-triggered active-high unless a MADT interrupt source override says otherwise (QEMU:
// ISA IRQ 0 arrives on GSI 2; GSIs 5, 9, 10, 11 are level-triggered active-high).
// MSI lines (kWiredLines..kIrqLines): a device writes the message msi_message() gives straight
// to the local APIC, so the kernel cannot mask them at a controller; it masks them in msi_state
// instead, keeping one that fires while masked as pending, and raises it again with a self-IPI
// on unmask. Edge-triggered by nature: nothing is lost between fire and acknowledge.
#include "arch/interrupts.hpp"

#include "arch/console.hpp"
#include "arch/memory.hpp"
#include "arch/x86_layout.h"
#include "cpu.hpp"

namespace ukernel::x86 {
namespace {

// --- local APIC registers (byte offsets) ---
constexpr word kLapicId = 0x20;
constexpr word kLapicTaskPriority = 0x80;
constexpr word kLapicEoi = 0xb0;
constexpr word kLapicInterruptCommand = 0x300;
constexpr word kLapicSpurious = 0xf0;
constexpr word kLapicLvtTimer = 0x320;
constexpr word kLapicLvtLint0 = 0x350;
constexpr word kLapicLvtLint1 = 0x360;
constexpr word kLapicLvtError = 0x370;
constexpr word kLapicTimerInitial = 0x380;
constexpr word kLapicTimerCurrent = 0x390;
constexpr word kLapicTimerDivide = 0x3e0;
constexpr std::uint32_t kLvtMasked = 1u << 16;
constexpr std::uint32_t kLvtNmi = 4u << 8;
constexpr std::uint32_t kIcrSelf = 1u << 18;  // destination shorthand: this CPU
constexpr word kMsiAddressBase = 0xfee00000;  // the local APICs' MSI window (Intel SDM 11.11)

constexpr std::uint32_t kIoApicRedirectionMasked = 1u << 16;
constexpr std::uint32_t kIoApicLevel = 1u << 15;
constexpr std::uint32_t kIoApicActiveLow = 1u << 13;

volatile std::uint32_t* lapic = nullptr;
volatile std::uint32_t* ioapic = nullptr;
unsigned ioapic_lines = 0;
std::uint32_t boot_apic_id = 0;

struct MsiLine {
  bool masked = true;
  bool pending = false;
};
MsiLine msi_state[kMsiLines];

std::uint64_t lapic_hz = 0;
std::uint64_t tsc_hz = 0;
std::uint64_t tsc_at_calibration = 0;

std::uint32_t lapic_read(word reg) {
  return lapic[reg / 4];
}
void lapic_write(word reg, std::uint32_t value) {
  lapic[reg / 4] = value;
}

std::uint32_t ioapic_read(std::uint32_t reg) {
  ioapic[0] = reg;
  return ioapic[4];
}
void ioapic_write(std::uint32_t reg, std::uint32_t value) {
  ioapic[0] = reg;
  ioapic[4] = value;
}

// Runs PIT channel 2 in mode 0 for 10 ms and busy-waits for its output; false if it never
// finishes (no PIT).
bool pit_wait_10ms() {
  constexpr std::uint16_t kCount = 11932;                             // 1193182 Hz / 100
  outb(0x61, static_cast<std::uint8_t>((inb(0x61) & ~0x02) | 0x01));  // gate on, speaker off
  outb(0x43, 0xb0);  // channel 2, low then high byte, mode 0, binary
  outb(0x42, kCount & 0xff);
  outb(0x42, kCount >> 8);
  for (std::uint64_t i = 0; i < 100'000'000; ++i) {
    if ((inb(0x61) & 0x20) != 0) return true;
  }
  return false;
}

}  // namespace

void pic_disable() {
  // ICW1..ICW4: cascade, vectors base and base+8, slave on IRQ 2, 8086 mode; then mask all.
  outb(0x20, 0x11);
  outb(0xa0, 0x11);
  outb(0x21, UK_VECTOR_PIC_BASE);
  outb(0xa1, UK_VECTOR_PIC_BASE + 8);
  outb(0x21, 0x04);
  outb(0xa1, 0x02);
  outb(0x21, 0x01);
  outb(0xa1, 0x01);
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
}

void lapic_init() {
  std::uint64_t base = rdmsr(msr::kApicBase);
  wrmsr(msr::kApicBase, base | (1u << 11));  // globally enabled, xAPIC mode
  lapic = static_cast<volatile std::uint32_t*>(map_device(base & 0xffffff000, kPageSize));
  boot_apic_id = lapic_read(kLapicId) >> 24;
  lapic_write(kLapicTaskPriority, 0);
  lapic_write(kLapicLvtTimer, kLvtMasked | UK_VECTOR_TIMER);
  lapic_write(kLapicLvtLint0, kLvtMasked);
  lapic_write(kLapicLvtLint1, kLvtNmi);
  lapic_write(kLapicLvtError, kLvtMasked);
  lapic_write(kLapicTimerDivide, 0x3);                      // divide by 16
  lapic_write(kLapicSpurious, 0x100 | UK_VECTOR_SPURIOUS);  // software enable
}

void lapic_eoi() {
  lapic_write(kLapicEoi, 0);
}

void timer_calibrate() {
  lapic_write(kLapicTimerInitial, 0xffffffff);
  std::uint64_t tsc_start = rdtsc();
  bool ok = pit_wait_10ms();
  std::uint64_t tsc_end = rdtsc();
  std::uint32_t remaining = lapic_read(kLapicTimerCurrent);
  lapic_write(kLapicTimerInitial, 0);
  if (!ok) panic("PIT channel 2 does not run: cannot calibrate the timer");
  lapic_hz = (0xffffffffull - remaining) * 100;
  tsc_hz = (tsc_end - tsc_start) * 100;
  if (lapic_hz == 0 || tsc_hz == 0) panic("timer calibration measured 0 Hz");
  tsc_at_calibration = tsc_end;
}

std::uint64_t timer_lapic_hz() {
  return lapic_hz;
}
std::uint64_t timer_tsc_hz() {
  return tsc_hz;
}

std::uint64_t timer_now_ns() {
  if (tsc_hz == 0) return 0;  // not calibrated yet
  std::uint64_t ticks = rdtsc() - tsc_at_calibration;
  return ticks / tsc_hz * 1'000'000'000 + ticks % tsc_hz * 1'000'000'000 / tsc_hz;
}

void timer_arm(std::uint64_t deadline_ns) {
  if (deadline_ns == 0) {
    lapic_write(kLapicTimerInitial, 0);
    return;
  }
  std::uint64_t now = timer_now_ns();
  std::uint64_t delta = deadline_ns > now ? deadline_ns - now : 0;
  // Longer waits are split: the early interrupt finds the deadline not reached and re-arms.
  if (delta > 1'000'000'000) delta = 1'000'000'000;
  std::uint64_t ticks = delta * (lapic_hz / 1000) / 1'000'000;
  if (ticks == 0) ticks = 1;
  if (ticks > 0xffffffff) ticks = 0xffffffff;
  lapic_write(kLapicLvtTimer, UK_VECTOR_TIMER);  // one-shot, unmasked
  lapic_write(kLapicTimerInitial, static_cast<std::uint32_t>(ticks));
}

void ioapic_init() {
  const acpi::Madt& madt = platform_tables().madt;
  ioapic = static_cast<volatile std::uint32_t*>(map_device(madt.io_apics[0].address, 0x20));
  ioapic_lines = ((ioapic_read(1) >> 16) & 0xff) + 1;
  if (ioapic_lines > kWiredLines) ioapic_lines = kWiredLines;
  for (unsigned line = 0; line < ioapic_lines; ++line) {
    ioapic_write(0x10 + 2 * line, kIoApicRedirectionMasked | (UK_VECTOR_IRQ_BASE + line));
    ioapic_write(0x11 + 2 * line, boot_apic_id << 24);
  }
  // An override names a GSI; lines are GSIs counted from the first I/O APIC's base.
  std::uint32_t gsi_base = madt.io_apics[0].gsi_base;
  for (std::size_t i = 0; i < madt.override_count; ++i) {
    const acpi::Override& o = madt.overrides[i];
    if (o.gsi < gsi_base || o.gsi - gsi_base >= ioapic_lines) continue;  // another I/O APIC's
    unsigned line = o.gsi - gsi_base;
    std::uint32_t low = kIoApicRedirectionMasked | (UK_VECTOR_IRQ_BASE + line);
    if (o.level_triggered()) low |= kIoApicLevel;
    if (o.active_low()) low |= kIoApicActiveLow;
    ioapic_write(0x10 + 2 * line, low);
  }
}

void irq_line_mask(unsigned line) {
  if (line >= kWiredLines) {
    if (line < kIrqLines) msi_state[line - kWiredLines].masked = true;
    return;
  }
  if (line >= ioapic_lines) return;
  ioapic_write(0x10 + 2 * line, ioapic_read(0x10 + 2 * line) | kIoApicRedirectionMasked);
}

void irq_line_unmask(unsigned line) {
  if (line >= kWiredLines) {
    if (line >= kIrqLines) return;
    MsiLine& msi = msi_state[line - kWiredLines];
    msi.masked = false;
    if (msi.pending) {
      msi.pending = false;
      // Taken once interrupts are enabled again (on the way back to user mode).
      lapic_write(kLapicInterruptCommand, kIcrSelf | (UK_VECTOR_IRQ_BASE + line));
    }
    return;
  }
  if (line >= ioapic_lines) return;
  ioapic_write(0x10 + 2 * line, ioapic_read(0x10 + 2 * line) & ~kIoApicRedirectionMasked);
}

bool irq_line_acknowledge(unsigned line) {
  if (line >= kWiredLines) {
    lapic_eoi();
    MsiLine& msi = msi_state[line - kWiredLines];
    if (msi.masked) {
      msi.pending = true;
      return false;
    }
    return true;
  }
  irq_line_mask(line);
  lapic_eoi();
  return true;
}

bool msi_message(unsigned line, std::uint64_t& address, std::uint64_t& data) {
  if (line < kWiredLines || line >= kIrqLines) return false;
  address = kMsiAddressBase | (std::uint64_t{boot_apic_id} << 12);
  data = UK_VECTOR_IRQ_BASE + line;  // fixed delivery, edge-triggered
  return true;
}

}  // namespace ukernel::x86
