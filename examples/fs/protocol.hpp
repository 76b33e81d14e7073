// The file-system protocol: what a client asks the fs server (examples/fs/server.hpp) for.
//
// How this works. The server's endpoint is badged per client; each client also shares one
// region of memory with the server. Paths and file data never travel in message registers: a
// request names them by (offset, length) in the client's region, and the server checks every
// such pair against the region before it reads or writes a byte (kOutsideRegion otherwise).
// A handle belongs to the client that opened it: another client's handle is kBadHandle.
//
// Every method's reply carries an FsError (fat32/fs_error.hpp, the library's one error set,
// with kNoDisk, kOutsideRegion and kStaleHandle for the server's own: a handle opened before
// the server dropped its volume after an I/O error answers kStaleHandle, and Close frees it). The
// call's ukernel::Error is the transport's: kInvalidArgument for a malformed message, kCancelled if
// the server died during the call (fs_client.hpp turns it into kIoError after reconnecting).
//
// Durability: a kOk from Fsync, Close or Sync means the bytes are on the disk (the block
// driver's flush returned); docs/storage.md has the promise in full.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fat32/fs_error.hpp"
#include "ukernel/rpc.hpp"

namespace ukernel::fs {

using fat32::FsError;

// Open flags on the wire (fat32::OpenFlags' bits), combined with |. kRead and/or kWrite is
// required; other bits are kInvalidArgument.
struct Open {
  static constexpr std::uint8_t kRead = 1;
  static constexpr std::uint8_t kWrite = 2;
  static constexpr std::uint8_t kCreate = 4;      // create the file if it does not exist
  static constexpr std::uint8_t kTruncate = 8;    // cut an existing file to zero bytes
  static constexpr std::uint8_t kExclusive = 16;  // with kCreate: kExists if the file exists
  static constexpr std::uint8_t kMask = 31;
};

// A status and one value (a handle, a byte count, an entry count).
struct Reply {
  FsError status = FsError::kOk;
  std::uint64_t value = 0;
};

// What Stat and Fstat return. date/time are FAT's encoding (fat32::Timestamp).
struct StatReply {
  FsError status = FsError::kOk;
  std::uint64_t size = 0;
  bool is_directory = false;
  std::uint8_t attributes = 0;
  std::uint16_t date = 0;
  std::uint16_t time = 0;
};

// ReadDir writes records into the region, each 8-byte aligned: this header, then the name's
// UTF-8 bytes (no NUL). The next record starts at align8(sizeof(DirRecord) + name_length).
struct DirRecord {
  std::uint32_t size;
  std::uint16_t name_length;
  std::uint8_t is_directory;
  std::uint8_t attributes;
  std::uint16_t date;
  std::uint16_t time;
};
constexpr std::size_t dir_record_bytes(std::size_t name_length) {
  return (sizeof(DirRecord) + name_length + 7) & ~std::size_t{7};
}

struct Protocol {
  // (path offset, path length, flags) -> handle. Errors: Volume::open's, kOutsideRegion,
  // kInvalidArgument (flags), kReadOnly (a read-only client asking for write), kNoDisk,
  // kNotMounted.
  using OpenFile = rpc::Method<1, Reply(std::uint64_t, std::uint64_t, std::uint8_t)>;
  // (handle, file offset, region offset, length) -> bytes read into the region at that offset.
  using Read = rpc::Method<2, Reply(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t)>;
  // (handle, file offset, region offset, length) -> bytes written (all of them, or an error).
  using Write = rpc::Method<3, Reply(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t)>;
  // (handle): fsync, then the handle is gone. kOk: durable.
  using Close = rpc::Method<4, Reply(std::uint64_t)>;
  // (handle): everything written through it is durable when this returns kOk.
  using Fsync = rpc::Method<5, Reply(std::uint64_t)>;
  // (handle, size): cut or extend the file.
  using Truncate = rpc::Method<6, Reply(std::uint64_t, std::uint64_t)>;
  using Fstat = rpc::Method<7, StatReply(std::uint64_t)>;
  // (path offset, path length)
  using Stat = rpc::Method<8, StatReply(std::uint64_t, std::uint64_t)>;
  // (path offset, path length, first entry index, region offset, capacity) -> the number of
  // records written there; fewer than asked at the end of the directory. Entries are counted
  // from 0 in directory order ("." and ".." not listed).
  using ReadDir = rpc::Method<9, Reply(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                       std::uint64_t)>;
  using Mkdir = rpc::Method<10, Reply(std::uint64_t, std::uint64_t)>;
  using Rmdir = rpc::Method<11, Reply(std::uint64_t, std::uint64_t)>;
  using Unlink = rpc::Method<12, Reply(std::uint64_t, std::uint64_t)>;
  // (from offset, from length, to offset, to length)
  using Rename = rpc::Method<13, Reply(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t)>;
  // Everything on the volume is durable, and the volume is marked clean.
  using Sync = rpc::Method<14, Reply()>;
  using Methods = rpc::Methods<OpenFile, Read, Write, Close, Fsync, Truncate, Fstat, Stat, ReadDir,
                               Mkdir, Rmdir, Unlink, Rename, Sync>;
};

}  // namespace ukernel::fs

template <>
struct ukernel::rpc::Codec<ukernel::fs::Reply> {
  static constexpr std::size_t kWords = 2;
  static constexpr std::size_t kCaps = 0;
  static void encode(const fs::Reply& r, word* out) {
    out[0] = word(r.status);
    out[1] = r.value;
  }
  static bool decode(const word* in, fs::Reply& r) {
    if (in[0] >= word(fs::FsError::kCount)) return false;
    r = {fs::FsError(in[0]), in[1]};
    return true;
  }
};

template <>
struct ukernel::rpc::Codec<ukernel::fs::StatReply> {
  static constexpr std::size_t kWords = 3;
  static constexpr std::size_t kCaps = 0;
  static void encode(const fs::StatReply& r, word* out) {
    out[0] = word(r.status) | word(r.is_directory) << 8 | word(r.attributes) << 16;
    out[1] = r.size;
    out[2] = word(r.date) | word(r.time) << 16;
  }
  static bool decode(const word* in, fs::StatReply& r) {
    if ((in[0] & 0xff) >= word(fs::FsError::kCount) || (in[0] >> 8 & 0xff) > 1 ||
        in[0] >> 24 != 0 || in[2] >> 32 != 0)
      return false;
    r = {fs::FsError(in[0] & 0xff), in[1],
         (in[0] >> 8 & 1) != 0,     std::uint8_t(in[0] >> 16),
         std::uint16_t(in[2]),      std::uint16_t(in[2] >> 16)};
    return true;
  }
};
