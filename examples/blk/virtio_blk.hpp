// The virtio-blk driver core: requests to a virtio block device over the shared transport.
//
// How this works: init() runs the transport's initialisation (features: VERSION_1 required,
// FLUSH, SEG_MAX, SIZE_MAX, BLK_SIZE and RO taken when offered), reads the capacity and limits
// from the device configuration, and sets up request queue 0. Each request takes a slot of a
// fixed table (kMaxRequests in flight); its header (type, sector) and status byte live in the
// slot's part of the driver's DMA region, and its data buffer is the caller's DmaRegion, cut
// into segments of at most size_max bytes, at most seg_max of them. submit() returns at once;
// completions come from next_completion() after the device's interrupt (or by polling), in the
// order the device finishes them, each with the caller's tag.
//
// A completion's status byte decides its result: VIRTIO_BLK_S_OK is kOk, IOERR and UNSUPP are
// errors, anything else (including the byte the driver wrote before submitting, if the device
// never wrote it) is kBadStatus. A read whose used length does not cover its data is kShortRead:
// the caller never sees data the device did not say it wrote.
//
// Server code: freestanding, fixed tables, no heap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ukernel/abi.hpp"
#include "ukernel/virtio/pci_layout.hpp"
#include "ukernel/virtio/transport.hpp"
#include "ukernel/virtio/virtqueue.hpp"
#include "ukernel/virtio/window.hpp"

namespace virtio_blk {

using ukernel::word;
using ukernel::virtio::DmaRegion;

inline constexpr std::uint16_t kDeviceType = 2;  // virtio block device
inline constexpr word kSectorBytes = 512;

// Feature bits (virtio 1.2, 5.2.3).
namespace feature {
inline constexpr std::uint64_t kSizeMax = 1u << 1;
inline constexpr std::uint64_t kSegMax = 1u << 2;
inline constexpr std::uint64_t kReadOnly = 1u << 5;
inline constexpr std::uint64_t kBlockSize = 1u << 6;
inline constexpr std::uint64_t kFlush = 1u << 9;
}  // namespace feature

// struct virtio_blk_config offsets.
namespace config {
inline constexpr word kCapacity = 0x00;
inline constexpr word kSizeMax = 0x08;
inline constexpr word kSegMax = 0x0c;
inline constexpr word kBlockSize = 0x14;
}  // namespace config

// Request types and status values (virtio 1.2, 5.2.6).
inline constexpr std::uint32_t kTypeIn = 0;
inline constexpr std::uint32_t kTypeOut = 1;
inline constexpr std::uint32_t kTypeFlush = 4;
inline constexpr std::uint8_t kStatusOk = 0;
inline constexpr std::uint8_t kStatusIoError = 1;
inline constexpr std::uint8_t kStatusUnsupported = 2;

enum class Operation { kRead, kWrite, kFlush };

enum class Error {
  kOk,
  kTransport,         // initialisation failed; transport_error() says how
  kNotBlockDevice,    // the function's virtio type is not 2
  kNoDeviceConfig,    //
  kNotReady,          // init() has not succeeded, or the queue broke (reset needed)
  kBusy,              // every request slot or descriptor is in use: wait for a completion
  kBadLength,         // data length 0 or not a multiple of 512 bytes
  kOutOfRange,        // the sectors run past the capacity
  kTooManySegments,   // the buffer needs more than seg_max segments
  kReadOnly,          // a write to a device that offered VIRTIO_BLK_F_RO
  kFlushUnsupported,  // the device did not offer VIRTIO_BLK_F_FLUSH
  kNone,              // next_completion(): nothing has completed
  kIoError,           // the device reported VIRTIO_BLK_S_IOERR
  kUnsupported,       // the device reported VIRTIO_BLK_S_UNSUPP
  kBadStatus,         // the status byte is none of the above (or was never written)
  kShortRead,         // the device wrote less than the data and status of a read
  kDeviceFault,       // the device broke the used ring: queue_error() says how; reset it
};

inline const char* describe(Error error) {
  switch (error) {
    case Error::kOk:
      return "ok";
    case Error::kTransport:
      return "transport error";
    case Error::kNotBlockDevice:
      return "not a virtio block device";
    case Error::kNoDeviceConfig:
      return "no device configuration";
    case Error::kNotReady:
      return "driver not ready";
    case Error::kBusy:
      return "no free request slot";
    case Error::kBadLength:
      return "length not a positive multiple of 512";
    case Error::kOutOfRange:
      return "sectors past the capacity";
    case Error::kTooManySegments:
      return "more segments than seg_max";
    case Error::kReadOnly:
      return "device is read-only";
    case Error::kFlushUnsupported:
      return "device has no flush";
    case Error::kNone:
      return "nothing completed";
    case Error::kIoError:
      return "I/O error";
    case Error::kUnsupported:
      return "request unsupported by the device";
    case Error::kBadStatus:
      return "bad status byte";
    case Error::kShortRead:
      return "device wrote less than the read asked";
    case Error::kDeviceFault:
      return "device broke the used ring";
  }
  return "unknown block error";
}

struct Completion {
  std::uint32_t tag = 0;  // the caller's, from submit()
  Operation operation = Operation::kRead;
  Error result = Error::kOk;
};

struct Limits {
  word capacity_sectors = 0;
  std::uint32_t size_max = 0;  // bytes per segment (0: no limit)
  std::uint32_t seg_max = 0;   // data segments per request (0: no limit but the queue's)
  std::uint32_t block_size = 512;
  bool read_only = false;
  bool flush = false;
};

// kQueueSize descriptors; kMaxRequests requests in flight. Each request uses 2 descriptors
// plus its data segments.
template <ukernel::virtio::RegisterWindow Window, std::uint16_t kQueueSize = 64,
          unsigned kMaxRequests = 16>
class VirtioBlk {
 public:
  static constexpr std::size_t kSlotBytes = 32;  // 16-byte header, status byte, padding
  static constexpr std::size_t kRequestMemoryBytes = kSlotBytes * kMaxRequests;
  static constexpr std::size_t kQueueMemoryBytes = ukernel::virtio::ring_layout(kQueueSize).total;
  static constexpr unsigned kMaxSegments = kQueueSize - 2;

  // Interrupt set-up: with MSI-X, `queue_vector` names the table entry the caller programmed
  // (or asks init() to program from `msix_address`/`msix_data`); kNoVector polls the ISR.
  struct Interrupts {
    std::uint16_t queue_vector = ukernel::virtio::kNoVector;
    bool program_entry = false;
    word msix_address = 0;
    std::uint32_t msix_data = 0;
  };

  // Brings the device up. `queue_memory` holds the rings (kQueueMemoryBytes, 16-aligned),
  // `request_memory` the headers and status bytes (kRequestMemoryBytes). On error the device
  // is left with FAILED set or reset, and the driver is not ready.
  [[nodiscard]] Error init(const ukernel::virtio::PciLayout& layout,
                           const ukernel::virtio::BarWindows<Window>& bars, DmaRegion queue_memory,
                           DmaRegion request_memory, Interrupts interrupts = {}) {
    using ukernel::virtio::TransportError;
    ready_ = false;
    if (layout.device_type != kDeviceType) return Error::kNotBlockDevice;
    if (request_memory.cpu == nullptr || request_memory.bytes < kRequestMemoryBytes)
      return transport_failure(TransportError::kQueueMemory);
    if (TransportError error = transport_.attach(layout, bars); error != TransportError::kOk)
      return transport_failure(error);
    if (!transport_.has_device_config()) return Error::kNoDeviceConfig;
    if (TransportError error = transport_.begin(); error != TransportError::kOk)
      return transport_failure(error);
    std::uint64_t accepted = 0;
    if (TransportError error =
            transport_.negotiate(0,
                                 feature::kFlush | feature::kSegMax | feature::kSizeMax |
                                     feature::kReadOnly | feature::kBlockSize,
                                 accepted);
        error != TransportError::kOk)
      return transport_failure(error);

    Limits limits;
    word value = 0;
    if (TransportError error = transport_.read_device_config(config::kCapacity, 8, value);
        error != TransportError::kOk)
      return transport_failure(error);
    limits.capacity_sectors = value;
    if ((accepted & feature::kSizeMax) != 0) {
      if (TransportError error = transport_.read_device_config(config::kSizeMax, 4, value);
          error != TransportError::kOk)
        return transport_failure(error);
      limits.size_max = static_cast<std::uint32_t>(value);
    }
    if ((accepted & feature::kSegMax) != 0) {
      if (TransportError error = transport_.read_device_config(config::kSegMax, 4, value);
          error != TransportError::kOk)
        return transport_failure(error);
      limits.seg_max = static_cast<std::uint32_t>(value);
    }
    if ((accepted & feature::kBlockSize) != 0) {
      if (TransportError error = transport_.read_device_config(config::kBlockSize, 4, value);
          error != TransportError::kOk)
        return transport_failure(error);
      limits.block_size = static_cast<std::uint32_t>(value);
    }
    limits.read_only = (accepted & feature::kReadOnly) != 0;
    limits.flush = (accepted & feature::kFlush) != 0;

    if (interrupts.queue_vector != ukernel::virtio::kNoVector && interrupts.program_entry) {
      if (TransportError error = transport_.program_msix_entry(
              interrupts.queue_vector, interrupts.msix_address, interrupts.msix_data);
          error != TransportError::kOk)
        return transport_failure(error);
    }
    if (TransportError error =
            transport_.setup_queue(0, queue_, queue_memory, interrupts.queue_vector, &queue_error_);
        error != TransportError::kOk)
      return transport_failure(error);
    transport_.driver_ok();

    limits_ = limits;
    requests_ = request_memory;
    for (auto& slot : slots_)
      slot = {};
    queue_error_ = ukernel::virtio::QueueError::kOk;
    ready_ = true;
    return Error::kOk;
  }

  bool ready() const { return ready_; }
  const Limits& limits() const { return limits_; }
  word capacity_sectors() const { return limits_.capacity_sectors; }
  ukernel::virtio::TransportError transport_error() const { return transport_error_; }
  ukernel::virtio::QueueError queue_error() const { return queue_error_; }
  unsigned in_flight() const { return queue_.in_flight(); }
  ukernel::virtio::PciTransport<Window>& transport() { return transport_; }

  // Queues a read or write of data.bytes / 512 sectors at `sector` (data is the device's source
  // or destination), or a flush (data ignored, sector 0). Checked completely before anything is
  // queued; then the device is notified.
  [[nodiscard]] Error submit(Operation operation, word sector, DmaRegion data, std::uint32_t tag) {
    if (!ready_ || queue_.broken()) return Error::kNotReady;
    ukernel::virtio::QueueBuffer chain[kQueueSize];
    unsigned count = 1;  // the header comes first
    std::uint32_t type = kTypeFlush;
    if (operation == Operation::kFlush) {
      if (!limits_.flush) return Error::kFlushUnsupported;
      sector = 0;
    } else {
      if (data.bytes == 0 || data.bytes % kSectorBytes != 0 || data.cpu == nullptr)
        return Error::kBadLength;
      const word sectors = data.bytes / kSectorBytes;
      if (sector > limits_.capacity_sectors || sectors > limits_.capacity_sectors - sector)
        return Error::kOutOfRange;
      if (operation == Operation::kWrite && limits_.read_only) return Error::kReadOnly;
      type = operation == Operation::kRead ? kTypeIn : kTypeOut;
      const word segment_max = limits_.size_max != 0 ? limits_.size_max : word{0xffffffff};
      const word segments = (data.bytes + segment_max - 1) / segment_max;
      const word segments_allowed =
          limits_.seg_max != 0 && limits_.seg_max < kMaxSegments ? limits_.seg_max : kMaxSegments;
      if (segments > segments_allowed) return Error::kTooManySegments;
      for (word done = 0; done < data.bytes; done += segment_max) {
        const word length = data.bytes - done < segment_max ? data.bytes - done : segment_max;
        chain[count++] = {data.bus + done, static_cast<std::uint32_t>(length),
                          operation == Operation::kRead};
      }
    }
    unsigned slot = 0;
    while (slot < kMaxRequests && slots_[slot].busy)
      ++slot;
    if (slot == kMaxRequests || queue_.free_descriptors() < count + 1) return Error::kBusy;

    std::byte* header = requests_.cpu + kSlotBytes * slot;
    put_le(header, 4, type);
    put_le(header + 4, 4, 0);
    put_le(header + 8, 8, sector);
    header[16] = std::byte{kStatusNeverWritten};
    chain[0] = {requests_.bus + kSlotBytes * slot, 16, false};
    chain[count++] = {requests_.bus + kSlotBytes * slot + 16, 1, true};
    if (const auto error = queue_.submit(chain, count, slot);
        error != ukernel::virtio::QueueError::kOk) {
      queue_error_ = error;
      return error == ukernel::virtio::QueueError::kNoDescriptors ? Error::kBusy : Error::kNotReady;
    }
    slots_[slot] = {true, tag, operation,
                    operation == Operation::kRead ? static_cast<std::uint32_t>(data.bytes) : 0};
    transport_.notify(0);
    return Error::kOk;
  }

  // The next finished request: kOk with `completion` filled (its result says how the request
  // went), kNone if nothing has finished, kDeviceFault if the device broke the used ring (the
  // driver stops: reset and init again).
  [[nodiscard]] Error next_completion(Completion& completion) {
    if (!ready_) return Error::kNotReady;
    ukernel::virtio::QueueCompletion used;
    const auto error = queue_.pop_used(used);
    if (error == ukernel::virtio::QueueError::kEmpty) return Error::kNone;
    if (error != ukernel::virtio::QueueError::kOk) {
      queue_error_ = error;
      ready_ = false;
      return Error::kDeviceFault;
    }
    // The token is a slot index this driver handed out; the queue checked the chain was ours.
    Slot& slot = slots_[used.token];
    const auto status = static_cast<std::uint8_t>(requests_.cpu[kSlotBytes * used.token + 16]);
    completion = {slot.tag, slot.operation, status_result(status)};
    if (completion.result == Error::kOk && slot.operation == Operation::kRead &&
        used.written < slot.read_bytes + 1)
      completion.result = Error::kShortRead;
    slot = {};
    return Error::kOk;
  }

  // For a wired or polled interrupt: reads and clears the ISR; true if the queue has news.
  bool acknowledge_interrupt() { return (transport_.read_isr() & ukernel::virtio::kIsrQueue) != 0; }

 private:
  static constexpr std::uint8_t kStatusNeverWritten = 0xff;

  struct Slot {
    bool busy = false;
    std::uint32_t tag = 0;
    Operation operation = Operation::kRead;
    std::uint32_t read_bytes = 0;
  };

  static Error status_result(std::uint8_t status) {
    switch (status) {
      case kStatusOk:
        return Error::kOk;
      case kStatusIoError:
        return Error::kIoError;
      case kStatusUnsupported:
        return Error::kUnsupported;
      default:
        return Error::kBadStatus;
    }
  }
  static void put_le(std::byte* at, unsigned bytes, word value) {
    for (unsigned i = 0; i < bytes; ++i)
      at[i] = static_cast<std::byte>(value >> (8 * i));
  }
  Error transport_failure(ukernel::virtio::TransportError error) {
    transport_error_ = error;
    return Error::kTransport;
  }

  ukernel::virtio::PciTransport<Window> transport_{};
  ukernel::virtio::SplitQueue<kQueueSize> queue_{};
  DmaRegion requests_{};
  Slot slots_[kMaxRequests] = {};
  Limits limits_{};
  ukernel::virtio::TransportError transport_error_ = ukernel::virtio::TransportError::kOk;
  ukernel::virtio::QueueError queue_error_ = ukernel::virtio::QueueError::kOk;
  bool ready_ = false;
};

}  // namespace virtio_blk
