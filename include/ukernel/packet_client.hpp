// The stack's side of a packet session (ukernel/packet.hpp): it owns the buffers, lends them to
// the driver through the fill and transmit rings, and takes back what the driver returns.
//
// attach() is called after each Open, when the driver has made fresh rings: every buffer is the
// stack's again (whatever a dead driver held is taken back), and up to `receive_buffers` of them
// are lent for receiving. transmit() (the stack's Link, stack/link.hpp) puts a frame into a free
// buffer and queues it; poll() hands each received frame, in place, to a callback and lends its
// buffer again; sent buffers come back by reclaim() (transmit() reclaims first). Everything the
// driver returns is checked: the offset must be a buffer the stack lent for that purpose, and a
// received length must be a frame's. A bad entry is counted (protocol_errors) and ignored.
// take_kick() says whether the driver has news on its rings since the last call (the caller
// signals the driver's notification then).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "ukernel/packet.hpp"
#include "ukernel/shared_region.hpp"

namespace ukernel::packet {

struct ClientStats {
  std::uint64_t received = 0;         // frames handed to the callback
  std::uint64_t receive_dropped = 0;  // buffers back without a frame (kDropped, errors)
  std::uint64_t sent = 0;             // frames queued for the driver
  std::uint64_t send_no_buffer = 0;   // transmit() found no free buffer or ring room
  std::uint64_t send_refused = 0;     // the driver returned a frame with an error status
  std::uint64_t protocol_errors = 0;  // entries naming buffers not lent, bad lengths
};

class StackPort {
 public:
  // Takes over the rings Open just made in `region` and every buffer. False if the region does
  // not match the geometry; the port is then detached (transmit() fails).
  [[nodiscard]] bool attach(SharedRegion region, const Geometry& geometry,
                            std::uint32_t receive_buffers) {
    region_ = {};
    const auto address = reinterpret_cast<std::uintptr_t>(region.base());
    if (region.empty() || region.size() < kMinRegionBytes || address % 64 != 0 ||
        geometry.region_bytes != region.size() || geometry.buffers == 0 ||
        geometry.buffers > kMaxBuffers ||
        std::uint64_t(geometry.buffers) * kBufferBytes > region.size() - kDataOffset)
      return false;
    region_ = region;
    geometry_ = geometry;
    fill_ = Producer(*Ring::attach(region.base() + kFillRingOffset));
    receive_ = Consumer(*Ring::attach(region.base() + kReceiveRingOffset));
    transmit_ = Producer(*Ring::attach(region.base() + kTransmitRingOffset));
    sent_ = Consumer(*Ring::attach(region.base() + kSentRingOffset));
    for (Owner& owner : owner_)
      owner = kFree;
    for (std::uint32_t i = 0; i < geometry.buffers && i < receive_buffers; ++i)
      lend_for_receive(std::uint64_t(i) * kBufferBytes);
    return true;
  }
  bool attached() const { return !region_.empty(); }
  bool corrupt() const {
    return fill_.corrupt() || receive_.corrupt() || transmit_.corrupt() || sent_.corrupt();
  }
  const Geometry& geometry() const { return geometry_; }
  const ClientStats& stats() const { return stats_; }
  bool take_kick() {
    const bool kick = kick_;
    kick_ = false;
    return kick;
  }

  // Queues one frame. False (the frame is lost; TCP retransmits) if it is not a frame's length,
  // no buffer is free, or the ring is full or corrupt.
  [[nodiscard]] bool transmit(std::span<const std::byte> frame) {
    reclaim();
    if (!attached() || frame.size() < kMinFrameBytes || frame.size() > kMaxFrameBytes) return false;
    std::uint32_t index = 0;
    while (index < geometry_.buffers && owner_[index] != kFree)
      ++index;
    if (index == geometry_.buffers) {
      ++stats_.send_no_buffer;
      return false;
    }
    const std::uint64_t offset = std::uint64_t(index) * kBufferBytes;
    std::memcpy(frame_bytes(offset).data(), frame.data(), frame.size());
    if (transmit_.push(Entry{offset, std::uint32_t(frame.size()), 0}) != RingStatus::kOk) {
      ++stats_.send_no_buffer;
      return false;
    }
    owner_[index] = kTransmitting;
    ++stats_.sent;
    kick_ = true;
    return true;
  }

  // Hands every received frame to deliver(std::span<const std::byte>) and lends its buffer
  // again. Returns how many entries were taken.
  template <class Deliver>
  std::size_t poll(Deliver&& deliver) {
    std::size_t taken = 0;
    Entry e;
    while (attached() && receive_.pop(e) == RingStatus::kOk) {
      ++taken;
      if (!is_buffer(e.offset, geometry_) || owner_[buffer_index(e.offset)] != kReceiving) {
        ++stats_.protocol_errors;  // not a buffer we lent for receiving: ignore it
        continue;
      }
      // The buffer stays out of transmit()'s reach while the callback reads it (the stack
      // answers from inside input()); then it is lent again.
      if (e.status != std::uint32_t(Status::kOk)) {
        ++stats_.receive_dropped;
      } else if (e.length < kMinFrameBytes || e.length > kMaxFrameBytes) {
        ++stats_.protocol_errors;
      } else {
        ++stats_.received;
        deliver(std::span<const std::byte>(frame_bytes(e.offset).first(e.length)));
      }
      lend_for_receive(e.offset);
    }
    return taken;
  }

  // Takes back the buffers the driver has sent.
  void reclaim() {
    Entry e;
    while (attached() && sent_.pop(e) == RingStatus::kOk) {
      if (!is_buffer(e.offset, geometry_) || owner_[buffer_index(e.offset)] != kTransmitting) {
        ++stats_.protocol_errors;
        continue;
      }
      owner_[buffer_index(e.offset)] = kFree;
      if (e.status != std::uint32_t(Status::kOk)) ++stats_.send_refused;
    }
  }

  std::uint32_t free_buffers() const {
    std::uint32_t count = 0;
    for (std::uint32_t i = 0; i < geometry_.buffers; ++i)
      count += owner_[i] == kFree ? 1 : 0;
    return count;
  }

 private:
  enum Owner : std::uint8_t { kFree = 0, kReceiving = 1, kTransmitting = 2 };

  std::span<std::byte> frame_bytes(std::uint64_t offset) const {
    return region_.tail_from(kDataOffset).slice(offset + kFrameOffset, kMaxFrameBytes);
  }
  void lend_for_receive(std::uint64_t offset) {
    if (fill_.push(Entry{offset, 0, 0}) != RingStatus::kOk) {
      owner_[buffer_index(offset)] = kFree;
      return;
    }
    owner_[buffer_index(offset)] = kReceiving;
    kick_ = true;
  }

  SharedRegion region_;
  Geometry geometry_;
  Producer fill_;
  Consumer receive_;
  Producer transmit_;
  Consumer sent_;
  Owner owner_[kMaxBuffers] = {};
  ClientStats stats_;
  bool kick_ = false;
};

}  // namespace ukernel::packet
