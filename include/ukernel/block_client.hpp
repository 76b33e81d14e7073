// The client's side of a block session (ukernel/block.hpp): submit requests, reap completions,
// wait.
//
//   block::Client disk(endpoint, region);          // the region: mapped here and in the driver
//   if (disk.open() != Error::kOk) ...
//   auto bytes = disk.data();                       // fill bytes[0, 4096) ...
//   std::uint64_t id;
//   disk.submit(block::Op::kWrite, /*lba*/ 8, /*sectors*/ 8, /*offset*/ 0, id);
//   disk.wait();                                    // kicks the driver, blocks for a completion
//   for (block::Outcome done; disk.reap(done);) ... // done.id, done.status
//
// The client checks its own requests with the driver's validate() before queueing them, so a
// mistake is reported at once; the driver checks them again (it trusts no client). If the
// driver goes away (its Kick ends in an error), every request in flight is reaped with
// Status::kServerGone: nothing waits for a completion that cannot come. Open again (on the new
// endpoint, after a restart) to go on.
#pragma once

#include <span>

#include "ukernel/block.hpp"
#include "ukernel/shared_region.hpp"

namespace ukernel::block {

// A finished request as the client library reports it.
struct Outcome {
  std::uint64_t id = 0;
  Status status = Status::kOk;
};

class Client {
 public:
  Client(word endpoint, SharedRegion region) : rpc_(endpoint), region_(region) {}

  word endpoint() const { return rpc_.endpoint(); }
  void set_endpoint(word endpoint) { rpc_.set_endpoint(endpoint); }

  // Opens the session (again): the driver makes fresh rings. Requests still in flight are
  // reaped with kServerGone. Errors: the Open call's (block.hpp), or kInvalidArgument if the
  // geometry does not match this region.
  [[nodiscard]] Error open() {
    fail_in_flight(Status::kServerGone);
    open_ = false;
    auto geometry = rpc_.call<Protocol::Open>();
    if (!geometry.ok()) return geometry.error();
    if (geometry.value().region_bytes != region_.size() || region_.size() < kMinRegionBytes)
      return Error::kInvalidArgument;
    geometry_ = geometry.value();
    requests_ = RequestProducer(*RequestRing::attach(region_.base() + kRequestRingOffset));
    completions_ =
        CompletionConsumer(*CompletionRing::attach(region_.base() + kCompletionRingOffset));
    open_ = true;
    return Error::kOk;
  }
  bool is_open() const { return open_; }
  const Geometry& geometry() const { return geometry_; }
  // The data area: requests name their bytes by offsets into it.
  std::span<std::byte> data() const {
    return region_.tail_from(kDataOffset).slice(0, data_bytes(region_.size()));
  }
  std::size_t in_flight() const { return in_flight_count_; }

  // Queues a request and gives it an id. Statuses: kOk; validate()'s; kTooMany;
  // kServerGone (not open); kProtocolError (the ring's indices are corrupt).
  [[nodiscard]] Status submit(Op op, std::uint64_t lba, std::uint32_t sectors, std::uint64_t offset,
                              std::uint64_t& id) {
    if (!open_) return Status::kServerGone;
    Request r{next_id_, std::uint32_t(op), sectors, lba, offset};
    if (Status s = validate(r, geometry_); s != Status::kOk) return s;
    if (in_flight_count_ >= geometry_.max_in_flight) return Status::kTooMany;
    RingStatus pushed = requests_.push(r);
    if (pushed != RingStatus::kOk) {
      return pushed == RingStatus::kFull ? Status::kTooMany : Status::kProtocolError;
    }
    for (Slot& s : in_flight_) {
      if (s.state == SlotState::kFree) {
        s = {r.id, SlotState::kWaiting, Status::kOk};
        break;
      }
    }
    ++in_flight_count_;
    id = next_id_++;
    return Status::kOk;
  }

  // One finished request, if any. A completion naming no request in flight, or with a status
  // the protocol does not have, is reported as kProtocolError.
  [[nodiscard]] bool reap(Outcome& out) {
    Completion c;
    if (open_ && completions_.pop(c) == RingStatus::kOk) {
      Status status =
          c.status < std::uint32_t(Status::kCount) ? Status(c.status) : Status::kProtocolError;
      Slot* slot = find(c.id);
      if (slot == nullptr) status = Status::kProtocolError;
      if (slot != nullptr) release(*slot);
      out = {c.id, status};
      return true;
    }
    if (open_ && completions_.corrupt()) fail_in_flight(Status::kProtocolError);
    for (Slot& s : in_flight_) {  // requests the library failed itself
      if (s.state == SlotState::kFailed) {
        out = {s.id, s.failure};
        release(s);
        return true;
      }
    }
    return false;
  }

  // Tells the driver requests are queued and blocks until a completion is ready (at once if
  // nothing is in flight). If the driver is gone (the call fails), the requests in flight are
  // failed with kServerGone and the call's error is returned.
  [[nodiscard]] Error wait() {
    if (!open_) return Error::kIllegalOperation;
    auto kicked = rpc_.call<Protocol::Kick>();
    if (!kicked.ok()) {
      fail_in_flight(kicked.error() == Error::kInvalidArgument ? Status::kProtocolError
                                                               : Status::kServerGone);
      open_ = false;
    }
    return kicked.error();
  }

 private:
  enum class SlotState : std::uint8_t { kFree, kWaiting, kFailed };
  struct Slot {
    std::uint64_t id = 0;
    SlotState state = SlotState::kFree;
    Status failure = Status::kOk;
  };
  Slot* find(std::uint64_t id) {
    for (Slot& s : in_flight_) {
      if (s.state == SlotState::kWaiting && s.id == id) return &s;
    }
    return nullptr;
  }
  void release(Slot& s) {
    s = Slot{};
    --in_flight_count_;
  }
  void fail_in_flight(Status why) {
    for (Slot& s : in_flight_) {
      if (s.state == SlotState::kWaiting) s = {s.id, SlotState::kFailed, why};
    }
  }

  rpc::Client<Protocol> rpc_;
  SharedRegion region_;
  Geometry geometry_;
  bool open_ = false;
  RequestProducer requests_;
  CompletionConsumer completions_;
  Slot in_flight_[kRingCapacity];
  std::size_t in_flight_count_ = 0;
  std::uint64_t next_id_ = 1;
};

}  // namespace ukernel::block
