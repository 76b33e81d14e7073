// The virtio 1.x modern PCI transport: one implementation every virtio driver shares.
//
// How this works: the PCI server (or a test) maps the function's BARs and reads its
// configuration space; parse_pci_layout() finds the register structures in it, and attach()
// binds them to the mapped windows. A driver then follows the specification's initialisation
// order (virtio 1.2, 3.1.1):
//   begin()          reset, wait for the reset to finish, ACKNOWLEDGE, DRIVER
//   negotiate()      read the device's features, write the subset the driver wants (VERSION_1
//                    required), set FEATURES_OK and check the device kept it
//   setup_queue()    per queue: size from the device (checked), ring addresses, MSI-X vector
//                    (read back: the device answers kNoVector when it refuses), enable
//   driver_ok()      the device is live
// notify() tells the device a queue has new buffers (at notify_off * notify_off_multiplier in the
// notification structure). Interrupts: with MSI-X, the caller programs the table entry of each
// vector with the (address, data) pair the kernel gave it (program_msix_entry) and enables MSI-X
// in configuration space (the PCI server's job); without MSI-X, read_isr() reads and clears the
// ISR byte of the wired or polled interrupt.
//
// Every value read from the device is checked before it is used: queue sizes, notification
// offsets, the read-back vectors, the device status.
#pragma once

#include <cstdint>

#include "ukernel/abi.hpp"
#include "ukernel/virtio/pci_layout.hpp"
#include "ukernel/virtio/virtqueue.hpp"
#include "ukernel/virtio/window.hpp"

namespace ukernel::virtio {

// Device status bits (virtio 2.1).
namespace status {
inline constexpr std::uint8_t kAcknowledge = 1;
inline constexpr std::uint8_t kDriver = 2;
inline constexpr std::uint8_t kDriverOk = 4;
inline constexpr std::uint8_t kFeaturesOk = 8;
inline constexpr std::uint8_t kNeedsReset = 64;
inline constexpr std::uint8_t kFailed = 128;
}  // namespace status

// Feature bits every device type shares (virtio 6).
namespace feature {
inline constexpr std::uint64_t kVersion1 = std::uint64_t{1} << 32;
inline constexpr std::uint64_t kAccessPlatform = std::uint64_t{1} << 33;
}  // namespace feature

// virtio_pci_common_cfg offsets (virtio 4.1.4.3).
namespace common {
inline constexpr word kDeviceFeatureSelect = 0x00;
inline constexpr word kDeviceFeature = 0x04;
inline constexpr word kDriverFeatureSelect = 0x08;
inline constexpr word kDriverFeature = 0x0c;
inline constexpr word kConfigMsixVector = 0x10;
inline constexpr word kNumQueues = 0x12;
inline constexpr word kDeviceStatus = 0x14;
inline constexpr word kConfigGeneration = 0x15;
inline constexpr word kQueueSelect = 0x16;
inline constexpr word kQueueSize = 0x18;
inline constexpr word kQueueMsixVector = 0x1a;
inline constexpr word kQueueEnable = 0x1c;
inline constexpr word kQueueNotifyOff = 0x1e;
inline constexpr word kQueueDesc = 0x20;
inline constexpr word kQueueDriver = 0x28;
inline constexpr word kQueueDevice = 0x30;
}  // namespace common

inline constexpr std::uint16_t kNoVector = 0xffff;  // VIRTIO_MSI_NO_VECTOR
inline constexpr std::uint8_t kIsrQueue = 1;
inline constexpr std::uint8_t kIsrConfig = 2;

// Queues one transport serves; a device offering more has the rest left unused.
inline constexpr std::uint16_t kMaxQueues = 8;

enum class TransportError {
  kOk,
  kNotAttached,          // attach() has not succeeded
  kWindowMissing,        // a structure's BAR has no window
  kResetTimeout,         // device status did not read 0 after a reset
  kNoVersion1,           // the device does not offer VIRTIO_F_VERSION_1 (legacy only)
  kFeaturesRefused,      // FEATURES_OK did not stick: the device refused the subset
  kMissingFeature,       // the device lacks a feature the driver requires
  kQueueIndex,           // queue index >= the device's num_queues or >= kMaxQueues
  kQueueSize,            // size 0, not a power of two or too large (QueueError says which)
  kQueueMemory,          // the ring memory does not fit the size or is misaligned
  kQueueAlreadyEnabled,  // the device reports the queue enabled after a reset
  kNotifyOutside,        // queue_notify_off * multiplier past the notification structure
  kVectorRefused,        // the device read back kNoVector for an MSI-X vector
  kNoMsix,               // no MSI-X capability, or entry >= its table size
  kNoDeviceConfig,       // no device-specific configuration structure
  kDeviceConfigRange,    // read past the device-specific configuration structure
  kConfigUnstable,       // config_generation kept changing during a read
  kDeviceNeedsReset,     // the device set DEVICE_NEEDS_RESET
};

inline const char* describe(TransportError error) {
  switch (error) {
    case TransportError::kOk:
      return "ok";
    case TransportError::kNotAttached:
      return "transport not attached";
    case TransportError::kWindowMissing:
      return "no window for a structure's BAR";
    case TransportError::kResetTimeout:
      return "device did not finish its reset";
    case TransportError::kNoVersion1:
      return "device does not offer VERSION_1";
    case TransportError::kFeaturesRefused:
      return "device refused the features (FEATURES_OK)";
    case TransportError::kMissingFeature:
      return "device lacks a required feature";
    case TransportError::kQueueIndex:
      return "no such queue";
    case TransportError::kQueueSize:
      return "bad queue size";
    case TransportError::kQueueMemory:
      return "ring memory does not fit";
    case TransportError::kQueueAlreadyEnabled:
      return "queue enabled before set-up";
    case TransportError::kNotifyOutside:
      return "queue notification outside its structure";
    case TransportError::kVectorRefused:
      return "device refused the MSI-X vector";
    case TransportError::kNoMsix:
      return "no such MSI-X entry";
    case TransportError::kNoDeviceConfig:
      return "no device configuration structure";
    case TransportError::kDeviceConfigRange:
      return "read past the device configuration";
    case TransportError::kConfigUnstable:
      return "device configuration kept changing";
    case TransportError::kDeviceNeedsReset:
      return "device needs a reset";
  }
  return "unknown transport error";
}

// The windows of the function's mapped BARs (nullptr: not mapped).
template <RegisterWindow Window>
struct BarWindows {
  const Window* bar[kBarCount] = {};
};

template <RegisterWindow Window>
class PciTransport {
 public:
  // How many times begin() reads the status back waiting for a reset to finish. A device model
  // finishes at once; hardware within a few reads.
  static constexpr unsigned kResetPolls = 1000;
  static constexpr unsigned kGenerationRetries = 8;

  // Binds the structures of `layout` (from parse_pci_layout, so inside their BARs) to windows.
  [[nodiscard]] TransportError attach(const PciLayout& layout, const BarWindows<Window>& bars) {
    Region<Window> found[5];
    const StructureLocation* locations[4] = {&layout.common, &layout.notify, &layout.isr,
                                             &layout.device};
    for (unsigned i = 0; i < 4; ++i) {
      const StructureLocation& location = *locations[i];
      if (!location.present) continue;
      const Window* window = location.bar < kBarCount ? bars.bar[location.bar] : nullptr;
      if (window == nullptr) return TransportError::kWindowMissing;
      found[i] = {window, location.offset, location.length};
    }
    if (!found[0].present() || !found[1].present() || !found[2].present())
      return TransportError::kWindowMissing;
    if (layout.msix.present) {
      const Window* window =
          layout.msix.table_bar < kBarCount ? bars.bar[layout.msix.table_bar] : nullptr;
      if (window == nullptr) return TransportError::kWindowMissing;
      found[4] = {window, layout.msix.table_offset, layout.msix.table_size * pci::kMsixEntryBytes};
    }
    common_ = found[0];
    notify_ = found[1];
    isr_ = found[2];
    device_ = found[3];
    msix_table_ = found[4];
    msix_entries_ = layout.msix.present ? layout.msix.table_size : 0;
    notify_multiplier_ = layout.notify_off_multiplier;
    return TransportError::kOk;
  }

  bool attached() const { return common_.present(); }

  // Reset, then ACKNOWLEDGE and DRIVER.
  [[nodiscard]] TransportError begin() {
    if (!attached()) return TransportError::kNotAttached;
    if (const TransportError error = reset(); error != TransportError::kOk) return error;
    set_status(status::kAcknowledge);
    set_status(status::kAcknowledge | status::kDriver);
    return TransportError::kOk;
  }

  // Writes 0 to device_status and waits until it reads 0 (virtio 4.1.4.3.2).
  [[nodiscard]] TransportError reset() {
    if (!attached()) return TransportError::kNotAttached;
    common_.write(common::kDeviceStatus, 1, 0);
    for (unsigned poll = 0; poll < kResetPolls; ++poll)
      if (common_.read(common::kDeviceStatus, 1) == 0) {
        for (auto& offset : notify_offset_)
          offset = kNoNotify;
        return TransportError::kOk;
      }
    return TransportError::kResetTimeout;
  }

  // The device's 64 feature bits.
  std::uint64_t device_features() const {
    common_.write(common::kDeviceFeatureSelect, 4, 0);
    const word low = common_.read(common::kDeviceFeature, 4) & 0xffffffff;
    common_.write(common::kDeviceFeatureSelect, 4, 1);
    const word high = common_.read(common::kDeviceFeature, 4) & 0xffffffff;
    return low | (high << 32);
  }

  // Offers `required | optional` (VERSION_1 is always required) and keeps what the device has;
  // a required feature the device lacks is kMissingFeature. On success `accepted` holds the
  // features in use and FEATURES_OK is set. On failure the status has FAILED set.
  [[nodiscard]] TransportError negotiate(std::uint64_t required, std::uint64_t optional,
                                         std::uint64_t& accepted) {
    if (!attached()) return TransportError::kNotAttached;
    const std::uint64_t offered = device_features();
    if ((offered & feature::kVersion1) == 0) return fail(TransportError::kNoVersion1);
    required |= feature::kVersion1;
    if ((offered & required) != required) return fail(TransportError::kMissingFeature);
    const std::uint64_t chosen = offered & (required | optional);
    common_.write(common::kDriverFeatureSelect, 4, 0);
    common_.write(common::kDriverFeature, 4, chosen & 0xffffffff);
    common_.write(common::kDriverFeatureSelect, 4, 1);
    common_.write(common::kDriverFeature, 4, chosen >> 32);
    set_status(static_cast<std::uint8_t>(current_status() | status::kFeaturesOk));
    if ((current_status() & status::kFeaturesOk) == 0)
      return fail(TransportError::kFeaturesRefused);
    accepted = chosen;
    return TransportError::kOk;
  }

  std::uint16_t queue_count() const {
    return static_cast<std::uint16_t>(common_.read(common::kNumQueues, 2));
  }

  // Sets up queue `index`: takes the device's size (or asks for the driver's capacity when the
  // device offers more, which the specification allows), initialises `queue` in `memory`, writes
  // the ring addresses, assigns MSI-X `vector` (kNoVector: none) and enables the queue. Nothing
  // is enabled on error.
  template <std::uint16_t kMaxSize>
  [[nodiscard]] TransportError setup_queue(std::uint16_t index, SplitQueue<kMaxSize>& queue,
                                           DmaRegion memory, std::uint16_t vector,
                                           QueueError* queue_error = nullptr) {
    if (!attached()) return TransportError::kNotAttached;
    if (index >= kMaxQueues || index >= queue_count()) return TransportError::kQueueIndex;
    common_.write(common::kQueueSelect, 2, index);
    if (common_.read(common::kQueueEnable, 2) != 0) return TransportError::kQueueAlreadyEnabled;
    auto size = static_cast<std::uint16_t>(common_.read(common::kQueueSize, 2));
    if (size > kMaxSize && (size & (size - 1)) == 0) {
      common_.write(common::kQueueSize, 2, kMaxSize);
      size = static_cast<std::uint16_t>(common_.read(common::kQueueSize, 2));
    }
    const word notify_off = common_.read(common::kQueueNotifyOff, 2);
    const word notify_at = notify_off * notify_multiplier_;
    if (notify_at > notify_.length || notify_.length - notify_at < 2)
      return TransportError::kNotifyOutside;
    if (const QueueError error = queue.init(size, memory); error != QueueError::kOk) {
      if (queue_error != nullptr) *queue_error = error;
      return error == QueueError::kMemoryTooSmall || error == QueueError::kMemoryMisaligned
                 ? TransportError::kQueueMemory
                 : TransportError::kQueueSize;
    }
    common_.write(common::kQueueDesc, 8, queue.descriptor_bus());
    common_.write(common::kQueueDriver, 8, queue.avail_bus());
    common_.write(common::kQueueDevice, 8, queue.used_bus());
    if (vector != kNoVector) {
      common_.write(common::kQueueMsixVector, 2, vector);
      if (common_.read(common::kQueueMsixVector, 2) != vector)
        return TransportError::kVectorRefused;
    }
    notify_offset_[index] = notify_at;
    common_.write(common::kQueueEnable, 2, 1);
    return TransportError::kOk;
  }

  // Assigns the configuration-change interrupt to MSI-X `vector`, checking the read-back.
  [[nodiscard]] TransportError set_config_vector(std::uint16_t vector) {
    if (!attached()) return TransportError::kNotAttached;
    common_.write(common::kConfigMsixVector, 2, vector);
    if (common_.read(common::kConfigMsixVector, 2) != vector) return TransportError::kVectorRefused;
    return TransportError::kOk;
  }

  unsigned msix_entries() const { return msix_entries_; }

  // Programs MSI-X table entry `entry` with the message the kernel handed out, unmasked.
  [[nodiscard]] TransportError program_msix_entry(unsigned entry, word address,
                                                  std::uint32_t data) {
    if (!attached()) return TransportError::kNotAttached;
    if (entry >= msix_entries_) return TransportError::kNoMsix;
    const word at = word{entry} * pci::kMsixEntryBytes;
    msix_table_.write(at + 12, 4, 1);  // masked while it changes
    msix_table_.write(at + 0, 4, address & 0xffffffff);
    msix_table_.write(at + 4, 4, address >> 32);
    msix_table_.write(at + 8, 4, data);
    msix_table_.write(at + 12, 4, 0);
    return TransportError::kOk;
  }

  void driver_ok() { set_status(static_cast<std::uint8_t>(current_status() | status::kDriverOk)); }

  // Tells the device queue `index` has new buffers. Ignored for a queue not set up.
  void notify(std::uint16_t index) const {
    if (index < kMaxQueues && notify_offset_[index] != kNoNotify)
      notify_.write(notify_offset_[index], 2, index);
  }

  // Reads (and so clears) the ISR status: kIsrQueue, kIsrConfig.
  std::uint8_t read_isr() const { return static_cast<std::uint8_t>(isr_.read(0, 1)); }

  std::uint8_t current_status() const {
    return static_cast<std::uint8_t>(common_.read(common::kDeviceStatus, 1));
  }
  bool needs_reset() const { return (current_status() & status::kNeedsReset) != 0; }

  // Reads `width` bytes at `offset` of the device-specific configuration, consistently: the
  // read is repeated while config_generation changes under it.
  [[nodiscard]] TransportError read_device_config(word offset, unsigned width, word& value) const {
    if (!attached()) return TransportError::kNotAttached;
    if (!device_.present()) return TransportError::kNoDeviceConfig;
    if (offset > device_.length || width > device_.length - offset)
      return TransportError::kDeviceConfigRange;
    for (unsigned attempt = 0; attempt < kGenerationRetries; ++attempt) {
      const word before = common_.read(common::kConfigGeneration, 1);
      word result = 0;
      if (width == 8) {  // two 32-bit reads: the specification does not promise 64-bit access
        result = (device_.read(offset, 4) & 0xffffffff) |
                 ((device_.read(offset + 4, 4) & 0xffffffff) << 32);
      } else {
        result = device_.read(offset, width);
      }
      if (common_.read(common::kConfigGeneration, 1) == before) {
        value = result;
        return TransportError::kOk;
      }
    }
    return TransportError::kConfigUnstable;
  }

  bool has_device_config() const { return device_.present(); }

 private:
  static constexpr word kNoNotify = ~word{0};

  void set_status(std::uint8_t bits) const { common_.write(common::kDeviceStatus, 1, bits); }
  TransportError fail(TransportError error) const {
    set_status(static_cast<std::uint8_t>(current_status() | status::kFailed));
    return error;
  }

  Region<Window> common_{}, notify_{}, isr_{}, device_{}, msix_table_{};
  unsigned msix_entries_ = 0;
  std::uint32_t notify_multiplier_ = 0;
  word notify_offset_[kMaxQueues] = {kNoNotify, kNoNotify, kNoNotify, kNoNotify,
                                     kNoNotify, kNoNotify, kNoNotify, kNoNotify};
};

}  // namespace ukernel::virtio
