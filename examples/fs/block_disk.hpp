// A block session (ukernel/block_client.hpp) seen as the FAT32 library's BlockDevice.
//
// Each read or write goes through the session's data area in pieces of at most the area's size:
// the piece is submitted, the driver is kicked, and the completion reaped before the next. A
// flush is the protocol's kFlush. Any failure (a device error, a driver that died, a broken
// session) is BlockStatus::kIoError for the library; after the driver died, the next call opens
// the session again first, so a restarted driver is picked up without restarting the server.
// The data is copied once between the area and the library's buffer (the library works on its
// own sector buffers); docs/storage.md lists this among the limits.
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
      std::size_t piece = chunk(out.size());
      if (transfer(block::Op::kRead, lba, piece) != block::Status::kOk)
        return fat32::BlockStatus::kIoError;
      __builtin_memcpy(out.data(), client_.data().data(), piece);
      out = out.subspan(piece);
      lba += piece / fat32::kDeviceSectorSize;
    }
    return fat32::BlockStatus::kOk;
  }

  fat32::BlockStatus write(std::uint64_t lba, std::span<const std::byte> in) {
    while (!in.empty()) {
      std::size_t piece = chunk(in.size());
      if (!ready()) return fat32::BlockStatus::kIoError;
      __builtin_memcpy(client_.data().data(), in.data(), piece);
      if (transfer(block::Op::kWrite, lba, piece) != block::Status::kOk)
        return fat32::BlockStatus::kIoError;
      in = in.subspan(piece);
      lba += piece / fat32::kDeviceSectorSize;
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

  block::Status transfer(block::Op op, std::uint64_t lba, std::size_t bytes) {
    if (!ready()) return block::Status::kServerGone;
    std::uint64_t id = 0;
    auto sectors = std::uint32_t(bytes / fat32::kDeviceSectorSize);
    if (block::Status s = client_.submit(op, lba, sectors, 0, id); s != block::Status::kOk)
      return s;
    for (;;) {
      block::Outcome done;
      while (client_.reap(done)) {
        if (done.id == id) return done.status;
      }
      if (client_.wait() != Error::kOk) {
        while (client_.reap(done)) {
          if (done.id == id) return done.status;
        }
        return block::Status::kServerGone;
      }
    }
  }

  block::Client client_;
  std::uint64_t sectors_ = 0;
};

static_assert(fat32::BlockDevice<BlockDisk>);

}  // namespace ukernel::fs
