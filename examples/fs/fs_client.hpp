// The client's side of the fs protocol (protocol.hpp), for servers and tests.
//
//   fs::Client files(endpoint, region);           // the region: shared with the fs server
//   auto h = files.open("/docs/a.txt", fs::Open::kWrite | fs::Open::kCreate);
//   files.write(h.value, 0, bytes);               // copied into the region, then Write
//   files.close(h.value);                         // kOk: on the disk
//
// The region's first kDataOffset bytes hold the request's paths (two of kPathBytes each, for
// Rename); the rest is the data area, and reads and writes of more than it holds are split.
// A transport failure (the server died in the call) is reported as kIoError: the caller's
// handles are gone with the server, so it opens its files again.
#pragma once

#include <span>
#include <string_view>

#include "protocol.hpp"
#include "ukernel/shared_region.hpp"

namespace ukernel::fs {

class Client {
 public:
  static constexpr std::size_t kPathBytes = 2048;
  static constexpr std::size_t kDataOffset = 2 * kPathBytes;

  Client(word endpoint, SharedRegion region) : rpc_(endpoint), region_(region) {}
  void set_endpoint(word endpoint) { rpc_.set_endpoint(endpoint); }
  SharedRegion region() const { return region_; }
  // The data area, where read() and read_dir() put what they return.
  std::span<std::byte> data() const {
    return region_.slice(kDataOffset,
                         region_.size() > kDataOffset ? region_.size() - kDataOffset : 0);
  }

  fat32::Result<std::uint64_t> open(std::string_view path, std::uint8_t flags) {
    if (!put_path(0, path)) return FsError::kPathTooLong;
    return value(
        rpc_.call<Protocol::OpenFile>(std::uint64_t{0}, std::uint64_t(path.size()), flags));
  }
  FsError close(std::uint64_t handle) { return status(rpc_.call<Protocol::Close>(handle)); }
  FsError fsync(std::uint64_t handle) { return status(rpc_.call<Protocol::Fsync>(handle)); }
  FsError truncate(std::uint64_t handle, std::uint64_t size) {
    return status(rpc_.call<Protocol::Truncate>(handle, size));
  }
  FsError sync() { return status(rpc_.call<Protocol::Sync>()); }

  // Reads up to out.size() bytes at offset; fewer only at the end of the file.
  fat32::Result<std::uint64_t> read(std::uint64_t handle, std::uint64_t offset,
                                    std::span<std::byte> out) {
    std::uint64_t total = 0;
    while (total < out.size()) {
      std::uint64_t piece = out.size() - total < data().size() ? out.size() - total : data().size();
      auto got = value(
          rpc_.call<Protocol::Read>(handle, offset + total, std::uint64_t{kDataOffset}, piece));
      if (!got.ok()) return got.error;
      __builtin_memcpy(out.data() + total, data().data(), got.value);
      total += got.value;
      if (got.value < piece) break;
    }
    return total;
  }
  // Writes all of `in` at offset.
  fat32::Result<std::uint64_t> write(std::uint64_t handle, std::uint64_t offset,
                                     std::span<const std::byte> in) {
    std::uint64_t total = 0;
    while (total < in.size()) {
      std::uint64_t piece = in.size() - total < data().size() ? in.size() - total : data().size();
      __builtin_memcpy(data().data(), in.data() + total, piece);
      auto put = value(
          rpc_.call<Protocol::Write>(handle, offset + total, std::uint64_t{kDataOffset}, piece));
      if (!put.ok()) return put.error;
      total += put.value;
    }
    return total;
  }

  // Reads up to `length` bytes at offset straight into the data area (at most its size): no copy
  // on the client's side. The bytes stay there until the next call. Fewer only at the end.
  fat32::Result<std::uint64_t> read_in_place(std::uint64_t handle, std::uint64_t offset,
                                             std::uint64_t length) {
    if (length > data().size()) length = data().size();
    return value(rpc_.call<Protocol::Read>(handle, offset, std::uint64_t{kDataOffset}, length));
  }
  // Writes the first `length` bytes of the data area (at most its size) at offset.
  fat32::Result<std::uint64_t> write_in_place(std::uint64_t handle, std::uint64_t offset,
                                              std::uint64_t length) {
    if (length > data().size()) length = data().size();
    return value(rpc_.call<Protocol::Write>(handle, offset, std::uint64_t{kDataOffset}, length));
  }

  StatReply stat(std::string_view path) {
    if (!put_path(0, path)) return StatReply{FsError::kPathTooLong};
    return stat_of(rpc_.call<Protocol::Stat>(std::uint64_t{0}, std::uint64_t(path.size())));
  }
  StatReply fstat(std::uint64_t handle) { return stat_of(rpc_.call<Protocol::Fstat>(handle)); }

  FsError mkdir(std::string_view path) { return path_call<Protocol::Mkdir>(path); }
  FsError rmdir(std::string_view path) { return path_call<Protocol::Rmdir>(path); }
  FsError unlink(std::string_view path) { return path_call<Protocol::Unlink>(path); }
  FsError rename(std::string_view from, std::string_view to) {
    if (!put_path(0, from) || !put_path(kPathBytes, to)) return FsError::kPathTooLong;
    return status(rpc_.call<Protocol::Rename>(std::uint64_t{0}, std::uint64_t(from.size()),
                                              std::uint64_t{kPathBytes}, std::uint64_t(to.size())));
  }

  // Lists a directory: calls `each(name, record)` for every entry. Errors as Stat's.
  template <class F>
  FsError list(std::string_view path, F&& each) {
    std::uint64_t cursor = 0;
    for (;;) {
      if (!put_path(0, path)) return FsError::kPathTooLong;
      auto got = value(rpc_.call<Protocol::ReadDir>(std::uint64_t{0}, std::uint64_t(path.size()),
                                                    cursor, std::uint64_t{kDataOffset},
                                                    std::uint64_t(data().size())));
      if (!got.ok()) return got.error;
      std::uint64_t count = got.value & 0xFFFFFFFF;
      if (count == 0) return FsError::kOk;
      std::size_t at = 0;
      for (std::uint64_t i = 0; i < count; ++i) {
        DirRecord record;
        __builtin_memcpy(&record, data().data() + at, sizeof record);
        if (at + dir_record_bytes(record.name_length) > data().size()) return FsError::kIoError;
        each(std::string_view(reinterpret_cast<const char*>(data().data() + at + sizeof record),
                              record.name_length),
             record);
        at += dir_record_bytes(record.name_length);
      }
      cursor = got.value >> 32;
    }
  }

 private:
  bool put_path(std::size_t at, std::string_view path) {
    if (path.size() > kPathBytes || region_.size() < kDataOffset) return false;
    __builtin_memcpy(region_.base() + at, path.data(), path.size());
    return true;
  }
  template <class M>
  FsError path_call(std::string_view path) {
    if (!put_path(0, path)) return FsError::kPathTooLong;
    return status(rpc_.call<M>(std::uint64_t{0}, std::uint64_t(path.size())));
  }
  static FsError status(const rpc::Result<Reply>& r) {
    return r.ok() ? r.value().status : FsError::kIoError;
  }
  static fat32::Result<std::uint64_t> value(const rpc::Result<Reply>& r) {
    if (!r.ok()) return FsError::kIoError;
    if (r.value().status != FsError::kOk) return r.value().status;
    return r.value().value;
  }
  static StatReply stat_of(const rpc::Result<StatReply>& r) {
    return r.ok() ? r.value() : StatReply{FsError::kIoError};
  }

  rpc::Client<Protocol> rpc_;
  SharedRegion region_;
};

}  // namespace ukernel::fs
