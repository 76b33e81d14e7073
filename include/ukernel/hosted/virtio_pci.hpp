// A modern virtio PCI function (host side): the transport half of a hosted virtio device.
//
// How this works: VirtioPciFunction is a PCI function (vendor 0x1af4, device 0x1040 + type,
// revision 1: modern only, as QEMU's disable-legacy=on) with one 64-bit memory BAR holding,
// at fixed offsets, the common configuration, the ISR byte, the device configuration, the
// notification area and the MSI-X table and PBA; the vendor capabilities in configuration space
// point there. The driver's writes drive the device status machine (reset, FEATURES_OK checked
// against what was offered, DRIVER_OK) and the queues. A notification makes the function read
// the new entries of the available ring and walk each descriptor chain, all by DMA through
// Bus::dma(); a well-formed chain goes to the VirtioBackend (the device type's half: block,
// ...), which completes it now or later with complete(): the used element and index are
// written and the queue's interrupt is sent (MSI-X message if enabled and the queue has a
// vector, else the ISR bit and the wired line). A chain the function cannot walk (a descriptor
// outside RAM, a next index out of range, a loop, an indirect descriptor, a readable buffer after
// a writable one) is returned used with length 0 and nothing written; a ring outside RAM sets
// DEVICE_NEEDS_RESET. A reset forgets everything, and completions the backend scheduled
// before it are dropped (they carry the reset epoch).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "ukernel/abi.hpp"
#include "ukernel/hosted/bus.hpp"
#include "ukernel/hosted/pci_function.hpp"

namespace ukernel::hosted {

struct VirtioSegment {
  word address = 0;
  std::uint32_t length = 0;
  bool device_writes = false;
};

// A descriptor chain the driver made available, walked and checked against the queue size.
struct VirtioChain {
  std::uint16_t queue = 0;
  std::uint16_t head = 0;
  std::uint64_t epoch = 0;
  std::vector<VirtioSegment> segments;  // device-readable ones first
};

class VirtioPciFunction;

// Copies between a chain's segments of one direction and a flat buffer, `skip` bytes into that
// direction: read_chain takes the device-readable bytes (what the driver wrote), write_chain
// fills the device-writable ones. False if a segment touched is not RAM or the chain's bytes of
// that direction end first. Every device type's backend moves its data with these.
bool read_chain(Bus& bus, const VirtioChain& chain, word skip, std::byte* out, word bytes);
bool write_chain(Bus& bus, const VirtioChain& chain, word skip, const std::byte* in, word bytes);

// The device type's half of a virtio device.
class VirtioBackend {
 public:
  virtual std::uint16_t device_type() const = 0;
  // Device-type feature bits; the function adds VIRTIO_F_VERSION_1.
  virtual std::uint64_t features() const = 0;
  virtual std::uint16_t queue_count() const = 0;
  virtual std::uint16_t queue_max_size(std::uint16_t queue) const = 0;
  // The device configuration structure; reads past config_bytes() are all ones.
  virtual word config_bytes() const = 0;
  virtual word config_read(word offset, unsigned width) = 0;
  // A chain to serve; complete it with function.complete(chain, written), now or later.
  virtual void process(VirtioPciFunction& function, VirtioChain chain) = 0;
  // The device was reset: forget everything in flight.
  virtual void reset() = 0;

 protected:
  ~VirtioBackend() = default;
};

class VirtioPciFunction final : public MmioDevice {
 public:
  // Offsets in BAR 0 (its size is kBarBytes).
  static constexpr word kCommonOffset = 0x0000;
  static constexpr word kCommonBytes = 0x38;
  static constexpr word kIsrOffset = 0x1000;
  static constexpr word kDeviceOffset = 0x2000;
  static constexpr word kNotifyOffset = 0x3000;
  static constexpr word kNotifyBytes = 0x1000;
  static constexpr word kMsixTableOffset = 0x4000;
  static constexpr word kPbaOffset = 0x5000;
  static constexpr word kBarBytes = 0x8000;
  static constexpr std::uint16_t kNoVector = 0xffff;

  struct Options {
    unsigned msix_vectors = 4;  // 0: no MSI-X capability
    unsigned intx_line = 11;    // the wired line for interrupts without MSI-X
    std::uint32_t notify_off_multiplier = 4;
  };

  // What a hostile or broken device does differently, for tests of the driver's checks.
  struct Misbehaviour {
    bool refuse_vectors = false;      // MSI-X vector registers read back kNoVector
    bool refuse_features_ok = false;  // FEATURES_OK never sticks
    bool stuck_in_reset = false;      // device_status never reads 0 after a reset
    bool hide_version_1 = false;      // VERSION_1 not offered (a legacy-only device)
  };

  VirtioPciFunction(Bus& bus, VirtioBackend& backend, const Options& options);

  PciFunction& pci() { return pci_; }
  Bus& bus() { return bus_; }
  Misbehaviour& misbehaviour() { return misbehaviour_; }
  std::uint64_t epoch() const { return epoch_; }
  std::uint8_t device_status() const { return status_; }
  std::uint64_t driver_features() const { return driver_features_; }
  unsigned notifications() const { return notifications_; }

  // BAR 0 registers.
  word read(word offset, unsigned width) override;
  void write(word offset, unsigned width, word value) override;

  // Returns `chain` to the driver with `written` bytes written, and interrupts. A chain from
  // before a reset, or of a queue no longer enabled, is dropped.
  void complete(const VirtioChain& chain, std::uint32_t written);

 private:
  struct Queue {
    std::uint16_t size = 0;
    std::uint16_t vector = kNoVector;
    bool enabled = false;
    word desc = 0, driver = 0, device = 0;
    std::uint16_t last_avail = 0;
    std::uint16_t used_index = 0;
  };
  struct MsixEntry {
    std::uint32_t address_low = 0, address_high = 0, data = 0;
    std::uint32_t control = 1;  // masked at reset
    bool pending = false;
  };

  std::uint64_t offered_features() const;
  void reset();
  word common_field(word field) const;
  word common_read(word offset, unsigned width) const;
  void common_write(word offset, unsigned width, word value);
  void set_status(std::uint8_t value);
  void notify(std::uint16_t queue);
  bool walk(const Queue& queue, std::uint16_t head, std::vector<VirtioSegment>& segments);
  void interrupt(std::uint16_t vector);
  void deliver_msix(unsigned entry);
  word msix_read(word offset, unsigned width) const;
  void msix_write(word offset, unsigned width, word value);
  void needs_reset();

  Bus& bus_;
  VirtioBackend& backend_;
  Options options_;
  PciFunction pci_;
  Misbehaviour misbehaviour_;
  std::uint64_t epoch_ = 0;
  std::uint8_t status_ = 0;
  std::uint8_t isr_ = 0;
  std::uint8_t config_generation_ = 0;
  std::uint32_t device_feature_select_ = 0;
  std::uint32_t driver_feature_select_ = 0;
  std::uint64_t driver_features_ = 0;
  std::uint16_t config_vector_ = kNoVector;
  std::uint16_t queue_select_ = 0;
  std::vector<Queue> queues_;
  std::vector<MsixEntry> msix_;
  unsigned notifications_ = 0;
};

}  // namespace ukernel::hosted
