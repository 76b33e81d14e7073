// The RAM-disk block server: the reference server of the block protocol (ukernel/block.hpp,
// docs/drivers.md). It serves a disk held in memory to a fixed set of clients, each with its
// own session region, named by the badge of its endpoint capability. A file system can be
// built and tested against it before a device driver exists.
//
// A Kick takes every queued request of the caller's session first (several in flight, as a
// device with a queue would), then does them and posts the completions; the session helper
// (block_server.hpp) has already answered the bad ones.
#pragma once

#include <span>

#include "ukernel/block_server.hpp"

namespace ramdisk {

using ukernel::Error;
using ukernel::word;
namespace block = ukernel::block;
namespace rpc = ukernel::rpc;

inline constexpr std::uint32_t kSectorSize = 512;
inline constexpr std::size_t kMaxSessions = 4;
inline constexpr std::uint32_t kMaxInFlight = 16;

// One client: its badge, its region as mapped in the server, and the notification to signal
// when its completions are posted (0: none).
struct SessionConfig {
  word badge = 0;
  ukernel::SharedRegion region;
  word notification = 0;
};

class Server : public rpc::Server<Server, block::Protocol> {
 public:
  // `disk`: the disk's bytes (a whole number of sectors); `sessions`: up to kMaxSessions.
  Server(std::span<std::byte> disk, std::span<const SessionConfig> sessions) : disk_(disk) {
    for (std::size_t i = 0; i < sessions.size() && i < kMaxSessions; ++i)
      sessions_[i].config = sessions[i];
  }

  rpc::Result<block::Geometry> handle(block::Protocol::Open) {
    Entry* e = find(badge());
    if (e == nullptr) return Error::kNotFound;
    block::Geometry geometry{disk_.size() / kSectorSize, kSectorSize, e->config.region.size(),
                             kMaxInFlight};
    if (!e->session.open(e->config.region, geometry)) return Error::kInvalidArgument;
    return geometry;
  }

  rpc::Result<void> handle(block::Protocol::Kick) {
    Entry* e = find(badge());
    if (e == nullptr) return Error::kNotFound;
    if (!e->session.is_open()) return Error::kIllegalOperation;
    run_session(*e);
    if (e->session.corrupt()) return Error::kInvalidArgument;
    return {};
  }

 private:
  struct Entry {
    SessionConfig config;
    block::Session session;
  };

  Entry* find(word badge) {
    for (Entry& e : sessions_) {
      if (e.config.badge == badge && !e.config.region.empty()) return &e;
    }
    return nullptr;
  }

  void run_session(Entry& e) {
    for (;;) {
      block::Request batch[kMaxInFlight];
      std::size_t taken = 0;
      while (taken < kMaxInFlight && e.session.next(batch[taken]))
        ++taken;
      if (taken == 0) return;
      for (std::size_t i = 0; i < taken; ++i) {
        if (!e.session.complete(batch[i].id, perform(e.session, batch[i]))) return;  // corrupt
      }
      if (e.config.notification != 0) (void)ukernel::signal(e.config.notification);
    }
  }

  // Does one checked request: its LBA range is on the disk and its bytes in the region.
  block::Status perform(const block::Session& session, const block::Request& r) {
    std::span<std::byte> data = session.data(r);
    std::byte* sector = disk_.data() + r.lba * kSectorSize;
    switch (block::Op(r.op)) {
      case block::Op::kRead:
        __builtin_memcpy(data.data(), sector, data.size());
        break;
      case block::Op::kWrite:
        __builtin_memcpy(sector, data.data(), data.size());
        break;
      case block::Op::kFlush:  // memory is always "on disk"
      case block::Op::kCount:
        break;
    }
    return block::Status::kOk;
  }

  std::span<std::byte> disk_;
  Entry sessions_[kMaxSessions];
};

}  // namespace ramdisk
