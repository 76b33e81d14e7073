// The driver's side of a packet session (ukernel/packet.hpp): it makes the rings, hands the
// driver only buffers that passed every check, and gives buffers back.
//
// Checks, before a buffer reaches the driver: the ring indices (ring.hpp), that the offset is a
// buffer of the geometry the driver itself set (never a size read from the region), that a frame
// to send has a valid length, and that the driver does not hold the buffer already. A bad entry
// is answered at once on the matching return ring (fill -> receive, transmit -> sent) with its
// status and is not seen by the driver. An entry is taken only when its return ring has room for
// it and for every buffer of that kind the driver holds, so every buffer taken can be given back.
// Corrupt ring indices stop the session until the next open().
#pragma once

#include <cstdint>
#include <span>

#include "ukernel/packet.hpp"
#include "ukernel/shared_region.hpp"

namespace ukernel::packet {

class DriverSession {
 public:
  // Makes fresh rings in `region` (64-byte aligned, geometry.region_bytes long). False if it
  // cannot hold the layout; the session is then closed. Buffers held before are forgotten.
  [[nodiscard]] bool open(SharedRegion region, const Geometry& geometry) {
    *this = DriverSession{};
    const auto address = reinterpret_cast<std::uintptr_t>(region.base());
    if (region.empty() || region.size() < kMinRegionBytes || address % 64 != 0 ||
        geometry.region_bytes != region.size() || geometry.buffers == 0 ||
        geometry.buffers > kMaxBuffers ||
        std::uint64_t(geometry.buffers) * kBufferBytes > region.size() - kDataOffset)
      return false;
    region_ = region;
    geometry_ = geometry;
    fill_ = Consumer(*Ring::create(region.base() + kFillRingOffset));
    receive_ = Producer(*Ring::create(region.base() + kReceiveRingOffset));
    transmit_ = Consumer(*Ring::create(region.base() + kTransmitRingOffset));
    sent_ = Producer(*Ring::create(region.base() + kSentRingOffset));
    return true;
  }
  bool is_open() const { return !region_.empty(); }
  bool corrupt() const {
    return fill_.corrupt() || receive_.corrupt() || transmit_.corrupt() || sent_.corrupt();
  }
  const Geometry& geometry() const { return geometry_; }
  std::uint32_t held_for_receive() const { return held_count_[kReceiving]; }
  std::uint32_t held_for_transmit() const { return held_count_[kTransmitting]; }

  // The next buffer to receive into, checked and now held by the driver. False when there is
  // none, no room to take one, or the rings are corrupt.
  [[nodiscard]] bool next_fill(std::uint64_t& offset) {
    Entry e;
    if (!take(fill_, receive_, kReceiving, e)) return false;
    offset = e.offset;
    return true;
  }
  // The next frame to send, checked and now held by the driver.
  [[nodiscard]] bool next_transmit(Entry& out) {
    return take(transmit_, sent_, kTransmitting, out);
  }

  // The whole buffer at a checked offset (the driver's header room, then the frame).
  std::span<std::byte> buffer(std::uint64_t offset) const {
    return region_.tail_from(kDataOffset).slice(offset, kBufferBytes);
  }

  // Gives back a buffer next_fill() returned, with a received frame of `length` bytes (kOk) or
  // none (kDropped). False if the driver does not hold it for receiving, or the ring is corrupt.
  [[nodiscard]] bool received(std::uint64_t offset, std::uint32_t length, Status status) {
    if (!release(offset, kReceiving)) return false;
    return receive_.push(Entry{offset, status == Status::kOk ? length : 0,
                               std::uint32_t(status)}) == RingStatus::kOk;
  }
  // Gives back a buffer next_transmit() returned.
  [[nodiscard]] bool sent(std::uint64_t offset, Status status) {
    if (!release(offset, kTransmitting)) return false;
    return sent_.push(Entry{offset, 0, std::uint32_t(status)}) == RingStatus::kOk;
  }

 private:
  enum Holding : std::uint8_t { kNotHeld = 0, kReceiving = 1, kTransmitting = 2 };

  bool take(Consumer& from, Producer& answers, Holding kind, Entry& out) {
    while (is_open() && answers.write_available() > held_count_[kind]) {
      Entry e;
      if (from.pop(e) != RingStatus::kOk) return false;
      Status status = kind == kReceiving
                          ? (is_buffer(e.offset, geometry_) ? Status::kOk : Status::kBadOffset)
                          : check_frame(e, geometry_);
      if (status == Status::kOk && held_[buffer_index(e.offset)] != kNotHeld)
        status = Status::kDuplicate;
      if (status != Status::kOk) {
        if (answers.push(Entry{e.offset, 0, std::uint32_t(status)}) != RingStatus::kOk)
          return false;
        continue;
      }
      held_[buffer_index(e.offset)] = kind;
      ++held_count_[kind];
      out = e;
      return true;
    }
    return false;
  }
  bool release(std::uint64_t offset, Holding kind) {
    if (!is_buffer(offset, geometry_) || held_[buffer_index(offset)] != kind) return false;
    held_[buffer_index(offset)] = kNotHeld;
    --held_count_[kind];
    return true;
  }

  SharedRegion region_;
  Geometry geometry_;
  Consumer fill_;
  Producer receive_;
  Consumer transmit_;
  Producer sent_;
  Holding held_[kMaxBuffers] = {};
  std::uint32_t held_count_[3] = {};  // by Holding
};

}  // namespace ukernel::packet
