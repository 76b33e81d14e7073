// A block session (ukernel/block_client.hpp) seen as the FAT32 library's BlockDevice.
//
// How this works. A read or write goes through the session's data area in batches of at most
// the area's size. A batch is cut into requests of at most kRequestBytes, and up to the
// session's max_in_flight of them are queued before the driver is kicked once, so a large
// transfer costs a few round trips, not one per sector or cluster; the driver may complete them
// in any order. The library asks for whole runs of contiguous clusters (fat32/files.cpp), so a
// sequential read of a file becomes batches the size of the data area. A flush is the
// protocol's kFlush. Any failure (a device error, a driver that died, a broken session) is
// BlockStatus::kIoError for the library, after every request of the batch has been reaped (so
// nothing still in flight can land in the area later); after the driver died, the next call
// opens the session again first, so a restarted driver is picked up without restarting the
// server. The data is copied once between the area and the library's buffer (which is, for
// file data, the client's shared region): the driver's device reads and writes the area by DMA.
#pragma once

#include <span>

#include "fat32/block_device.hpp"
#include "ukernel/block_client.hpp"

namespace ukernel::fs {

class BlockDisk {
 public:
  BlockDisk(word endpoint, SharedRegion region) : client_(endpoint, region) {}

  // Opens the session; false if the driver refused it or its sectors are not 512 bytes.
  [[nodiscard]] bool open() {
    if (client_.open() != Error::kOk) return false;
    if (client_.geometry().sector_size != fat32::kDeviceSectorSize) return false;
    sectors_ = client_.geometry().sectors;
    return true;
  }
  bool is_open() const { return client_.is_open(); }
  void set_endpoint(word endpoint) { client_.set_endpoint(endpoint); }

  std::uint64_t sector_count() const { return sectors_; }

  fat32::BlockStatus read(std::uint64_t lba, std::span<std::byte> out) {
    while (!out.empty()) {
      std::size_t batch = chunk(out.size());
      if (batch == 0 || run_batch(block::Op::kRead, lba, batch) != block::Status::kOk)
        return fat32::BlockStatus::kIoError;
      __builtin_memcpy(out.data(), client_.data().data(), batch);
      out = out.subspan(batch);
      lba += batch / fat32::kDeviceSectorSize;
    }
    return fat32::BlockStatus::kOk;
  }

  fat32::BlockStatus write(std::uint64_t lba, std::span<const std::byte> in) {
    while (!in.empty()) {
      if (!ready()) return fat32::BlockStatus::kIoError;
      std::size_t batch = chunk(in.size());
      if (batch == 0) return fat32::BlockStatus::kIoError;
      __builtin_memcpy(client_.data().data(), in.data(), batch);
      if (run_batch(block::Op::kWrite, lba, batch) != block::Status::kOk)
        return fat32::BlockStatus::kIoError;
      in = in.subspan(batch);
      lba += batch / fat32::kDeviceSectorSize;
    }
    return fat32::BlockStatus::kOk;
  }

  fat32::BlockStatus flush() {
    return transfer(block::Op::kFlush, 0, 0) == block::Status::kOk ? fat32::BlockStatus::kOk
                                                                   : fat32::BlockStatus::kIoError;
  }

 private:
  // Bytes of the next piece: the area's size rounded down to sectors, at most `left`.
  std::size_t chunk(std::size_t left) const {
    std::size_t area = client_.data().size() & ~(fat32::kDeviceSectorSize - 1);
    return left < area ? left : area;
  }

  // The session is open, or was opened again now (after the driver restarted).
  bool ready() { return client_.is_open() || open(); }

  // One flush request, waited for.
  block::Status transfer(block::Op op, std::uint64_t lba, std::size_t bytes) {
    if (!ready()) return block::Status::kServerGone;
    std::uint64_t id = 0;
    auto sectors = std::uint32_t(bytes / fat32::kDeviceSectorSize);
    if (block::Status s = client_.submit(op, lba, sectors, 0, id); s != block::Status::kOk)
      return s;
    block::Status result = block::Status::kOk;
    std::size_t outstanding = 1;
    return finish(id, outstanding, result);
  }

  // Moves `bytes` (a multiple of 512, at most the area) between sector `lba` on and the start
  // of the data area: requests of at most kRequestBytes, as many in flight as the session
  // takes. kOk only if every request succeeded; it returns once none is in flight.
  block::Status run_batch(block::Op op, std::uint64_t lba, std::size_t bytes) {
    if (!ready()) return block::Status::kServerGone;
    block::Status result = block::Status::kOk;
    std::size_t submitted = 0, outstanding = 0;
    std::uint64_t first_id = 0;
    while (submitted < bytes && result == block::Status::kOk) {
      std::size_t piece = bytes - submitted < kRequestBytes ? bytes - submitted : kRequestBytes;
      std::uint64_t id = 0;
      block::Status s =
          client_.submit(op, lba + submitted / fat32::kDeviceSectorSize,
                         std::uint32_t(piece / fat32::kDeviceSectorSize), submitted, id);
      if (s == block::Status::kTooMany && outstanding > 0) {
        // Every slot is busy: wait for one, then go on queueing.
        if (!reap_some(first_id, outstanding, result)) return finish(first_id, outstanding, result);
        continue;
      }
      if (s != block::Status::kOk) {
        result = s;
        break;
      }
      if (submitted == 0) first_id = id;
      ++outstanding;
      submitted += piece;
    }
    return finish(first_id, outstanding, result);
  }

  // Reaps what is done; if nothing was, kicks the driver and blocks for a completion. False if
  // the driver is gone (the requests in flight were failed, and are reaped by finish()).
  bool reap_some(std::uint64_t first_id, std::size_t& outstanding, block::Status& result) {
    bool any = false;
    for (block::Outcome done; client_.reap(done);) {
      if (done.id < first_id) continue;  // not this batch's (an earlier, abandoned one)
      --outstanding;
      any = true;
      if (done.status != block::Status::kOk && result == block::Status::kOk) result = done.status;
    }
    if (any || outstanding == 0) return true;
    if (client_.wait() != Error::kOk) {
      if (result == block::Status::kOk) result = block::Status::kServerGone;
      return false;
    }
    return true;
  }

  // Waits until none of this batch is in flight.
  block::Status finish(std::uint64_t first_id, std::size_t& outstanding, block::Status& result) {
    while (outstanding > 0) {
      if (!reap_some(first_id, outstanding, result)) {
        // The driver is gone: the library failed every request in flight; collect them.
        for (block::Outcome done; client_.reap(done);) {
          if (done.id >= first_id && outstanding > 0) --outstanding;
        }
        outstanding = 0;
      }
    }
    return result;
  }

  static constexpr std::size_t kRequestBytes = 128 * 1024;

  block::Client client_;
  std::uint64_t sectors_ = 0;
};

static_assert(fat32::BlockDevice<BlockDisk>);

}  // namespace ukernel::fs
