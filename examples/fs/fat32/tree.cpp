// The name space: stat, mkdir, rmdir, unlink, rename and readdir.
#include <cstring>

#include "entry.hpp"

namespace ukernel::fat32 {
namespace {

Stat stat_of(const Volume::Entry& e) {
  return Stat{e.is_directory() ? 0 : e.size, e.is_directory(), e.attributes, e.modified};
}

}  // namespace

Result<Stat> Volume::stat(std::string_view path) {
  Entry entry;
  bool is_root = false;
  if (FsError e = resolve(path, entry, is_root); e != FsError::kOk) return e;
  if (is_root) return Stat{0, true, kAttrDirectory, {}};
  return stat_of(entry);
}

FsError Volume::mkdir(std::string_view path) {
  std::uint32_t parent = 0;
  std::string_view last;
  if (FsError e = resolve_parent(path, parent, last); e != FsError::kOk) return e;
  if (last.empty()) return FsError::kExists;
  Entry entry;
  Result<bool> found = find(parent, last, entry);
  if (!found.ok()) return found.error;
  if (found.value) return FsError::kExists;
  LongName name;
  if (FsError e = parse_name(last, name); e != FsError::kOk) return e;
  if (read_only_) return FsError::kReadOnly;
  if (free_count_ == 0) return FsError::kNoSpace;
  if (FsError e = begin_change(); e != FsError::kOk) return e;
  // The new directory's cluster, with "." and "..", is on disk before its entry names it.
  Result<std::uint32_t> cluster = allocate_chain(1);
  if (!cluster.ok()) return cluster.error;
  if (FsError e = zero_cluster(cluster.value); e != FsError::kOk) return e;
  const std::uint32_t bps = geometry_.bytes_per_sector;
  std::memset(io_buffer_.data(), 0, bps);
  const ShortName dot = {'.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
  ShortName dotdot = dot;
  dotdot[1] = '.';
  const auto dot_raw = encode_short_entry(dot, kAttrDirectory, cluster.value, 0, now_);
  const auto dotdot_raw = encode_short_entry(
      dotdot, kAttrDirectory, parent == geometry_.root_cluster ? 0 : parent, 0, now_);
  std::memcpy(io_buffer_.data(), dot_raw.data(), 32);
  std::memcpy(io_buffer_.data() + 32, dotdot_raw.data(), 32);
  if (FsError e =
          write_sectors(geometry_.cluster_sector(cluster.value), std::span(io_buffer_.data(), bps));
      e != FsError::kOk) {
    return e;
  }
  if (FsError e = barrier(); e != FsError::kOk) return e;
  if (FsError e = create_entry(parent, name, kAttrDirectory, cluster.value, 0, entry);
      e != FsError::kOk) {
    // Nothing names the cluster yet: give it back (kNoSpace, kDirectoryFull leave no trace).
    const FsError undo = free_chain(cluster.value);
    return undo == FsError::kOk ? e : undo;
  }
  return FsError::kOk;
}

FsError Volume::rmdir(std::string_view path) {
  Entry entry;
  bool is_root = false;
  if (FsError e = resolve(path, entry, is_root); e != FsError::kOk) return e;
  if (is_root) return FsError::kInvalidArgument;
  if (!entry.is_directory()) return FsError::kNotADirectory;
  Result<bool> empty = directory_empty(entry.cluster);
  if (!empty.ok()) return empty.error;
  if (!empty.value) return FsError::kNotEmpty;
  if (FsError e = begin_change(); e != FsError::kOk) return e;
  if (FsError e = delete_entry(entry); e != FsError::kOk) return e;
  if (FsError e = barrier(); e != FsError::kOk) return e;
  return free_chain(entry.cluster);
}

FsError Volume::unlink(std::string_view path) {
  Entry entry;
  bool is_root = false;
  if (FsError e = resolve(path, entry, is_root); e != FsError::kOk) return e;
  if (is_root || entry.is_directory()) return FsError::kIsDirectory;
  if (entry_open(entry.dir, entry.slot)) return FsError::kBusy;
  if (FsError e = begin_change(); e != FsError::kOk) return e;
  if (FsError e = delete_entry(entry); e != FsError::kOk) return e;
  if (entry.cluster == 0) return FsError::kOk;
  if (FsError e = barrier(); e != FsError::kOk) return e;
  return free_chain(entry.cluster);
}

FsError Volume::rename(std::string_view from, std::string_view to) {
  Entry source;
  bool is_root = false;
  if (FsError e = resolve(from, source, is_root); e != FsError::kOk) return e;
  if (is_root) return FsError::kInvalidArgument;
  std::uint32_t parent = 0;
  std::string_view last;
  const std::uint32_t forbidden = source.is_directory() ? source.cluster : 0;
  if (FsError e = resolve_parent(to, parent, last, forbidden); e != FsError::kOk) return e;
  if (last.empty()) return FsError::kInvalidArgument;
  LongName name;
  if (FsError e = parse_name(last, name); e != FsError::kOk) return e;
  if (source.is_directory() && parent == source.cluster) return FsError::kInvalidArgument;
  if (entry_open(source.dir, source.slot)) return FsError::kBusy;
  Entry target;
  Result<bool> found = find(parent, last, target);
  if (!found.ok()) return found.error;
  const bool same = found.value && target.dir == source.dir && target.slot == source.slot;
  if (same && target.name_view() == last) return FsError::kOk;
  const bool moves = source.is_directory() && parent != source.dir;
  if (found.value && !same) {
    if (entry_open(target.dir, target.slot)) return FsError::kBusy;
    if (source.is_directory()) {
      if (!target.is_directory()) return FsError::kNotADirectory;
      Result<bool> empty = directory_empty(target.cluster);
      if (!empty.ok()) return empty.error;
      if (!empty.value) return FsError::kNotEmpty;
    } else if (target.is_directory()) {
      return FsError::kIsDirectory;
    }
    // Replace: the target's entry takes the source's chain in one write, keeping its name.
    if (FsError e = begin_change(); e != FsError::kOk) return e;
    if (FsError e = update_entry(target, source.cluster, source.size, source.attributes);
        e != FsError::kOk) {
      return e;
    }
    if (FsError e = barrier(); e != FsError::kOk) return e;
    if (moves) {
      if (FsError e = set_dotdot(source.cluster, parent); e != FsError::kOk) return e;
    }
    if (FsError e = delete_entry(source); e != FsError::kOk) return e;
    if (target.cluster == 0) return FsError::kOk;
    if (FsError e = barrier(); e != FsError::kOk) return e;
    return free_chain(target.cluster);
  }
  if (read_only_) return FsError::kReadOnly;
  if (FsError e = begin_change(); e != FsError::kOk) return e;
  Entry created;
  if (FsError e =
          create_entry(parent, name, source.attributes, source.cluster, source.size, created);
      e != FsError::kOk) {
    return e;
  }
  if (FsError e = barrier(); e != FsError::kOk) return e;
  if (moves) {
    if (FsError e = set_dotdot(source.cluster, parent); e != FsError::kOk) return e;
  }
  return delete_entry(source);
}

Result<DirCursor> Volume::open_dir(std::string_view path) {
  Entry entry;
  bool is_root = false;
  if (FsError e = resolve(path, entry, is_root); e != FsError::kOk) return e;
  if (is_root) return DirCursor{geometry_.root_cluster, 0};
  if (!entry.is_directory()) return FsError::kNotADirectory;
  return DirCursor{entry.cluster, 0};
}

Result<bool> Volume::read_dir(DirCursor& cursor, DirEntry& out) {
  if (!mounted()) return FsError::kNotMounted;
  if (!geometry_.valid_cluster(cursor.directory) || cursor.next_slot > kMaxDirectoryEntries) {
    return FsError::kInvalidArgument;
  }
  DirScan scan;
  scan.dir = cursor.directory;
  scan.slot = cursor.next_slot;
  Entry entry;
  for (;;) {
    Result<ScanResult> r = scan_next(scan, entry);
    if (!r.ok()) return r.error;
    if (r.value == ScanResult::kEnd) {
      cursor.next_slot = scan.slot;
      return false;
    }
    if (r.value != ScanResult::kEntry || entry.dots != 0 || entry.name_length == 0) continue;
    out.name = entry.name;
    out.name_length = entry.name_length;
    out.stat = stat_of(entry);
    cursor.next_slot = scan.slot;
    return true;
  }
}

}  // namespace ukernel::fat32
