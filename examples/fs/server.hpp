// The FAT32 file-system server: the fs protocol (protocol.hpp) over a FAT32 volume
// (fat32/volume.hpp) on a block session (block_disk.hpp).
//
// How this works. The server knows a fixed set of clients, each by the badge of its endpoint
// capability, with its shared region (as mapped here), the subtree it sees as its root, and
// whether it may change anything (Genode's file-system session arguments `root` and
// `writeable`). Every request is decoded and checked completely (paths and data inside the
// client's region, handles the client's own, flags known, writes allowed) before the volume is
// touched. The client's path is prefixed with its root; the volume refuses "..", so a client
// cannot climb out of its subtree.
//
// Mount: on the first request (and again after the block driver came back), the server opens
// its block session and mounts the volume read-write, which repairs a volume left dirty by a
// crash (docs/storage.md). No session: kNoDisk. A refused volume: kNotMounted, and the reason
// (FsError and Corruption) stays readable through mount_error().
//
// I/O errors. When the volume reports kIoError (a device error, or the block driver died in the
// middle of an operation), the operation stopped part-way and what the volume holds in memory
// (a cached FAT sector, the free count, file sizes) may not match the disk. The server answers
// kIoError, forgets the volume without writing anything (Volume::forget), and on the next
// request opens its block session again and mounts, which repairs what the interrupted
// operation left. The clients' open handles do not survive: each answers kStaleHandle (Close
// frees it), never another file, so a client opens its file again and carries on from what it
// last saw acknowledged by Fsync or Close.
#pragma once

#include <span>
#include <string_view>

#include "block_disk.hpp"
#include "fat32/volume.hpp"
#include "protocol.hpp"
#include "ukernel/shared_region.hpp"

namespace ukernel::fs {

inline constexpr std::size_t kMaxClients = 8;
inline constexpr std::size_t kMaxRootLength = 256;

// One client of the server. `root`: the directory it sees as "/" ("" or "/": the volume's).
struct ClientConfig {
  word badge = 0;
  SharedRegion region;
  std::string_view root;
  bool read_only = false;
};

class Server : public rpc::Server<Server, Protocol> {
 public:
  // `disk_endpoint`/`disk_region`: the block session; `clients`: up to kMaxClients (more are
  // ignored, and a root longer than kMaxRootLength makes that client's every path kPathTooLong).
  Server(word disk_endpoint, SharedRegion disk_region, std::span<const ClientConfig> clients);

  // Opens the block session and mounts, if not mounted: kOk, kNoDisk, or the mount's error.
  [[nodiscard]] FsError ensure_mounted();
  FsError mount_error() const { return mount_error_; }
  // How often the volume was dropped after an I/O error (each time, the next request remounts).
  std::uint64_t volumes_dropped() const { return volumes_dropped_; }
  fat32::Corruption corruption() const { return volume_.corruption(); }
  const fat32::VolumeInfo info() const { return volume_.info(); }
  // Sets the clock the volume stamps changes with.
  void set_clock(fat32::Timestamp now) { volume_.set_clock(now); }

  rpc::Result<Reply> handle(Protocol::OpenFile, std::uint64_t path, std::uint64_t length,
                            std::uint8_t flags);
  rpc::Result<Reply> handle(Protocol::Read, std::uint64_t handle, std::uint64_t offset,
                            std::uint64_t at, std::uint64_t length);
  rpc::Result<Reply> handle(Protocol::Write, std::uint64_t handle, std::uint64_t offset,
                            std::uint64_t at, std::uint64_t length);
  rpc::Result<Reply> handle(Protocol::Close, std::uint64_t handle);
  rpc::Result<Reply> handle(Protocol::Fsync, std::uint64_t handle);
  rpc::Result<Reply> handle(Protocol::Truncate, std::uint64_t handle, std::uint64_t size);
  rpc::Result<StatReply> handle(Protocol::Fstat, std::uint64_t handle);
  rpc::Result<StatReply> handle(Protocol::Stat, std::uint64_t path, std::uint64_t length);
  rpc::Result<Reply> handle(Protocol::ReadDir, std::uint64_t path, std::uint64_t length,
                            std::uint64_t first, std::uint64_t at, std::uint64_t capacity);
  rpc::Result<Reply> handle(Protocol::Mkdir, std::uint64_t path, std::uint64_t length);
  rpc::Result<Reply> handle(Protocol::Rmdir, std::uint64_t path, std::uint64_t length);
  rpc::Result<Reply> handle(Protocol::Unlink, std::uint64_t path, std::uint64_t length);
  rpc::Result<Reply> handle(Protocol::Rename, std::uint64_t from, std::uint64_t from_length,
                            std::uint64_t to, std::uint64_t to_length);
  rpc::Result<Reply> handle(Protocol::Sync);

 private:
  struct Owner {
    word badge = 0;
    std::uint32_t handle = 0;  // fat32::FileHandle::value; 0: free
    bool stale = false;        // from before the volume was dropped: kStaleHandle
  };
  // A path of the volume: the client's root, '/', the client's path.
  struct Path {
    char bytes[fat32::kMaxPathLength + 1];
    std::size_t length = 0;
    std::string_view view() const { return {bytes, length}; }
  };

  const ClientConfig* caller() const;
  // Checks the caller, the mount and (for changes) that the caller may write.
  FsError admit(bool changes);
  FsError make_path(std::uint64_t at, std::uint64_t length, Path& out);
  Owner* owner_of(std::uint64_t handle);
  // The caller's live handle: kOk, kBadHandle (not the caller's), kStaleHandle.
  FsError check_handle(std::uint64_t handle);
  // Passes a volume result on; after kIoError, drops the volume first (see the top).
  FsError settle(FsError e);
  void drop_volume();
  FsError path_op(std::uint64_t at, std::uint64_t length,
                  FsError (fat32::Volume::*op)(std::string_view));

  BlockDisk disk_;
  fat32::Volume volume_;
  FsError mount_error_ = FsError::kNotMounted;
  bool reopen_session_ = false;  // the next mount opens the block session afresh first
  std::uint64_t volumes_dropped_ = 0;
  ClientConfig clients_[kMaxClients];
  Owner owners_[fat32::kMaxOpenFiles];
  Path scratch_;  // the paths of one request (kept here: they are large for a server's stack)
  Path scratch_to_;
};

}  // namespace ukernel::fs
