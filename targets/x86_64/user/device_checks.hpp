// The scenario's x86-64 device checks: device memory and a device interrupt, both only through
// capabilities.
//
// Device memory: the shared checks of device_memory.hpp on the HPET's registers (0xfed00000),
// whose General Capabilities register identifies it.
//
// Interrupt: the RTC's periodic interrupt (ISA IRQ 8; CMOS registers through ports 0x70/0x71 and
// the root task's IoPorts capability). The root task claims line 8 with IrqControl, binds a
// notification, turns the interrupt on and waits for it; the line then stays masked until the
// handler's Ack, so a period that passes before the Ack raises nothing (the I/O APIC drops an edge
// on a masked line), and one after it does. The RTC rather than COM1: COM1 is the console, whose
// every write would raise a transmitter-empty interrupt.
#pragma once

#include "arch_scenario.hpp"
#include "device_memory.hpp"
#include "ukernel/caps.hpp"

namespace ukernel::user {

// --- device memory (device_memory.hpp) -----------------------------------------------------
inline constexpr word kHpetBase = 0xfed00000;

// The HPET's General Capabilities register: vendor 0x8086, a non-zero revision.
inline bool hpet_identify(word mapped) {
  word capabilities = *reinterpret_cast<const volatile std::uint32_t*>(mapped);
  Line value;
  value << "device: HPET general capabilities " << hex(capabilities) << " (vendor "
        << hex(capabilities >> 16) << ", revision " << (capabilities & 0xff) << ")";
  value.end();
  return (capabilities >> 16) == 0x8086 && (capabilities & 0xff) != 0;
}

inline constexpr DeviceProbe kHpetProbe = {
    "HPET",
    kHpetBase,
    "BootInfo lists a device untyped covering the HPET (0xfed00000), after the RAM ones",
    "retype a 4 KiB frame from it: FramePhysicalAddress refuses it (not a DMA frame)",
    "map it, read the HPET capabilities: vendor 0x8086, revision non-zero",
    hpet_identify,
};

inline void device_memory_checks(const Scenario& s) {
  device_memory_checks(s, kHpetProbe);
}

// --- a device interrupt ----------------------------------------------------------------------
inline constexpr word kRtcIrq = 8;
inline constexpr word kCmosIndex = 0x70;
inline constexpr word kCmosData = 0x71;
inline constexpr std::uint8_t kRtcStatusB = 0x0b;
inline constexpr std::uint8_t kRtcStatusC = 0x0c;
inline constexpr std::uint8_t kRtcPeriodicEnable = 0x40;  // status B: PIE
inline constexpr std::uint8_t kRtcPeriodicFlag = 0x40;    // status C: PF
inline constexpr std::uint8_t kCmosNmiOff = 0x80;         // index bit 7: NMI stays masked
inline constexpr word kRtcBadge = 0x100;

// A CMOS register through the CMOS ports' capability (0 if a port access failed).
inline std::uint8_t cmos_read(IoPorts cmos, std::uint8_t reg) {
  if (cmos.write8(kCmosIndex, kCmosNmiOff | reg) != Error::kOk) return 0;
  IoPorts::ReadResult r = cmos.read8(kCmosData);
  return static_cast<std::uint8_t>(r.ok() ? r.value : 0);
}
inline bool cmos_write(IoPorts cmos, std::uint8_t reg, std::uint8_t value) {
  return cmos.write8(kCmosIndex, kCmosNmiOff | reg) == Error::kOk &&
         cmos.write8(kCmosData, value) == Error::kOk;
}

inline void interrupt_checks(const Scenario& s) {
  RootKit& root = *s.root;
  auto report = [&](bool ok, std::string_view what) { s.report(ok, "irq", what); };

  const IoPorts cmos{root.slot()};
  word handler = root.slot();
  word notification = root.make(ObjectType::kNotification);
  word badged = root.mint(notification, Rights::kWrite, kRtcBadge);
  bool set_up =
      root_task::kIoPorts.issue(kCmosIndex, 2, root_task::kCNode, cmos.address()) == Error::kOk &&
      irq_control_get(kIrqControlSlot, kRtcIrq, kRootCNodeSlot, handler) == Error::kOk &&
      irq_set_notification(handler, badged) == Error::kOk;
  report(set_up, "claim IRQ 8 (RTC), bind a notification with badge 0x100");
  report(irq_control_get(kIrqControlSlot, kRtcIrq, kRootCNodeSlot, root.slot()) == Error::kBusy,
         "claim IRQ 8 again: kBusy");

  // Turn the periodic interrupt on (1024 Hz, the RTC's default rate), after clearing any flag
  // still pending from before.
  (void)cmos_read(cmos, kRtcStatusC);
  std::uint8_t status_b = cmos_read(cmos, kRtcStatusB);
  bool on = set_up && cmos_write(cmos, kRtcStatusB, status_b | kRtcPeriodicEnable);
  Message first = on ? wait(notification) : Message{};
  report(on && first.ok() && first.badge == kRtcBadge,
         "the RTC's periodic interrupt arrives as the notification, badge 0x100");

  // The device is acknowledged (reading status C lowers its line) but the handler is not: the
  // line stays masked, so the next period (status C shows its flag) raises no interrupt.
  bool raised = (cmos_read(cmos, kRtcStatusC) & kRtcPeriodicFlag) != 0;
  // Polled with a pause between reads: each read is two system calls, and a trace build's ring
  // (8192 records) would otherwise hold nothing but this loop at power-off.
  bool period_passed = false;
  for (word i = 0; i < 100'000 && !period_passed; ++i) {
    for (int spin = 0; spin < 1000; ++spin)
      asm volatile("pause");
    period_passed = (cmos_read(cmos, kRtcStatusC) & kRtcPeriodicFlag) != 0;
  }
  Message early = poll(notification);
  Line seen;
  seen << "irq: the RTC's periodic flag " << (raised ? "was" : "was not")
       << " set; before the ack, a period " << (period_passed ? "passed" : "did not pass")
       << " and the notification has " << hex(early.badge);
  seen.end();
  report(raised && period_passed && early.ok() && early.badge == 0,
         "no second interrupt before the ack (a period passed, the line stayed masked)");

  Message second = irq_ack(handler) == Error::kOk ? wait(notification) : Message{};
  report(second.ok() && second.badge == kRtcBadge, "ack: the next period's interrupt arrives");

  // Off again: the device first, then the line (deleting the handler masks and releases it).
  (void)cmos_write(cmos, kRtcStatusB, status_b);
  (void)cmos_read(cmos, kRtcStatusC);
  report(cnode_delete(kRootCNodeSlot, handler) == Error::kOk &&
             irq_control_get(kIrqControlSlot, kRtcIrq, kRootCNodeSlot, handler) == Error::kOk &&
             cnode_delete(kRootCNodeSlot, handler) == Error::kOk,
         "delete the handler: the line is released and can be claimed again");
}

}  // namespace ukernel::user
