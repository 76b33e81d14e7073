// The fs server's handlers: decode and check each request, then call the volume.
#include "server.hpp"

namespace ukernel::fs {

namespace {

StatReply stat_reply(const fat32::Result<fat32::Stat>& r) {
  if (!r.ok()) return StatReply{r.error, 0, false, 0, 0, 0};
  return StatReply{FsError::kOk,       r.value.size,          r.value.is_directory,
                   r.value.attributes, r.value.modified.date, r.value.modified.time};
}

}  // namespace

Server::Server(word disk_endpoint, SharedRegion disk_region, std::span<const ClientConfig> clients)
    : disk_(disk_endpoint, disk_region) {
  for (std::size_t i = 0; i < clients.size() && i < kMaxClients; ++i)
    clients_[i] = clients[i];
}

FsError Server::ensure_mounted() {
  if (volume_.mounted()) return FsError::kOk;
  if (!disk_.is_open() || reopen_session_) {
    if (!disk_.open()) return mount_error_ = FsError::kNoDisk;
    reopen_session_ = false;
  } else if (mount_error_ != FsError::kNotMounted && mount_error_ != FsError::kNoDisk &&
             mount_error_ != FsError::kIoError) {
    return mount_error_;  // the volume was refused: trying again reads the same bytes
  }
  mount_error_ = volume_.mount(disk_, fat32::MountOptions{});
  // A mount that failed on I/O (the driver died during it) opens the session afresh next time.
  if (mount_error_ == FsError::kIoError) reopen_session_ = true;
  return mount_error_;
}

void Server::drop_volume() {
  volume_.forget();
  for (Owner& o : owners_) {
    if (o.handle != 0) o.stale = true;
  }
  mount_error_ = FsError::kIoError;
  reopen_session_ = true;
  ++volumes_dropped_;
}

FsError Server::settle(FsError e) {
  if (e == FsError::kIoError) drop_volume();
  return e;
}

const ClientConfig* Server::caller() const {
  for (const ClientConfig& c : clients_) {
    if (c.badge == badge() && !c.region.empty()) return &c;
  }
  return nullptr;
}

FsError Server::admit(bool changes) {
  const ClientConfig* c = caller();
  if (c == nullptr) return FsError::kBadHandle;  // not reached: only clients hold the endpoint
  if (changes && c->read_only) return FsError::kReadOnly;
  FsError e = ensure_mounted();
  if (e == FsError::kNoDisk || e == FsError::kOk || e == FsError::kIoError) return e;
  return FsError::kNotMounted;
}

FsError Server::make_path(std::uint64_t at, std::uint64_t length, Path& out) {
  const ClientConfig& c = *caller();
  if (length > fat32::kMaxPathLength || c.root.size() > kMaxRootLength)
    return FsError::kPathTooLong;
  if (!c.region.contains(at, length)) return FsError::kOutsideRegion;
  std::span<std::byte> bytes = c.region.slice(at, length);
  if (c.root.size() + 1 + length > fat32::kMaxPathLength) return FsError::kPathTooLong;
  std::size_t n = 0;
  for (char ch : c.root)
    out.bytes[n++] = ch;
  out.bytes[n++] = '/';
  for (std::byte b : bytes) {
    if (b == std::byte{0}) return FsError::kNameInvalid;  // a NUL would cut the path short
    out.bytes[n++] = static_cast<char>(b);
  }
  out.length = n;
  return FsError::kOk;
}

Server::Owner* Server::owner_of(std::uint64_t handle) {
  if (handle == 0 || handle > 0xFFFFFFFF) return nullptr;
  for (Owner& o : owners_) {
    if (o.handle == handle && o.badge == badge()) return &o;
  }
  return nullptr;
}

FsError Server::check_handle(std::uint64_t handle) {
  const Owner* o = owner_of(handle);
  if (o == nullptr) return FsError::kBadHandle;
  return o->stale ? FsError::kStaleHandle : FsError::kOk;
}

rpc::Result<Reply> Server::handle(Protocol::OpenFile, std::uint64_t path, std::uint64_t length,
                                  std::uint8_t flags) {
  if ((flags & ~Open::kMask) != 0 || (flags & (Open::kRead | Open::kWrite)) == 0)
    return Reply{FsError::kInvalidArgument};
  const bool changes = (flags & (Open::kWrite | Open::kCreate | Open::kTruncate)) != 0;
  if (FsError e = admit(changes); e != FsError::kOk) return Reply{e};
  if (FsError e = make_path(path, length, scratch_); e != FsError::kOk) return Reply{e};
  Owner* free_owner = nullptr;
  for (Owner& o : owners_) {
    if (o.handle == 0) free_owner = &o;
  }
  if (free_owner == nullptr) return Reply{FsError::kTooManyOpenFiles};
  auto opened = volume_.open(scratch_.view(), fat32::OpenFlags(flags));
  if (!opened.ok()) return Reply{settle(opened.error)};
  *free_owner = {badge(), opened.value.value};
  return Reply{FsError::kOk, opened.value.value};
}

rpc::Result<Reply> Server::handle(Protocol::Read, std::uint64_t handle, std::uint64_t offset,
                                  std::uint64_t at, std::uint64_t length) {
  if (FsError e = admit(false); e != FsError::kOk) return Reply{e};
  if (FsError e = check_handle(handle); e != FsError::kOk) return Reply{e};
  std::span<std::byte> out = caller()->region.slice(at, length);
  if (!caller()->region.contains(at, length)) return Reply{FsError::kOutsideRegion};
  auto done = volume_.read(fat32::FileHandle{std::uint32_t(handle)}, offset, out);
  if (!done.ok()) return Reply{settle(done.error)};
  return Reply{FsError::kOk, done.value};
}

rpc::Result<Reply> Server::handle(Protocol::Write, std::uint64_t handle, std::uint64_t offset,
                                  std::uint64_t at, std::uint64_t length) {
  if (FsError e = admit(true); e != FsError::kOk) return Reply{e};
  if (FsError e = check_handle(handle); e != FsError::kOk) return Reply{e};
  std::span<std::byte> in = caller()->region.slice(at, length);
  if (!caller()->region.contains(at, length)) return Reply{FsError::kOutsideRegion};
  auto done = volume_.write(fat32::FileHandle{std::uint32_t(handle)}, offset, in);
  if (!done.ok()) return Reply{settle(done.error)};
  return Reply{FsError::kOk, done.value};
}

rpc::Result<Reply> Server::handle(Protocol::Close, std::uint64_t handle) {
  Owner* o = owner_of(handle);
  if (o == nullptr) return Reply{FsError::kBadHandle};
  if (o->stale) {  // letting go of a stale handle needs no volume
    *o = Owner{};
    return Reply{FsError::kStaleHandle};
  }
  if (FsError e = admit(false); e != FsError::kOk) return Reply{e};
  *o = Owner{};
  return Reply{settle(volume_.close(fat32::FileHandle{std::uint32_t(handle)}))};
}

rpc::Result<Reply> Server::handle(Protocol::Fsync, std::uint64_t handle) {
  if (FsError e = admit(false); e != FsError::kOk) return Reply{e};
  if (FsError e = check_handle(handle); e != FsError::kOk) return Reply{e};
  return Reply{settle(volume_.fsync(fat32::FileHandle{std::uint32_t(handle)}))};
}

rpc::Result<Reply> Server::handle(Protocol::Truncate, std::uint64_t handle, std::uint64_t size) {
  if (FsError e = admit(true); e != FsError::kOk) return Reply{e};
  if (FsError e = check_handle(handle); e != FsError::kOk) return Reply{e};
  return Reply{settle(volume_.truncate(fat32::FileHandle{std::uint32_t(handle)}, size))};
}

rpc::Result<StatReply> Server::handle(Protocol::Fstat, std::uint64_t handle) {
  if (FsError e = admit(false); e != FsError::kOk) return StatReply{e};
  if (FsError e = check_handle(handle); e != FsError::kOk) return StatReply{e};
  return stat_reply(volume_.fstat(fat32::FileHandle{std::uint32_t(handle)}));
}

rpc::Result<StatReply> Server::handle(Protocol::Stat, std::uint64_t path, std::uint64_t length) {
  if (FsError e = admit(false); e != FsError::kOk) return StatReply{e};
  if (FsError e = make_path(path, length, scratch_); e != FsError::kOk) return StatReply{e};
  auto stat = volume_.stat(scratch_.view());
  (void)settle(stat.error);
  return stat_reply(stat);
}

rpc::Result<Reply> Server::handle(Protocol::ReadDir, std::uint64_t path, std::uint64_t length,
                                  std::uint64_t first, std::uint64_t at, std::uint64_t capacity) {
  if (FsError e = admit(false); e != FsError::kOk) return Reply{e};
  if (FsError e = make_path(path, length, scratch_); e != FsError::kOk) return Reply{e};
  std::span<std::byte> out = caller()->region.slice(at, capacity);
  if (!caller()->region.contains(at, capacity) || (at & 7) != 0)
    return Reply{FsError::kOutsideRegion};
  if (first > fat32::kMaxDirectoryEntries) return Reply{FsError::kInvalidArgument};
  auto cursor = volume_.open_dir(scratch_.view());
  if (!cursor.ok()) return Reply{settle(cursor.error)};
  cursor.value.next_slot = std::uint32_t(first);
  std::uint64_t count = 0;
  std::size_t used = 0;
  for (;;) {
    fat32::DirCursor before = cursor.value;
    fat32::DirEntry entry;
    auto more = volume_.read_dir(cursor.value, entry);
    if (!more.ok()) return Reply{settle(more.error)};
    if (!more.value) break;
    std::size_t bytes = dir_record_bytes(entry.name_length);
    if (out.size() - used < bytes) {
      cursor.value = before;  // it did not fit: the next call starts with it
      if (count == 0) return Reply{FsError::kOutsideRegion};
      break;
    }
    DirRecord record{entry.stat.size,
                     std::uint16_t(entry.name_length),
                     std::uint8_t(entry.stat.is_directory),
                     entry.stat.attributes,
                     entry.stat.modified.date,
                     entry.stat.modified.time};
    __builtin_memcpy(out.data() + used, &record, sizeof record);
    __builtin_memcpy(out.data() + used + sizeof record, entry.name.data(), entry.name_length);
    used += bytes;
    ++count;
  }
  return Reply{FsError::kOk, std::uint64_t(cursor.value.next_slot) << 32 | count};
}

FsError Server::path_op(std::uint64_t at, std::uint64_t length,
                        FsError (fat32::Volume::*op)(std::string_view)) {
  if (FsError e = admit(true); e != FsError::kOk) return e;
  if (FsError e = make_path(at, length, scratch_); e != FsError::kOk) return e;
  return settle((volume_.*op)(scratch_.view()));
}

rpc::Result<Reply> Server::handle(Protocol::Mkdir, std::uint64_t path, std::uint64_t length) {
  return Reply{path_op(path, length, &fat32::Volume::mkdir)};
}

rpc::Result<Reply> Server::handle(Protocol::Rmdir, std::uint64_t path, std::uint64_t length) {
  return Reply{path_op(path, length, &fat32::Volume::rmdir)};
}

rpc::Result<Reply> Server::handle(Protocol::Unlink, std::uint64_t path, std::uint64_t length) {
  return Reply{path_op(path, length, &fat32::Volume::unlink)};
}

rpc::Result<Reply> Server::handle(Protocol::Rename, std::uint64_t from, std::uint64_t from_length,
                                  std::uint64_t to, std::uint64_t to_length) {
  if (FsError e = admit(true); e != FsError::kOk) return Reply{e};
  if (FsError e = make_path(from, from_length, scratch_); e != FsError::kOk) return Reply{e};
  if (FsError e = make_path(to, to_length, scratch_to_); e != FsError::kOk) return Reply{e};
  return Reply{settle(volume_.rename(scratch_.view(), scratch_to_.view()))};
}

rpc::Result<Reply> Server::handle(Protocol::Sync) {
  if (FsError e = admit(false); e != FsError::kOk) return Reply{e};
  return Reply{settle(volume_.sync())};
}

}  // namespace ukernel::fs
