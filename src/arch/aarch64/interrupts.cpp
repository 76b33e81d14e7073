// The GICv2 and the EL1 virtual timer.
//
// Addresses and PPIs come from the device tree (memory.cpp read it and refused a machine without
// them): the distributor and CPU interface, the virtual timer's PPI (the kernel's clock) and the
// non-secure physical timer's (the deadline line, arch/interrupts.hpp).
//
// GIC: every SPI goes to CPU 0 at one priority, disabled until the core unmasks it; SGIs and
// PPIs stay disabled except the kernel timer's PPI (the deadline line's is a line like any other).
// The kernel runs with PSTATE.I set and idles with WFI, which wakes on a pending interrupt even
// while it is masked; an interrupt is then taken by reading GICC_IAR (traps.cpp), so no interrupt
// is ever delivered to EL1 itself.
//
// GICv2m (QEMU virt: 0x08020000, from the device tree): a device raises SPI n by writing n's
// INTID to the frame's MSI_SETSPI_NS register. Its SPIs are set edge-triggered; the core masks
// a line by disabling it at the distributor, which keeps an edge that arrives meanwhile pending
// and delivers it when the line is enabled again.
//
// Timer: CNTVCT_EL0 counts at CNTFRQ_EL0 (62.5 MHz under QEMU TCG); now_ns() converts it, and a
// one-shot deadline goes into CNTV_CVAL_EL0. EL0 may read the counter (CNTKCTL_EL1.EL0VCTEN) but
// not the timers: a user deadline goes through the kernel into CNTP_CVAL_EL0 (without EL2,
// CNTPCT = CNTVCT, so both timers compare against the count user code reads).
#include "arch/interrupts.hpp"

#include "arch/console.hpp"
#include "arch/memory.hpp"
#include "cpu.hpp"
#include "ukernel/fdt.hpp"

namespace ukernel::aarch64 {
namespace {

word distributor_ = 0;  // kernel virtual addresses, from the device tree
word cpu_interface_ = 0;
unsigned timer_intid_ = 0;     // CNTV's
unsigned deadline_intid_ = 0;  // CNTP's
// Distributor registers.
constexpr word kDistControl = 0x000;
constexpr word kDistType = 0x004;
constexpr word kSetEnable = 0x100;
constexpr word kClearEnable = 0x180;
constexpr word kClearPending = 0x280;
constexpr word kPriority = 0x400;
constexpr word kTargets = 0x800;
constexpr word kConfig = 0xc00;  // two bits per INTID; the upper one set: edge-triggered
// GICv2m frame registers.
constexpr word kV2mTyper = 0x008;
constexpr word kV2mSetSpi = 0x040;
// The kernel maps the first GiB of the physical address space (devices) at UK_KERNEL_BASE.
constexpr word kDeviceWindowEnd = word{1} << 30;
// CPU interface registers.
constexpr word kCpuControl = 0x00;
constexpr word kPriorityMask = 0x04;
constexpr word kAcknowledge = 0x0c;
constexpr word kEndOfInterrupt = 0x10;

constexpr std::uint32_t kPriorityAll = 0xa0a0a0a0;
constexpr std::uint32_t kTargetCpu0 = 0x01010101;
constexpr std::uint64_t kNsPerSecond = 1'000'000'000;

std::uint64_t frequency = 0;
word v2m_paddr = 0;
unsigned msi_first_line = 0, msi_line_count = 0;

void dist_write(word offset, std::uint32_t value) {
  mmio_write32(distributor_ + offset, value);
}

void enable_intid(unsigned intid, bool on) {
  dist_write((on ? kSetEnable : kClearEnable) + 4 * (intid / 32), 1u << (intid % 32));
}

std::uint64_t ticks_to_ns(std::uint64_t ticks) {
  return ticks / frequency * kNsPerSecond + ticks % frequency * kNsPerSecond / frequency;
}
std::uint64_t ns_to_ticks(std::uint64_t ns) {
  return ns / kNsPerSecond * frequency +
         (ns % kNsPerSecond * frequency + kNsPerSecond - 1) / kNsPerSecond;
}

}  // namespace

namespace {

// The v2m frame's SPIs as lines: MSI_TYPER's base INTID (bits 25:16) and count (bits 9:0),
// clipped to the lines the core knows; each set edge-triggered.
void v2m_init() {
  const fdt::Platform* p = platform();
  if (p == nullptr || !p->gic.has_v2m || p->gic.v2m.base + kPageSize > kDeviceWindowEnd) return;
  word frame = p->gic.v2m.base;
  std::uint32_t typer = mmio_read32(UK_KERNEL_BASE + frame + kV2mTyper);
  unsigned base = (typer >> 16) & 0x3ff, count = typer & 0x3ff;
  if (base < kFirstSpi || base - kFirstSpi >= kSpiLines || count == 0) {
    print("GICv2m: MSI_TYPER ", typer, " names no SPI the kernel has; no MSI lines\n");
    return;
  }
  msi_first_line = base - kFirstSpi;
  msi_line_count = count < kSpiLines - msi_first_line ? count : kSpiLines - msi_first_line;
  for (unsigned line = msi_first_line; line < msi_first_line + msi_line_count; ++line) {
    unsigned intid = kFirstSpi + line;
    word reg = distributor_ + kConfig + 4 * (intid / 16);
    mmio_write32(reg, mmio_read32(reg) | 2u << (2 * (intid % 16)));
  }
  v2m_paddr = frame;
}

}  // namespace

bool gic_msi_message(unsigned line, std::uint64_t& address, std::uint64_t& data) {
  if (v2m_paddr == 0 || line < msi_first_line || line - msi_first_line >= msi_line_count)
    return false;
  address = v2m_paddr + kV2mSetSpi;
  data = kFirstSpi + line;
  return true;
}

void gic_init() {
  const fdt::Platform* p = platform();  // memory_init() refused a machine without these
  if (p == nullptr) panic("GIC: no device tree");
  if (p->gic.distributor.base + 0x1000 > kDeviceWindowEnd ||
      p->gic.cpu_interface.base + 0x2000 > kDeviceWindowEnd)
    panic("GIC: the device tree puts it outside the kernel's device window");
  distributor_ = UK_KERNEL_BASE + p->gic.distributor.base;
  cpu_interface_ = UK_KERNEL_BASE + p->gic.cpu_interface.base;
  timer_intid_ = p->timer.virtual_timer.gic_id();
  deadline_intid_ = p->timer.physical.gic_id();
  dist_write(kDistControl, 0);
  unsigned intids = 32 * ((mmio_read32(distributor_ + kDistType) & 0x1f) + 1);
  for (unsigned i = 0; i < intids; i += 32) {
    dist_write(kClearEnable + i / 8, 0xffffffff);
    dist_write(kClearPending + i / 8, 0xffffffff);
  }
  for (unsigned i = 0; i < intids; i += 4) {
    dist_write(kPriority + i, kPriorityAll);
    if (i >= kFirstSpi) dist_write(kTargets + i, kTargetCpu0);
  }
  v2m_init();
  dist_write(kDistControl, 1);
  mmio_write32(cpu_interface_ + kPriorityMask, 0xf0);
  mmio_write32(cpu_interface_ + kCpuControl, 1);
  enable_intid(timer_intid_, true);
}

unsigned kernel_timer_intid() {
  return timer_intid_;
}
unsigned deadline_timer_intid() {
  return deadline_intid_;
}

// Masking the deadline line also stops its timer: a cleared or released line keeps no deadline,
// and a delivered one stops asserting its level-triggered PPI.
void gic_mask(unsigned line) {
  if (line < kSpiLines) enable_intid(kFirstSpi + line, false);
  if (line == kDeadlineLine) {
    enable_intid(deadline_intid_, false);
    deadline_disarm();
  }
}
void gic_unmask(unsigned line) {
  if (line < kSpiLines) enable_intid(kFirstSpi + line, true);
  if (line == kDeadlineLine) enable_intid(deadline_intid_, true);
}

unsigned gic_acknowledge() {
  return mmio_read32(cpu_interface_ + kAcknowledge) & 0x3ff;
}
void gic_end(unsigned intid) {
  mmio_write32(cpu_interface_ + kEndOfInterrupt, intid);
}

void timer_init() {
  frequency = UK_READ_SYSREG(cntfrq_el0);
  UK_WRITE_SYSREG(cntv_ctl_el0, 0);
  UK_WRITE_SYSREG(cntp_ctl_el0, 0);
  UK_WRITE_SYSREG(cntkctl_el1, word{1} << 1);  // EL0VCTEN: user code may read CNTVCT_EL0
  isb();
}

std::uint64_t timer_now_ns() {
  isb();
  return ticks_to_ns(UK_READ_SYSREG(cntvct_el0));
}

void timer_arm(std::uint64_t deadline_ns) {
  if (deadline_ns == 0) {
    timer_disarm();
    return;
  }
  UK_WRITE_SYSREG(cntv_cval_el0, ns_to_ticks(deadline_ns));
  UK_WRITE_SYSREG(cntv_ctl_el0, 1);
  isb();
}

void timer_disarm() {
  UK_WRITE_SYSREG(cntv_ctl_el0, 0);
  isb();
}

void deadline_arm(std::uint64_t deadline_ns) {
  if (deadline_ns == 0) {
    deadline_disarm();
    return;
  }
  UK_WRITE_SYSREG(cntp_cval_el0, ns_to_ticks(deadline_ns));
  UK_WRITE_SYSREG(cntp_ctl_el0, 1);
  isb();
}

void deadline_disarm() {
  UK_WRITE_SYSREG(cntp_ctl_el0, 0);
  isb();
}

std::uint64_t timer_hz() {
  return frequency;
}

}  // namespace ukernel::aarch64
