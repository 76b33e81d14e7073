// Open files: the handle table, reading, and writing with the ordering of volume.hpp.
#include <algorithm>
#include <cstring>

#include "entry.hpp"

namespace ukernel::fat32 {
namespace {

constexpr std::uint8_t kKnownFlags = 31;

std::uint32_t clusters_for(std::uint64_t bytes, std::uint32_t cluster_bytes) {
  return static_cast<std::uint32_t>((bytes + cluster_bytes - 1) / cluster_bytes);
}

}  // namespace

Volume::Node* Volume::node_of(FileHandle handle, HandleSlot** slot_out) {
  if (!mounted()) return nullptr;
  const std::uint32_t index = (handle.value & 0xFF) - 1;
  if (index >= kMaxOpenFiles) return nullptr;
  HandleSlot& slot = handles_[index];
  if (!slot.used || (handle.value >> 8) != slot.generation) return nullptr;
  if (slot_out != nullptr) *slot_out = &slot;
  return &nodes_[slot.node];
}

bool Volume::entry_open(std::uint32_t dir, std::uint32_t slot) const {
  return std::any_of(nodes_.begin(), nodes_.end(),
                     [&](const Node& n) { return n.refs != 0 && n.dir == dir && n.slot == slot; });
}

FsError Volume::store_node(const Node& node) {
  Entry entry;
  entry.dir = node.dir;
  entry.slot = node.slot;
  return update_entry(entry, node.cluster, node.size, node.attributes | kAttrArchive);
}

// The cluster at index in the node's chain, 0 if the chain ends before it. The node remembers
// the last cluster reached, so sequential access does not walk the chain from its start.
Result<std::uint32_t> Volume::cluster_at(Node& node, std::uint32_t index) {
  if (node.cluster == 0) return std::uint32_t{0};
  if (node.cursor_cluster == 0 || node.cursor_index > index) {
    node.cursor_index = 0;
    node.cursor_cluster = node.cluster;
  }
  while (node.cursor_index < index) {
    if (node.cursor_index >= geometry_.cluster_count) return fail(Corruption::kChainTooLong);
    Result<std::uint32_t> next = next_cluster(node.cursor_cluster);
    if (!next.ok()) return next;
    if (next.value == 0) return std::uint32_t{0};
    node.cursor_cluster = next.value;
    ++node.cursor_index;
  }
  return node.cursor_cluster;
}

Result<FileHandle> Volume::open(std::string_view path, OpenFlags flags) {
  if (!mounted()) return FsError::kNotMounted;
  const bool want_read = has(flags, OpenFlags::kRead), want_write = has(flags, OpenFlags::kWrite);
  const bool create = has(flags, OpenFlags::kCreate), truncate = has(flags, OpenFlags::kTruncate);
  if ((static_cast<std::uint8_t>(flags) & ~kKnownFlags) != 0 || (!want_read && !want_write) ||
      (truncate && !want_write) || (has(flags, OpenFlags::kExclusive) && !create)) {
    return FsError::kInvalidArgument;
  }
  if ((want_write || create) && read_only_) return FsError::kReadOnly;
  std::uint32_t parent = 0;
  std::string_view last;
  if (FsError e = resolve_parent(path, parent, last); e != FsError::kOk) return e;
  if (last.empty()) return FsError::kIsDirectory;
  Entry entry;
  Result<bool> found = find(parent, last, entry);
  if (!found.ok()) return found.error;
  LongName name;
  if (found.value) {
    if (create && has(flags, OpenFlags::kExclusive)) return FsError::kExists;
    if (entry.is_directory()) return FsError::kIsDirectory;
    if (want_write && (entry.attributes & kAttrReadOnly) != 0) return FsError::kReadOnly;
    if (entry.cluster != 0 && !geometry_.valid_cluster(entry.cluster)) {
      return fail(Corruption::kClusterOutOfRange);
    }
  } else {
    if (!create) return FsError::kNotFound;
    if (FsError e = parse_name(last, name); e != FsError::kOk) return e;
  }
  // A free handle before anything changes (decode, validate, then act).
  std::size_t handle_index = kMaxOpenFiles;
  for (std::size_t i = 0; i < kMaxOpenFiles && handle_index == kMaxOpenFiles; ++i) {
    if (!handles_[i].used) handle_index = i;
  }
  if (handle_index == kMaxOpenFiles) return FsError::kTooManyOpenFiles;
  if (!found.value) {
    if (FsError e = begin_change(); e != FsError::kOk) return e;
    if (FsError e = create_entry(parent, name, kAttrArchive, 0, 0, entry); e != FsError::kOk) {
      return e;
    }
  }
  std::size_t node_index = kMaxOpenFiles;
  for (std::size_t i = 0; i < kMaxOpenFiles; ++i) {
    if (nodes_[i].refs != 0 && nodes_[i].dir == entry.dir && nodes_[i].slot == entry.slot) {
      node_index = i;
      break;
    }
    if (nodes_[i].refs == 0 && node_index == kMaxOpenFiles) node_index = i;
  }
  Node& node = nodes_[node_index];
  if (node.refs == 0) {
    node = Node{};
    node.dir = entry.dir;
    node.slot = entry.slot;
    node.cluster = entry.cluster;
    node.size = entry.size;
    node.attributes = entry.attributes;
    node.modified = entry.modified;
  }
  if (truncate && found.value && (node.size != 0 || node.cluster != 0)) {
    if (FsError e = shrink(node, 0); e != FsError::kOk) return e;
  }
  ++node.refs;
  HandleSlot& slot = handles_[handle_index];
  slot.used = true;
  slot.readable = want_read;
  slot.writable = want_write;
  slot.node = static_cast<std::uint8_t>(node_index);
  slot.generation = (slot.generation + 1) & 0xFFFFFF;
  return FileHandle{(slot.generation << 8) | static_cast<std::uint32_t>(handle_index + 1)};
}

Result<std::size_t> Volume::read(FileHandle handle, std::uint64_t offset,
                                 std::span<std::byte> out) {
  HandleSlot* slot = nullptr;
  Node* node = node_of(handle, &slot);
  if (node == nullptr) return FsError::kBadHandle;
  if (!slot->readable) return FsError::kInvalidArgument;
  if (offset >= node->size) return std::size_t{0};
  const std::size_t total =
      static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), node->size - offset));
  const std::uint32_t cs = geometry_.cluster_bytes(), bps = geometry_.bytes_per_sector;
  std::size_t done = 0;
  while (done < total) {
    const std::uint64_t pos = offset + done;
    Result<std::uint32_t> cluster = cluster_at(*node, static_cast<std::uint32_t>(pos / cs));
    if (!cluster.ok()) return cluster.error;
    if (cluster.value == 0) return fail(Corruption::kChainTooShort);
    const std::uint32_t in_cluster = static_cast<std::uint32_t>(pos % cs);
    // The clusters that follow on the disk, as far as the read goes: one device request.
    std::uint64_t run = cs - in_cluster;
    for (std::uint32_t last = cluster.value, index = static_cast<std::uint32_t>(pos / cs);
         run < total - done;) {
      Result<std::uint32_t> next = cluster_at(*node, ++index);
      if (!next.ok()) return next.error;
      if (next.value != last + 1) break;  // the end of the chain, or a jump
      last = next.value;
      run += cs;
    }
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(run, total - done));
    const std::uint64_t sector = geometry_.cluster_sector(cluster.value) + in_cluster / bps;
    const std::uint32_t in_sector = in_cluster % bps;
    std::size_t piece = 0;
    if (in_sector == 0 && chunk >= bps) {
      piece = chunk / bps * bps;
      if (FsError e = read_sectors(sector, out.subspan(done, piece)); e != FsError::kOk) return e;
    } else {
      piece = std::min<std::size_t>(bps - in_sector, chunk);
      if (FsError e = read_sectors(sector, std::span(io_buffer_.data(), bps)); e != FsError::kOk) {
        return e;
      }
      std::memcpy(out.data() + done, io_buffer_.data() + in_sector, piece);
    }
    done += piece;
  }
  return total;
}

// Writes data at offset and zeros from the old end up to offset. New clusters are allocated
// and filled before they are linked; the size is written last (volume.hpp).
FsError Volume::write_range(Node& node, std::uint64_t offset, std::span<const std::byte> data) {
  const std::uint64_t end = offset + data.size();
  if (end > kMaxFileSize) return FsError::kFileTooLarge;
  const std::uint32_t cs = geometry_.cluster_bytes(), bps = geometry_.bytes_per_sector;
  const auto new_size = static_cast<std::uint32_t>(std::max<std::uint64_t>(node.size, end));
  const std::uint32_t need = clusters_for(new_size, cs);
  std::uint32_t have = 0, tail = 0;
  if (need > 0) {
    Result<std::uint32_t> last = cluster_at(node, need - 1);
    if (!last.ok()) return last.error;
    have = last.value != 0 ? need : node.cluster == 0 ? 0 : node.cursor_index + 1;
    tail = node.cluster == 0 ? 0 : node.cursor_cluster;
  }
  if (need - have > free_count_) return FsError::kNoSpace;
  if (FsError e = begin_change(); e != FsError::kOk) return e;
  std::uint32_t first_new = 0;
  if (need > have) {
    Result<std::uint32_t> fresh = allocate_chain(need - have);
    if (!fresh.ok()) return fresh.error;
    first_new = fresh.value;
  }
  std::uint32_t new_index = have, new_cluster = first_new;  // a cursor in the unlinked chain
  // The cluster at `index` of the file as it will be: the old chain, then the new one.
  const auto cluster_of = [&](std::uint32_t index) -> Result<std::uint32_t> {
    if (index < have) return cluster_at(node, index);
    if (index < new_index) new_index = have, new_cluster = first_new;
    for (; new_index < index && new_cluster != 0; ++new_index) {
      Result<std::uint32_t> next = next_cluster(new_cluster);
      if (!next.ok()) return next.error;
      new_cluster = next.value;
    }
    return new_cluster;
  };
  for (std::uint64_t pos = std::min<std::uint64_t>(node.size, offset); pos < end;) {
    const auto index = static_cast<std::uint32_t>(pos / cs);
    Result<std::uint32_t> found = cluster_of(index);
    if (!found.ok()) return found.error;
    const std::uint32_t cluster = found.value;
    if (cluster == 0) return fail(Corruption::kChainTooShort);
    const auto in_cluster = static_cast<std::uint32_t>(pos % cs);
    const bool gap = pos < offset;
    // Data (not the zeros of a gap) goes to the clusters that follow on the disk in one write.
    std::uint64_t run = cs - in_cluster;
    for (std::uint32_t last = cluster, i = index; !gap && run < end - pos;) {
      Result<std::uint32_t> next = cluster_of(++i);
      if (!next.ok()) return next.error;
      if (next.value != last + 1) break;
      last = next.value;
      run += cs;
    }
    std::uint64_t chunk = std::min<std::uint64_t>(run, end - pos);
    if (gap) chunk = std::min(chunk, offset - pos);
    const std::uint64_t sector = geometry_.cluster_sector(cluster) + in_cluster / bps;
    const std::uint32_t in_sector = in_cluster % bps;
    std::uint64_t piece = 0;
    if (in_sector == 0 && chunk >= bps && !gap) {
      piece = chunk / bps * bps;
      if (FsError e = write_sectors(sector, data.subspan(pos - offset, piece)); e != FsError::kOk) {
        return e;
      }
    } else {
      piece = std::min<std::uint64_t>(bps - in_sector, chunk);
      std::span<std::byte> buffer(io_buffer_.data(), bps);
      if (piece < bps) {
        if (FsError e = read_sectors(sector, buffer); e != FsError::kOk) return e;
      }
      if (gap) {
        std::memset(buffer.data() + in_sector, 0, piece);
      } else {
        std::memcpy(buffer.data() + in_sector, data.data() + (pos - offset), piece);
      }
      if (FsError e = write_sectors(sector, buffer); e != FsError::kOk) return e;
    }
    pos += piece;
  }
  if (first_new != 0) {
    if (FsError e = barrier(); e != FsError::kOk) return e;
    if (have == 0) {
      node.cluster = first_new;  // published with the size below, in one sector write
    } else if (FsError e = fat_set(tail, first_new); e != FsError::kOk) {
      return e;
    }
  }
  if (FsError e = barrier(); e != FsError::kOk) return e;
  node.size = new_size;
  node.modified = now_;
  return store_node(node);
}

FsError Volume::shrink(Node& node, std::uint32_t size) {
  const std::uint32_t keep = clusters_for(size, geometry_.cluster_bytes());
  std::uint32_t tail = 0;
  if (keep > 0) {
    Result<std::uint32_t> c = cluster_at(node, keep - 1);
    if (!c.ok()) return c.error;
    if (c.value == 0) return fail(Corruption::kChainTooShort);
    tail = c.value;
  }
  if (FsError e = begin_change(); e != FsError::kOk) return e;
  const std::uint32_t first = node.cluster;
  node.size = size;
  node.modified = now_;
  if (keep == 0) node.cluster = 0;
  node.cursor_cluster = 0;
  if (FsError e = store_node(node); e != FsError::kOk) return e;
  if (FsError e = barrier(); e != FsError::kOk) return e;
  if (keep == 0) return free_chain(first);
  Result<std::uint32_t> rest = next_cluster(tail);
  if (!rest.ok()) return rest.error;
  if (rest.value == 0) return FsError::kOk;
  if (FsError e = fat_set(tail, kEndOfChain); e != FsError::kOk) return e;
  return free_chain(rest.value);
}

Result<std::size_t> Volume::write(FileHandle handle, std::uint64_t offset,
                                  std::span<const std::byte> data) {
  HandleSlot* slot = nullptr;
  Node* node = node_of(handle, &slot);
  if (node == nullptr) return FsError::kBadHandle;
  if (!slot->writable) return FsError::kReadOnly;
  if (data.empty()) return std::size_t{0};
  if (FsError e = write_range(*node, offset, data); e != FsError::kOk) return e;
  return data.size();
}

FsError Volume::truncate(FileHandle handle, std::uint64_t size) {
  HandleSlot* slot = nullptr;
  Node* node = node_of(handle, &slot);
  if (node == nullptr) return FsError::kBadHandle;
  if (!slot->writable) return FsError::kReadOnly;
  if (size > kMaxFileSize) return FsError::kFileTooLarge;
  if (size == node->size) return FsError::kOk;
  if (size > node->size) return write_range(*node, size, {});
  return shrink(*node, static_cast<std::uint32_t>(size));
}

FsError Volume::fsync(FileHandle handle) {
  if (node_of(handle) == nullptr) return FsError::kBadHandle;
  return read_only_ ? FsError::kOk : barrier();
}

FsError Volume::close(FileHandle handle) {
  HandleSlot* slot = nullptr;
  Node* node = node_of(handle, &slot);
  if (node == nullptr) return FsError::kBadHandle;
  const FsError e = read_only_ ? FsError::kOk : barrier();
  slot->used = false;
  --node->refs;
  return e;
}

Result<Stat> Volume::fstat(FileHandle handle) {
  Node* node = node_of(handle);
  if (node == nullptr) return FsError::kBadHandle;
  return Stat{node->size, false, node->attributes, node->modified};
}

}  // namespace ukernel::fat32
