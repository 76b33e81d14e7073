// The scenario's AArch64 device checks: device memory and a device interrupt, both only through
// capabilities, on QEMU virt's PL031 real-time clock.
//
// Device memory: the shared checks of device_memory.hpp on the PL031's registers (0x09010000),
// whose PrimeCell identification registers say what it is.
//
// Interrupt: the PL031's match interrupt (SPI 2, line 2). The root task claims the line with
// IrqControl, binds a notification, maps the RTC's registers read-write and raises the interrupt
// by setting the match register to the current count; it arrives as the notification, and the
// line then stays masked until the handler's Ack: the device raising it again before the Ack
// delivers nothing, the Ack delivers the pending (level-triggered) interrupt.
#pragma once

#include <cstdint>

#include "arch_scenario.hpp"
#include "device_memory.hpp"

namespace ukernel::user {

inline constexpr word kRtcBase = 0x09010000;
inline constexpr word kRtcLine = 2;
inline constexpr word kRtcBadge = 0x100;
// PL031 registers (byte offsets).
inline constexpr word kRtcData = 0x00;
inline constexpr word kRtcMatch = 0x04;
inline constexpr word kRtcInterruptMask = 0x10;
inline constexpr word kRtcRawStatus = 0x14;
inline constexpr word kRtcInterruptClear = 0x1c;

inline std::uint32_t rtc_read(word mapped, word offset) {
  return *reinterpret_cast<const volatile std::uint32_t*>(mapped + offset);
}
inline void rtc_write(word mapped, word offset, std::uint32_t value) {
  *reinterpret_cast<volatile std::uint32_t*>(mapped + offset) = value;
}

// --- device memory (device_memory.hpp) -----------------------------------------------------

// The PrimeCell peripheral and cell IDs (0xfe0..0xffc, one byte each): part 0x031, designer 0x41
// (ARM), cell ID 0xb105f00d.
inline bool pl031_identify(word mapped) {
  auto id = [&](word offset) { return word{rtc_read(mapped, offset) & 0xff}; };
  word part = id(0xfe0) | (id(0xfe4) & 0xf) << 8;
  word designer = id(0xfe4) >> 4 | (id(0xfe8) & 0xf) << 4;
  word cell = id(0xff0) | id(0xff4) << 8 | id(0xff8) << 16 | id(0xffc) << 24;
  Line value;
  value << "device: PL031 part " << hex(part) << ", designer " << hex(designer) << ", cell ID "
        << hex(cell);
  value.end();
  return part == 0x031 && designer == 0x41 && cell == 0xb105f00d;
}

inline constexpr DeviceProbe kRtcProbe = {
    "PL031 RTC",
    kRtcBase,
    "BootInfo lists a device untyped covering the PL031 RTC (0x09010000), after the RAM ones",
    "retype a 4 KiB frame from it: FramePhysicalAddress refuses it (not a DMA frame)",
    "map it, read the PrimeCell IDs: part 0x031, designer ARM, cell 0xb105f00d",
    pl031_identify,
};

// --- a device interrupt ----------------------------------------------------------------------

// Raises the match interrupt now: the match register gets the current count. Should the count
// tick between the read and the write, the match is a wrap-around away, so it tries again.
inline bool rtc_raise(word mapped) {
  for (int attempt = 0; attempt < 3 && (rtc_read(mapped, kRtcRawStatus) & 1) == 0; ++attempt)
    rtc_write(mapped, kRtcMatch, rtc_read(mapped, kRtcData));
  return (rtc_read(mapped, kRtcRawStatus) & 1) != 0;
}

inline void interrupt_checks(const Scenario& s) {
  RootKit& root = *s.root;
  auto report = [&](bool ok, std::string_view what) { s.report(ok, "irq", what); };

  word device_untyped = device_untyped_covering(*root.info, kRtcBase);
  word frame = root.slot();
  word handler = root.slot();
  word notification = root.make(ObjectType::kNotification);
  word badged = root.mint(notification, Rights::kWrite, kRtcBadge);
  bool set_up =
      device_untyped != 0 &&
      retype(device_untyped, ObjectType::kFrame, 12, kRootCNodeSlot, frame) == Error::kOk &&
      map_frame(kRootAddressSpaceSlot, frame, kDeviceMapping, Rights::kRead | Rights::kWrite) ==
          Error::kOk &&
      irq_control_get(kIrqControlSlot, kRtcLine, kRootCNodeSlot, handler) == Error::kOk &&
      irq_set_notification(handler, badged) == Error::kOk;
  report(set_up, "claim line 2 (PL031 RTC), bind a notification with badge 0x100");
  report(irq_control_get(kIrqControlSlot, kRtcLine, kRootCNodeSlot, root.slot()) == Error::kBusy,
         "claim line 2 again: kBusy");
  if (!set_up) return;

  rtc_write(kDeviceMapping, kRtcInterruptClear, 1);
  rtc_write(kDeviceMapping, kRtcInterruptMask, 1);
  bool raised = rtc_raise(kDeviceMapping);
  Message first = raised ? wait(notification) : Message{};
  report(raised && first.ok() && first.badge == kRtcBadge,
         "the RTC's match interrupt arrives as the notification, badge 0x100");

  // The device is acknowledged and raises the interrupt again, but the handler is not
  // acknowledged: the line stays masked, so nothing arrives.
  rtc_write(kDeviceMapping, kRtcInterruptClear, 1);
  bool again = rtc_raise(kDeviceMapping);
  Message early = poll(notification);
  Line seen;
  seen << "irq: the RTC " << (again ? "raised" : "did not raise")
       << " its interrupt again before the ack; the notification has " << hex(early.badge);
  seen.end();
  report(again && early.ok() && early.badge == 0,
         "no second interrupt before the ack (the device raised it, the line stayed masked)");

  Message second = irq_ack(handler) == Error::kOk ? wait(notification) : Message{};
  report(second.ok() && second.badge == kRtcBadge, "ack: the pending interrupt arrives");

  // Off again: the device first, then the line (deleting the handler masks and releases it).
  rtc_write(kDeviceMapping, kRtcInterruptMask, 0);
  rtc_write(kDeviceMapping, kRtcInterruptClear, 1);
  report(cnode_delete(kRootCNodeSlot, handler) == Error::kOk &&
             irq_control_get(kIrqControlSlot, kRtcLine, kRootCNodeSlot, handler) == Error::kOk &&
             cnode_delete(kRootCNodeSlot, handler) == Error::kOk &&
             unmap_frame(kRootAddressSpaceSlot, kDeviceMapping) == Error::kOk &&
             cnode_delete(kRootCNodeSlot, frame) == Error::kOk,
         "delete the handler: the line is released and can be claimed again");
}

}  // namespace ukernel::user
