// The blk server's core, free of system calls so the host tests drive it against the device
// models: block sessions (ukernel/block_server.hpp) fed to a VirtioBlk driver.
//
// Each session is a region the client shares with blk, seen by blk at `cpu` and by the device
// at `bus`; a request's data goes to the device as bus + kDataOffset + offset, in place. pump()
// hands the device the session's checked requests while a request slot is free; device_done()
// posts the device's completions to their sessions (a device error is Status::kIoError, never
// data) and says which sessions got news. A session reopened while its requests were in the
// device gets none of their completions (each request carries the session's generation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "blk/virtio_blk.hpp"
#include "ukernel/block_server.hpp"

namespace blk {

using ukernel::word;
namespace block = ukernel::block;

template <class Driver, std::size_t kSessions, std::uint32_t kMaxInFlight>
class BlockBridge {
 public:
  explicit BlockBridge(Driver& driver) : driver_(driver) {}

  // Starts session `i` afresh over `region` (bus address `bus`): the geometry, or false if the
  // device is not ready or the region cannot hold the layout.
  [[nodiscard]] bool open(std::size_t i, ukernel::SharedRegion region, word bus,
                          block::Geometry& geometry) {
    if (i >= kSessions || !driver_.ready() || bus == 0) return false;
    Entry& e = sessions_[i];
    ++e.generation;
    geometry = {driver_.capacity_sectors(), std::uint32_t(virtio_blk::kSectorBytes), region.size(),
                kMaxInFlight};
    e.bus = bus;
    e.posted = false;
    return e.session.open(region, geometry);
  }

  block::Session& session(std::size_t i) { return sessions_[i].session; }

  // Hands the device session i's queued requests while it has a free slot.
  void pump(std::size_t i) {
    Entry& e = sessions_[i];
    for (;;) {
      std::size_t tag = 0;
      while (tag < kMaxInFlight && pending_[tag].busy)
        ++tag;
      if (tag == kMaxInFlight) return;
      block::Request r;
      if (!e.session.next(r)) return;
      std::span<std::byte> data = e.session.data(r);
      ukernel::virtio::DmaRegion region{data.data(), e.bus + block::kDataOffset + r.offset,
                                        data.size()};
      virtio_blk::Error error = driver_.submit(operation(r.op), r.lba, region, std::uint32_t(tag));
      if (error != virtio_blk::Error::kOk) {
        // The geometry's checks passed; the device's own limits (read-only, no flush, too many
        // segments) answer here, as an error completion.
        (void)e.session.complete(r.id, block::Status::kIoError);
        e.posted = true;
        continue;
      }
      pending_[tag] = {true, i, e.generation, r.id};
    }
  }

  // Posts every completion the device has; false if the device broke its queue (the driver
  // must be reset: the server stops and is restarted).
  [[nodiscard]] bool device_done() {
    virtio_blk::Completion c;
    for (;;) {
      virtio_blk::Error error = driver_.next_completion(c);
      if (error == virtio_blk::Error::kNone) return true;
      if (error != virtio_blk::Error::kOk || c.tag >= kMaxInFlight) return false;
      Pending& p = pending_[c.tag];
      Entry& e = sessions_[p.session];
      if (p.busy && p.generation == e.generation) {
        (void)e.session.complete(p.id, c.result == virtio_blk::Error::kOk
                                           ? block::Status::kOk
                                           : block::Status::kIoError);
        e.posted = true;
      }
      p = {};
    }
  }

  // True once if session i got completions since the last call.
  bool take_posted(std::size_t i) {
    bool posted = sessions_[i].posted;
    sessions_[i].posted = false;
    return posted;
  }

 private:
  struct Entry {
    block::Session session;
    word bus = 0;
    std::uint32_t generation = 0;
    bool posted = false;
  };
  struct Pending {
    bool busy = false;
    std::size_t session = 0;
    std::uint32_t generation = 0;
    std::uint64_t id = 0;
  };

  static virtio_blk::Operation operation(std::uint32_t op) {
    if (op == std::uint32_t(block::Op::kRead)) return virtio_blk::Operation::kRead;
    if (op == std::uint32_t(block::Op::kWrite)) return virtio_blk::Operation::kWrite;
    return virtio_blk::Operation::kFlush;  // validate() let nothing else through
  }

  Driver& driver_;
  Entry sessions_[kSessions];
  Pending pending_[kMaxInFlight];
};

}  // namespace blk
