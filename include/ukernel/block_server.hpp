// The driver's side of one block session (ukernel/block.hpp): it makes the rings, hands the
// driver only requests that passed every check, and posts completions.
//
// Checks, before a request reaches the driver: the ring indices (ring.hpp), validate() against
// the geometry the driver gave (never a size read from the region), and that the id is not
// already in flight. A request that fails gets an error completion with its reason and is not
// seen by the driver. A request is taken from the ring only when the completion ring has room
// for it and for every request already in flight, so every request taken can be completed;
// requests beyond max_in_flight wait in the ring. Corrupt ring indices close the session until
// the next open() (the driver answers Kick with an error meanwhile).
#pragma once

#include <span>

#include "ukernel/block.hpp"
#include "ukernel/shared_region.hpp"

namespace ukernel::block {

class Session {
 public:
  // Makes fresh rings in `region` for a disk of `geometry` (its region_bytes must be the
  // region's size). False if the region is too small or misaligned for the layout; the session
  // is then closed. Requests of a previous open are forgotten.
  [[nodiscard]] bool open(SharedRegion region, const Geometry& geometry) {
    *this = Session{};
    auto address = reinterpret_cast<std::uintptr_t>(region.base());
    if (region.empty() || region.size() < kMinRegionBytes || address % 64 != 0 ||
        geometry.region_bytes != region.size() || geometry.max_in_flight == 0 ||
        geometry.max_in_flight > kRingCapacity || geometry.sector_size == 0)
      return false;
    region_ = region;
    geometry_ = geometry;
    requests_ = RequestConsumer(*RequestRing::create(region.base() + kRequestRingOffset));
    completions_ =
        CompletionProducer(*CompletionRing::create(region.base() + kCompletionRingOffset));
    return true;
  }
  bool is_open() const { return !region_.empty(); }
  bool corrupt() const { return requests_.corrupt() || completions_.corrupt(); }
  const Geometry& geometry() const { return geometry_; }
  std::size_t in_flight() const { return in_flight_count_; }

  // The next request for the driver to act on, checked and recorded as in flight. Bad requests
  // met on the way are answered here. False when there is none, no room to take one, or the
  // rings are corrupt (see corrupt()).
  [[nodiscard]] bool next(Request& out) {
    while (is_open() && in_flight_count_ < geometry_.max_in_flight &&
           completions_.write_available() > in_flight_count_) {
      Request r;
      if (requests_.pop(r) != RingStatus::kOk) return false;
      Status status = validate(r, geometry_);
      if (status == Status::kOk && find(r.id) != nullptr) status = Status::kDuplicateId;
      if (status != Status::kOk) {
        if (!post(r.id, status)) return false;
        continue;
      }
      Slot* free = find_free();
      *free = {r.id, true};
      ++in_flight_count_;
      out = r;
      return true;
    }
    return false;
  }

  // The bytes of a request next() returned (empty for a flush).
  std::span<std::byte> data(const Request& r) const {
    return region_.tail_from(kDataOffset).slice(r.offset, transfer_bytes(r, geometry_));
  }

  // Completes a request next() returned. False if `id` is not in flight or the completion ring
  // is corrupt.
  [[nodiscard]] bool complete(std::uint64_t id, Status status) {
    Slot* slot = find(id);
    if (slot == nullptr) return false;
    slot->busy = false;
    --in_flight_count_;
    return post(id, status);
  }

 private:
  struct Slot {
    std::uint64_t id = 0;
    bool busy = false;
  };
  Slot* find(std::uint64_t id) {
    for (Slot& s : in_flight_) {
      if (s.busy && s.id == id) return &s;
    }
    return nullptr;
  }
  Slot* find_free() {
    for (Slot& s : in_flight_) {
      if (!s.busy) return &s;
    }
    return nullptr;  // not reached: next() takes at most max_in_flight
  }
  bool post(std::uint64_t id, Status status) {
    return completions_.push(Completion{id, std::uint32_t(status), 0}) == RingStatus::kOk;
  }

  SharedRegion region_;
  Geometry geometry_;
  RequestConsumer requests_;
  CompletionProducer completions_;
  Slot in_flight_[kRingCapacity];
  std::size_t in_flight_count_ = 0;
};

}  // namespace ukernel::block
