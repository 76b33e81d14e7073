// Finding a virtio 1.x PCI function's register structures in its configuration space.
//
// A modern virtio PCI function (vendor 0x1af4, device 0x1040 + device type; transitional and
// legacy-only functions are not driven) describes where its registers are with vendor-specific
// capabilities (ID 0x09) in the capability list: the common configuration, the notification
// area, the ISR status byte and the device-specific configuration, each a {BAR, offset, length}.
// parse_pci_layout() walks that list in a copy of the function's configuration space (the PCI
// server reads it) and checks everything before anything is used: every capability pointer
// inside the configuration space and the walk finite (a loop is an error), every capability's
// length, and every structure inside a BAR the caller has mapped. The MSI-X capability is
// decoded as well (its table and pending-bit array must lie inside a mapped BAR).
//
// Pure logic on bytes: the host tests it against good and hostile configuration spaces.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ukernel/abi.hpp"

namespace ukernel::virtio {

inline constexpr std::uint16_t kVirtioVendorId = 0x1af4;
inline constexpr std::uint16_t kModernDeviceIdBase = 0x1040;  // + virtio device type
inline constexpr std::uint16_t kModernDeviceIdLast = 0x107f;
inline constexpr unsigned kBarCount = 6;

// Configuration-space facts (PCI Local Bus 3.0, type-0 header).
namespace pci {
inline constexpr word kVendorId = 0x00;
inline constexpr word kDeviceId = 0x02;
inline constexpr word kCommand = 0x04;
inline constexpr word kStatus = 0x06;
inline constexpr word kBar0 = 0x10;
inline constexpr word kCapabilitiesPointer = 0x34;
inline constexpr std::uint16_t kStatusCapabilitiesList = 1u << 4;
inline constexpr std::uint16_t kCommandMemorySpace = 1u << 1;
inline constexpr std::uint16_t kCommandBusMaster = 1u << 2;
inline constexpr std::uint16_t kCommandInterruptDisable = 1u << 10;
inline constexpr std::uint8_t kCapabilityVendor = 0x09;
inline constexpr std::uint8_t kCapabilityMsix = 0x11;
inline constexpr word kHeaderBytes = 0x40;  // capabilities live after the header
// MSI-X capability: message control at +2 (table size - 1 in bits 10:0, function mask bit 14,
// enable bit 15), table offset/BIR at +4, PBA offset/BIR at +8; BIR in bits 2:0.
inline constexpr std::uint16_t kMsixEnable = 1u << 15;
inline constexpr std::uint16_t kMsixFunctionMask = 1u << 14;
inline constexpr word kMsixEntryBytes = 16;
}  // namespace pci

// virtio_pci_cap.cfg_type values (virtio 1.2, 4.1.4).
enum class CapabilityType : std::uint8_t {
  kCommon = 1,
  kNotify = 2,
  kIsr = 3,
  kDevice = 4,
  kPciConfig = 5,
};

// Minimum structure lengths the transport relies on.
inline constexpr word kCommonConfigBytes = 0x38;  // up to and including queue_device
inline constexpr word kVirtioCapabilityBytes = 16;
inline constexpr word kNotifyCapabilityBytes = 20;  // + notify_off_multiplier

enum class LayoutError {
  kOk,
  kConfigTooShort,        // fewer than 64 bytes of configuration space
  kNotModernVirtio,       // vendor/device ID is not a modern (0x1040+) virtio function
  kNoCapabilityList,      // the status register says there is none
  kCapabilityPointerBad,  // a pointer into the header or past the configuration space
  kCapabilityLoop,        // the list does not end (more entries than the space can hold)
  kCapabilityTruncated,   // cap_len too short for its type, or runs past the space
  kBarNotMapped,          // a structure in a BAR the caller did not map (or BAR index > 5)
  kCapabilityOutsideBar,  // offset + length runs past the end of its BAR
  kStructureTooShort,     // a structure shorter than the transport needs
  kMissingCommon,         // no common configuration capability
  kMissingNotify,         //
  kMissingIsr,            //
  kMsixOutsideBar,        // MSI-X table or PBA not inside a mapped BAR
};

// One register structure: where it is. `bar` < kBarCount when present.
struct StructureLocation {
  bool present = false;
  std::uint8_t bar = 0;
  word offset = 0;
  word length = 0;
};

struct MsixLayout {
  bool present = false;
  word capability_offset = 0;  // in configuration space (the PCI server enables MSI-X there)
  unsigned table_size = 0;     // entries
  std::uint8_t table_bar = 0;
  word table_offset = 0;
  std::uint8_t pba_bar = 0;
  word pba_offset = 0;
};

struct PciLayout {
  std::uint16_t device_type = 0;  // virtio device type (2 = block)
  StructureLocation common, notify, isr, device;
  std::uint32_t notify_off_multiplier = 0;
  MsixLayout msix;
};

// Sizes of the function's BARs as the caller mapped them (0: not mapped).
struct BarSizes {
  word size[kBarCount] = {};
};

// Reads `config` (`length` bytes, 64 to 4096, a copy of the function's configuration space).
// On success fills `layout`; on error `layout` is unspecified and nothing was used.
[[nodiscard]] inline LayoutError parse_pci_layout(const std::uint8_t* config, std::size_t length,
                                                  const BarSizes& bars, PciLayout& layout);

// The error as text, for logs.
inline const char* describe(LayoutError error) {
  switch (error) {
    case LayoutError::kOk:
      return "ok";
    case LayoutError::kConfigTooShort:
      return "configuration space shorter than 64 bytes";
    case LayoutError::kNotModernVirtio:
      return "not a modern virtio PCI function";
    case LayoutError::kNoCapabilityList:
      return "no capability list";
    case LayoutError::kCapabilityPointerBad:
      return "capability pointer outside the space";
    case LayoutError::kCapabilityLoop:
      return "capability list does not end";
    case LayoutError::kCapabilityTruncated:
      return "capability truncated";
    case LayoutError::kBarNotMapped:
      return "structure in a BAR that is not mapped";
    case LayoutError::kCapabilityOutsideBar:
      return "structure runs past the end of its BAR";
    case LayoutError::kStructureTooShort:
      return "structure shorter than required";
    case LayoutError::kMissingCommon:
      return "no common configuration capability";
    case LayoutError::kMissingNotify:
      return "no notification capability";
    case LayoutError::kMissingIsr:
      return "no ISR capability";
    case LayoutError::kMsixOutsideBar:
      return "MSI-X table or PBA outside a mapped BAR";
  }
  return "unknown layout error";
}

namespace detail {

inline word config_le(const std::uint8_t* config, std::size_t at, unsigned bytes) {
  word value = 0;
  for (unsigned i = 0; i < bytes; ++i)
    value |= word{config[at + i]} << (8 * i);
  return value;
}

// [offset, offset + length) inside a mapped BAR `bar`?
inline LayoutError check_in_bar(const BarSizes& bars, word bar, word offset, word length,
                                LayoutError outside) {
  if (bar >= kBarCount || bars.size[bar] == 0) return LayoutError::kBarNotMapped;
  if (offset > bars.size[bar] || length > bars.size[bar] - offset) return outside;
  return LayoutError::kOk;
}

}  // namespace detail

inline LayoutError parse_pci_layout(const std::uint8_t* config, std::size_t length,
                                    const BarSizes& bars, PciLayout& layout) {
  using detail::config_le;
  layout = {};
  if (config == nullptr || length < pci::kHeaderBytes) return LayoutError::kConfigTooShort;
  if (length > 4096) length = 4096;
  const word vendor = config_le(config, pci::kVendorId, 2);
  const word device = config_le(config, pci::kDeviceId, 2);
  if (vendor != kVirtioVendorId || device < kModernDeviceIdBase || device > kModernDeviceIdLast)
    return LayoutError::kNotModernVirtio;
  layout.device_type = static_cast<std::uint16_t>(device - kModernDeviceIdBase);
  if ((config_le(config, pci::kStatus, 2) & pci::kStatusCapabilitiesList) == 0)
    return LayoutError::kNoCapabilityList;

  // The standard list lives in the first 256 bytes; each entry takes at least 4 bytes after
  // the header, so a walk longer than that has met a loop.
  const std::size_t list_end = length < 256 ? length : 256;
  constexpr unsigned kMaxEntries = (256 - pci::kHeaderBytes) / 4;
  word at = config_le(config, pci::kCapabilitiesPointer, 1) & ~word{3};
  for (unsigned entries = 0; at != 0; ++entries) {
    if (entries == kMaxEntries) return LayoutError::kCapabilityLoop;
    if (at < pci::kHeaderBytes || at + 2 > list_end) return LayoutError::kCapabilityPointerBad;
    const word id = config_le(config, at, 1);
    const word next = config_le(config, at + 1, 1) & ~word{3};
    if (id == pci::kCapabilityMsix) {
      if (at + 12 > list_end) return LayoutError::kCapabilityTruncated;
      if (!layout.msix.present) {
        MsixLayout& msix = layout.msix;
        msix.present = true;
        msix.capability_offset = at;
        msix.table_size = static_cast<unsigned>((config_le(config, at + 2, 2) & 0x7ff) + 1);
        const word table = config_le(config, at + 4, 4);
        const word pba = config_le(config, at + 8, 4);
        msix.table_bar = static_cast<std::uint8_t>(table & 7);
        msix.table_offset = table & ~word{7};
        msix.pba_bar = static_cast<std::uint8_t>(pba & 7);
        msix.pba_offset = pba & ~word{7};
        const word pba_bytes = ((msix.table_size + 63) / 64) * 8;
        if (detail::check_in_bar(bars, msix.table_bar, msix.table_offset,
                                 msix.table_size * pci::kMsixEntryBytes,
                                 LayoutError::kMsixOutsideBar) != LayoutError::kOk ||
            detail::check_in_bar(bars, msix.pba_bar, msix.pba_offset, pba_bytes,
                                 LayoutError::kMsixOutsideBar) != LayoutError::kOk)
          return LayoutError::kMsixOutsideBar;
      }
    } else if (id == pci::kCapabilityVendor) {
      if (at + 3 > list_end) return LayoutError::kCapabilityTruncated;
      const word cap_len = config_le(config, at + 2, 1);
      if (cap_len < kVirtioCapabilityBytes || at + cap_len > list_end)
        return LayoutError::kCapabilityTruncated;
      const word type = config_le(config, at + 3, 1);
      StructureLocation* target = nullptr;
      word minimum = 1;
      switch (static_cast<CapabilityType>(type)) {
        case CapabilityType::kCommon:
          target = &layout.common;
          minimum = kCommonConfigBytes;
          break;
        case CapabilityType::kNotify:
          target = &layout.notify;
          minimum = 2;
          break;
        case CapabilityType::kIsr:
          target = &layout.isr;
          minimum = 1;
          break;
        case CapabilityType::kDevice:
          target = &layout.device;
          minimum = 1;
          break;
        default:
          break;  // PCI-config access and unknown types are not used
      }
      // The specification lets a device offer several of a type; the driver uses the first.
      if (target != nullptr && !target->present) {
        if (static_cast<CapabilityType>(type) == CapabilityType::kNotify) {
          if (cap_len < kNotifyCapabilityBytes) return LayoutError::kCapabilityTruncated;
          layout.notify_off_multiplier = static_cast<std::uint32_t>(config_le(config, at + 16, 4));
        }
        const word bar = config_le(config, at + 4, 1);
        // Reserved BAR values (6 and 7) mark structures a driver must ignore (virtio 4.1.4.1).
        if (bar >= kBarCount) {
          at = next;
          continue;
        }
        const word offset = config_le(config, at + 8, 4);
        const word bytes = config_le(config, at + 12, 4);
        if (const LayoutError error =
                detail::check_in_bar(bars, bar, offset, bytes, LayoutError::kCapabilityOutsideBar);
            error != LayoutError::kOk)
          return error;
        if (bytes < minimum) return LayoutError::kStructureTooShort;
        *target = {true, static_cast<std::uint8_t>(bar), offset, bytes};
      }
    }
    at = next;
  }
  if (!layout.common.present) return LayoutError::kMissingCommon;
  if (!layout.notify.present) return LayoutError::kMissingNotify;
  if (!layout.isr.present) return LayoutError::kMissingIsr;
  return LayoutError::kOk;
}

}  // namespace ukernel::virtio
