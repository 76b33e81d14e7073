// The packet protocol between a network driver (a server) and its client (the TCP/IP stack).
//
// How this works (the block protocol's design, ukernel/block.hpp, for frames): one region of
// memory, owned by the system rather than by either server, is mapped into the driver and the
// stack. It holds four rings and the packet buffers:
//
//   kFillRingOffset      fill      stack -> driver  empty buffers to receive into
//   kReceiveRingOffset   receive   driver -> stack  received frames (and buffers given back)
//   kTransmitRingOffset  transmit  stack -> driver  frames to send
//   kSentRingOffset      sent      driver -> stack  buffers the device has finished sending
//   kDataOffset          the buffers: kBufferBytes each, geometry.buffers of them
//
// An entry names a buffer by its offset from kDataOffset. A frame lies at kFrameOffset in its
// buffer; the bytes before it are the driver's (virtio-net writes its 12-byte header there), so
// the device reads and writes frames in place and nothing is copied between driver and stack.
// Every buffer belongs to one side at a time: the stack owns them all when a session opens,
// lends some through the fill and transmit rings, and gets each back on the receive or sent ring.
// Because the region is the system's, a driver that crashes loses nothing but the frames in
// flight: the restarted driver opens the session afresh (new rings), the stack takes every
// buffer back, and TCP's retransmission covers the lost frames.
//
// Neither side trusts the other. The rings are ukernel/ring.hpp's (indices checked on every
// use); the driver checks every entry against the geometry it set (check_buffer, check_frame)
// and against the buffers it holds (a buffer lent twice is kDuplicate), and answers a bad entry
// on the matching return ring with its status instead of acting on it (packet_server.hpp). The
// stack checks every entry that comes back the same way (packet_client.hpp).
//
// Around the region (as for block): Open (the driver makes fresh rings and returns the
// geometry), notifications both ways for "the rings have news". docs/network.md describes it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ukernel/ring.hpp"

namespace ukernel::packet {

inline constexpr std::size_t kBufferBytes = 2048;
inline constexpr std::size_t kFrameOffset = 16;      // 16-byte aligned frames; room for a header
inline constexpr std::size_t kMinFrameBytes = 14;    // an Ethernet header
inline constexpr std::size_t kMaxFrameBytes = 1514;  // 1500-byte MTU, no FCS
inline constexpr std::size_t kRingCapacity = 127;
inline constexpr std::size_t kMaxBuffers = kRingCapacity;  // every ring can hold every buffer
static_assert(kFrameOffset + kMaxFrameBytes <= kBufferBytes);

// What an entry coming back says.
enum class Status : std::uint32_t {
  kOk = 0,
  kBadOffset = 1,  // the offset is not a buffer of the data area
  kBadLength = 2,  // a frame to send not kMinFrameBytes..kMaxFrameBytes
  kDuplicate = 3,  // the driver already holds that buffer
  kDropped = 4,    // the driver gives the buffer back without a frame (device error, reset)
  kCount
};

// One ring entry (16 bytes). Every field is the peer's word until checked.
struct Entry {
  std::uint64_t offset;  // the buffer, from kDataOffset, a multiple of kBufferBytes
  std::uint32_t length;  // frame bytes at kFrameOffset (0 on the fill ring)
  std::uint32_t status;  // a Status, on the receive and sent rings
};

// What Open returns.
struct Geometry {
  std::uint64_t region_bytes = 0;
  std::uint32_t buffers = 0;  // in the data area, at most kMaxBuffers
  std::uint64_t mac = 0;      // the card's address, first byte in bits 47..40
};

using Ring = SpscRing<Entry, kRingCapacity>;
using Producer = RingProducer<Entry, kRingCapacity>;
using Consumer = RingConsumer<Entry, kRingCapacity>;
inline constexpr std::size_t kRingStride = (sizeof(Ring) + 63) & ~std::size_t{63};
inline constexpr std::size_t kFillRingOffset = 0;
inline constexpr std::size_t kReceiveRingOffset = kRingStride;
inline constexpr std::size_t kTransmitRingOffset = 2 * kRingStride;
inline constexpr std::size_t kSentRingOffset = 3 * kRingStride;
inline constexpr std::size_t kDataOffset = (4 * kRingStride + 4095) & ~std::size_t{4095};
inline constexpr std::size_t kMinRegionBytes = kDataOffset + kBufferBytes;

// The geometry of a region of `region_bytes` (buffers 0 if it is too small).
constexpr Geometry geometry_for(std::uint64_t region_bytes, std::uint64_t mac) {
  std::uint64_t buffers =
      region_bytes >= kMinRegionBytes ? (region_bytes - kDataOffset) / kBufferBytes : 0;
  if (buffers > kMaxBuffers) buffers = kMaxBuffers;
  return {region_bytes, std::uint32_t(buffers), mac};
}

// Is `offset` one of the geometry's buffers? Overflow-safe for any value.
constexpr bool is_buffer(std::uint64_t offset, const Geometry& g) {
  return offset % kBufferBytes == 0 && offset / kBufferBytes < g.buffers;
}
constexpr std::uint32_t buffer_index(std::uint64_t offset) {
  return std::uint32_t(offset / kBufferBytes);
}

// Checks a frame to send.
constexpr Status check_frame(const Entry& e, const Geometry& g) {
  if (!is_buffer(e.offset, g)) return Status::kBadOffset;
  if (e.length < kMinFrameBytes || e.length > kMaxFrameBytes) return Status::kBadLength;
  return Status::kOk;
}

}  // namespace ukernel::packet
