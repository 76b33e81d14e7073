// The virtio-net driver core: Ethernet frames to and from a virtio network device over the
// shared transport, in buffers the caller owns.
//
// How this works: init() runs the transport's initialisation (VERSION_1 required; MAC and
// GUEST_CSUM taken when offered), reads the MAC address (or keeps the caller's if the device
// has none) and sets up queue 0 (receive) and queue 1 (transmit). The driver copies no frame:
//   - post_receive(buffer, token) lends the device a buffer (kReceiveBufferBytes or more): one
//     device-writable descriptor where the device writes a 12-byte header and the frame;
//   - transmit(buffer, length, token) sends the frame at buffer + kHeaderBytes: the driver
//     writes the header (nothing offloaded) into the buffer's first 12 bytes and lends the
//     whole to the device as one device-readable descriptor;
//   - next_received() and next_transmitted() give each buffer back, with the caller's token,
//     in the order the device finished them.
// The buffers are the caller's: in the example system they live in the packet region the
// system owns (ukernel/packet.hpp), so a restarted driver finds them where they were.
//
// Everything the device writes is checked before it is believed (besides the queue's checks of
// the used ring): a used length shorter than the header plus an Ethernet header is kShortFrame;
// a header naming GSO, more than one buffer (MRG_RXBUF was not negotiated), or NEEDS_CSUM
// without GUEST_CSUM, or a checksum position outside the frame, is kBadHeader. NEEDS_CSUM with
// GUEST_CSUM is not a bad checksum: the sender left only the pseudo-header sum in the field at
// csum_start + csum_offset, and the driver completes it in place (RFC 1071 over the bytes from
// csum_start), so the stack above checks every checksum as usual. Either way the buffer comes
// back to the caller, to post again.
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

namespace virtio_net {

using ukernel::word;
using ukernel::virtio::DmaRegion;

inline constexpr std::uint16_t kDeviceType = 1;  // virtio network device
inline constexpr std::size_t kHeaderBytes = 12;  // struct virtio_net_hdr with VERSION_1
inline constexpr std::size_t kEthernetHeaderBytes = 14;
inline constexpr std::size_t kMaxFrameBytes = 1514;  // 1500-byte MTU, no FCS
inline constexpr std::size_t kReceiveBufferBytes = kHeaderBytes + kMaxFrameBytes;
inline constexpr std::uint16_t kReceiveQueue = 0;
inline constexpr std::uint16_t kTransmitQueue = 1;

// Feature bits (virtio 1.2, 5.1.3).
namespace feature {
inline constexpr std::uint64_t kGuestCsum = 1u << 1;
inline constexpr std::uint64_t kMac = 1u << 5;
}  // namespace feature

// struct virtio_net_hdr (virtio 1.2, 5.1.6).
namespace header {
inline constexpr std::uint8_t kNeedsCsum = 1;
inline constexpr std::uint8_t kDataValid = 2;
inline constexpr std::uint8_t kGsoNone = 0;
inline constexpr std::size_t kFlags = 0;
inline constexpr std::size_t kGsoType = 1;
inline constexpr std::size_t kCsumStart = 6;
inline constexpr std::size_t kCsumOffset = 8;
inline constexpr std::size_t kNumBuffers = 10;
}  // namespace header

using MacAddress = std::uint8_t[6];

enum class Error {
  kOk,
  kTransport,     // initialisation failed; transport_error() says how
  kNotNetDevice,  // the function's virtio type is not 1
  kNoDeviceConfig,
  kNotReady,     // init() has not succeeded, or a queue broke (reset needed)
  kBusy,         // no free descriptor in that queue: wait for a buffer to come back
  kBadBuffer,    // a receive buffer smaller than kReceiveBufferBytes, or none
  kBadLength,    // a frame not kEthernetHeaderBytes..kMaxFrameBytes, or longer than its buffer
  kNone,         // nothing has come back
  kShortFrame,   // received: the device wrote less than a header and an Ethernet header
  kBadHeader,    // received: the header asks for what was not negotiated, or is inconsistent
  kDeviceFault,  // the device broke a used ring: queue_error() says how; reset it
};

inline const char* describe(Error error) {
  switch (error) {
    case Error::kOk:
      return "ok";
    case Error::kTransport:
      return "transport error";
    case Error::kNotNetDevice:
      return "not a virtio network device";
    case Error::kNoDeviceConfig:
      return "no device configuration";
    case Error::kNotReady:
      return "driver not ready";
    case Error::kBusy:
      return "no free descriptor";
    case Error::kBadBuffer:
      return "receive buffer too small";
    case Error::kBadLength:
      return "frame length out of range";
    case Error::kNone:
      return "nothing completed";
    case Error::kShortFrame:
      return "device wrote a short frame";
    case Error::kBadHeader:
      return "bad virtio-net header";
    case Error::kDeviceFault:
      return "device broke a used ring";
  }
  return "unknown net error";
}

// A receive buffer that came back.
struct Received {
  std::uint32_t token = 0;
  Error result = Error::kOk;        // kOk, kShortFrame or kBadHeader (then `length` is 0)
  std::size_t length = 0;           // frame bytes, at the buffer's kHeaderBytes
  bool checksum_completed = false;  // the device sent NEEDS_CSUM and the driver completed it
};

struct Stats {
  std::uint64_t received = 0, short_frames = 0, bad_headers = 0, checksums_completed = 0;
  std::uint64_t transmitted = 0;
};

// kQueueSize descriptors per queue; each buffer takes one.
template <ukernel::virtio::RegisterWindow Window, std::uint16_t kQueueSize = 128>
class VirtioNet {
 public:
  static constexpr std::size_t kRingBytes = ukernel::virtio::ring_layout(kQueueSize).total;
  static constexpr std::size_t kRingStride = (kRingBytes + 4095) & ~std::size_t{4095};
  // Both queues' rings: kQueueMemoryBytes, 16-byte aligned.
  static constexpr std::size_t kQueueMemoryBytes = 2 * kRingStride;

  struct Interrupts {
    std::uint16_t receive_vector = ukernel::virtio::kNoVector;
    std::uint16_t transmit_vector = ukernel::virtio::kNoVector;
  };

  // Brings the device up (the device is reset first, so buffers a previous driver lent it are
  // forgotten). `fallback_mac` is used when the device offers no MAC.
  [[nodiscard]] Error init(const ukernel::virtio::PciLayout& layout,
                           const ukernel::virtio::BarWindows<Window>& bars, DmaRegion queue_memory,
                           const MacAddress& fallback_mac, Interrupts interrupts = {}) {
    using ukernel::virtio::TransportError;
    ready_ = false;
    if (layout.device_type != kDeviceType) return Error::kNotNetDevice;
    if (queue_memory.cpu == nullptr || queue_memory.bytes < kQueueMemoryBytes)
      return transport_failure(TransportError::kQueueMemory);
    if (TransportError error = transport_.attach(layout, bars); error != TransportError::kOk)
      return transport_failure(error);
    if (!transport_.has_device_config()) return Error::kNoDeviceConfig;
    if (TransportError error = transport_.begin(); error != TransportError::kOk)
      return transport_failure(error);
    std::uint64_t accepted = 0;
    if (TransportError error =
            transport_.negotiate(0, feature::kMac | feature::kGuestCsum, accepted);
        error != TransportError::kOk)
      return transport_failure(error);
    for (std::size_t i = 0; i < 6; ++i) {
      mac_[i] = fallback_mac[i];
      if ((accepted & feature::kMac) == 0) continue;
      word value = 0;
      if (TransportError error = transport_.read_device_config(i, 1, value);
          error != TransportError::kOk)
        return transport_failure(error);
      mac_[i] = static_cast<std::uint8_t>(value);
    }
    guest_csum_ = (accepted & feature::kGuestCsum) != 0;
    if (TransportError error =
            transport_.setup_queue(kReceiveQueue, receive_, queue_memory.slice(0, kRingBytes),
                                   interrupts.receive_vector, &queue_error_);
        error != TransportError::kOk)
      return transport_failure(error);
    if (TransportError error = transport_.setup_queue(kTransmitQueue, transmit_,
                                                      queue_memory.slice(kRingStride, kRingBytes),
                                                      interrupts.transmit_vector, &queue_error_);
        error != TransportError::kOk)
      return transport_failure(error);
    transport_.driver_ok();
    for (Slot& slot : receive_slots_)
      slot = {};
    queue_error_ = ukernel::virtio::QueueError::kOk;
    stats_ = {};
    ready_ = true;
    return Error::kOk;
  }

  bool ready() const { return ready_; }
  const std::uint8_t* mac() const { return mac_; }
  bool guest_checksum() const { return guest_csum_; }
  const Stats& stats() const { return stats_; }
  ukernel::virtio::TransportError transport_error() const { return transport_error_; }
  ukernel::virtio::QueueError queue_error() const { return queue_error_; }
  ukernel::virtio::PciTransport<Window>& transport() { return transport_; }
  // Room for one more buffer in each queue.
  bool can_post_receive() const { return ready_ && receive_.free_descriptors() > 0; }
  bool can_transmit() const { return ready_ && transmit_.free_descriptors() > 0; }
  unsigned receives_posted() const { return receive_.in_flight(); }
  unsigned transmits_in_flight() const { return transmit_.in_flight(); }

  // Lends the device `buffer` to receive one frame into. Checked before anything is queued;
  // then the device is notified.
  [[nodiscard]] Error post_receive(DmaRegion buffer, std::uint32_t token) {
    if (!ready_ || receive_.broken()) return Error::kNotReady;
    if (buffer.cpu == nullptr || buffer.bytes < kReceiveBufferBytes) return Error::kBadBuffer;
    if (receive_.free_descriptors() == 0) return Error::kBusy;
    const auto length = static_cast<std::uint32_t>(
        buffer.bytes > kReceiveBufferBytes ? kReceiveBufferBytes : buffer.bytes);
    // The queue's token is the descriptor the chain starts at, where the buffer is remembered.
    const std::uint16_t slot = next_free_slot();
    const ukernel::virtio::QueueBuffer chain{buffer.bus, length, true};
    if (const auto error = receive_.submit(&chain, 1, slot);
        error != ukernel::virtio::QueueError::kOk)
      return queue_failure(error);
    receive_slots_[slot] = {true, token, buffer.cpu};
    transport_.notify(kReceiveQueue);
    return Error::kOk;
  }

  // Sends the `length`-byte frame at buffer + kHeaderBytes. The buffer stays the device's
  // until next_transmitted() gives its token back.
  [[nodiscard]] Error transmit(DmaRegion buffer, std::size_t length, std::uint32_t token) {
    if (!ready_ || transmit_.broken()) return Error::kNotReady;
    if (buffer.cpu == nullptr || length < kEthernetHeaderBytes || length > kMaxFrameBytes ||
        buffer.bytes < kHeaderBytes + length)
      return Error::kBadLength;
    if (transmit_.free_descriptors() == 0) return Error::kBusy;
    for (std::size_t i = 0; i < kHeaderBytes; ++i)
      buffer.cpu[i] = std::byte{0};  // no checksum offload, no GSO
    const ukernel::virtio::QueueBuffer chain{
        buffer.bus, static_cast<std::uint32_t>(kHeaderBytes + length), false};
    if (const auto error = transmit_.submit(&chain, 1, token);
        error != ukernel::virtio::QueueError::kOk)
      return queue_failure(error);
    transport_.notify(kTransmitQueue);
    return Error::kOk;
  }

  // The next receive buffer the device gave back: kOk with `received` filled (its result says
  // whether it holds a frame), kNone, or kDeviceFault (the driver stops: reset and init again).
  [[nodiscard]] Error next_received(Received& received) {
    if (!ready_) return Error::kNotReady;
    ukernel::virtio::QueueCompletion used;
    if (const Error error = pop(receive_, used); error != Error::kOk) return error;
    Slot& slot = receive_slots_[used.token];
    received = {slot.token, check_received(slot.cpu, used.written), 0, false};
    if (received.result == Error::kOk) {
      received.length = used.written - kHeaderBytes;
      received.checksum_completed =
          (std::to_integer<std::uint8_t>(slot.cpu[header::kFlags]) & header::kNeedsCsum) != 0;
      if (received.checksum_completed) {
        complete_checksum(slot.cpu, used.written);
        ++stats_.checksums_completed;
      }
      ++stats_.received;
    } else if (received.result == Error::kShortFrame) {
      ++stats_.short_frames;
    } else {
      ++stats_.bad_headers;
    }
    slot = {};
    return Error::kOk;
  }

  // The token of the next transmitted buffer the device gave back; kNone, kDeviceFault.
  [[nodiscard]] Error next_transmitted(std::uint32_t& token) {
    if (!ready_) return Error::kNotReady;
    ukernel::virtio::QueueCompletion used;
    if (const Error error = pop(transmit_, used); error != Error::kOk) return error;
    token = used.token;
    ++stats_.transmitted;
    return Error::kOk;
  }

  // For a wired or polled interrupt: reads and clears the ISR; true if a queue has news.
  bool acknowledge_interrupt() { return (transport_.read_isr() & ukernel::virtio::kIsrQueue) != 0; }

 private:
  struct Slot {
    bool busy = false;
    std::uint32_t token = 0;
    std::byte* cpu = nullptr;
  };

  std::uint16_t next_free_slot() const {
    std::uint16_t slot = 0;
    while (slot < kQueueSize && receive_slots_[slot].busy)
      ++slot;
    return slot;  // < kQueueSize: a free descriptor means a free slot
  }

  template <std::uint16_t kSize>
  Error pop(ukernel::virtio::SplitQueue<kSize>& queue, ukernel::virtio::QueueCompletion& used) {
    const auto error = queue.pop_used(used);
    if (error == ukernel::virtio::QueueError::kEmpty) return Error::kNone;
    if (error != ukernel::virtio::QueueError::kOk) {
      queue_error_ = error;
      ready_ = false;
      return Error::kDeviceFault;
    }
    return Error::kOk;
  }

  static std::uint16_t load_le16(const std::byte* at) {
    return static_cast<std::uint16_t>(std::to_integer<unsigned>(at[0]) |
                                      (std::to_integer<unsigned>(at[1]) << 8));
  }

  // The checks on a received buffer's header and length (see the top of this file).
  Error check_received(const std::byte* buffer, std::uint32_t written) const {
    if (written < kHeaderBytes + kEthernetHeaderBytes) return Error::kShortFrame;
    const auto flags = std::to_integer<std::uint8_t>(buffer[header::kFlags]);
    if (std::to_integer<std::uint8_t>(buffer[header::kGsoType]) != header::kGsoNone ||
        load_le16(buffer + header::kNumBuffers) != 1)
      return Error::kBadHeader;
    if ((flags & header::kNeedsCsum) != 0) {
      if (!guest_csum_) return Error::kBadHeader;
      const std::size_t frame = written - kHeaderBytes;
      const std::size_t start = load_le16(buffer + header::kCsumStart);
      const std::size_t offset = load_le16(buffer + header::kCsumOffset);
      if (start >= frame || offset > frame - start || frame - start - offset < 2)
        return Error::kBadHeader;
    }
    return Error::kOk;
  }

  // Finishes a partial checksum: the one's-complement sum of the frame from csum_start (whose
  // checksum field holds the pseudo-header sum), complemented, into that field.
  static void complete_checksum(std::byte* buffer, std::uint32_t written) {
    std::byte* frame = buffer + kHeaderBytes;
    const std::size_t length = written - kHeaderBytes;
    const std::size_t start = load_le16(buffer + header::kCsumStart);
    const std::size_t field = start + load_le16(buffer + header::kCsumOffset);
    std::uint32_t sum = 0;
    std::size_t i = start;
    for (; i + 1 < length; i += 2)
      sum += (std::to_integer<std::uint32_t>(frame[i]) << 8) |
             std::to_integer<std::uint32_t>(frame[i + 1]);
    if (i < length) sum += std::to_integer<std::uint32_t>(frame[i]) << 8;
    while ((sum >> 16) != 0)
      sum = (sum & 0xffff) + (sum >> 16);
    auto checksum = static_cast<std::uint16_t>(~sum & 0xffff);
    // A computed 0 goes out as 0xffff (the same in one's complement; UDP reserves 0 for none).
    if (checksum == 0) checksum = 0xffff;
    frame[field] = static_cast<std::byte>(checksum >> 8);
    frame[field + 1] = static_cast<std::byte>(checksum & 0xff);
  }

  Error transport_failure(ukernel::virtio::TransportError error) {
    transport_error_ = error;
    return Error::kTransport;
  }
  Error queue_failure(ukernel::virtio::QueueError error) {
    queue_error_ = error;
    return error == ukernel::virtio::QueueError::kNoDescriptors ? Error::kBusy : Error::kNotReady;
  }

  ukernel::virtio::PciTransport<Window> transport_{};
  ukernel::virtio::SplitQueue<kQueueSize> receive_{};
  ukernel::virtio::SplitQueue<kQueueSize> transmit_{};
  Slot receive_slots_[kQueueSize] = {};
  std::uint8_t mac_[6] = {};
  bool guest_csum_ = false;
  Stats stats_{};
  ukernel::virtio::TransportError transport_error_ = ukernel::virtio::TransportError::kOk;
  ukernel::virtio::QueueError queue_error_ = ukernel::virtio::QueueError::kOk;
  bool ready_ = false;
};

}  // namespace virtio_net
