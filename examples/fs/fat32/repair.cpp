// Repair at mount of a volume whose dirty bit is set (what volume.hpp says an interruption can
// leave). Memory is fixed: the reachable clusters are marked in a bitmap of kRepairWindow
// clusters, one pass over the directory tree per window, and the tree is walked with an
// explicit stack of kMaxDepth + 1 frames. Every fix is a valid state by itself, so a repair
// that is interrupted is simply run again at the next mount.
#include <cstring>

#include "entry.hpp"

namespace ukernel::fat32 {

FsError Volume::repair() {
  if (FsError e = sync_fat_copies(); e != FsError::kOk) return e;
  for (std::uint64_t first = 2; first < std::uint64_t{geometry_.cluster_count} + 2;
       first += kRepairWindow) {
    if (FsError e = repair_pass(static_cast<std::uint32_t>(first)); e != FsError::kOk) return e;
  }
  if (FsError e = barrier(); e != FsError::kOk) return e;
  Result<std::uint32_t> free = count_free();
  if (!free.ok()) return free.error;
  free_count_ = free.value;
  return FsError::kOk;
}

// The first FAT is written first, so it is the one to keep.
FsError Volume::sync_fat_copies() {
  if (FsError e = flush_fat(); e != FsError::kOk) return e;
  const std::uint32_t bps = geometry_.bytes_per_sector;
  std::span<std::byte> first(io_buffer_.data(), bps), other(dir_cache_.data(), bps);
  dir_cache_sector_ = ~0ull;
  for (std::uint32_t s = 0; s < geometry_.fat_sectors; ++s) {
    if (FsError e = read_sectors(geometry_.reserved_sectors + s, first); e != FsError::kOk) {
      return e;
    }
    for (std::uint32_t f = 1; f < geometry_.fat_count; ++f) {
      const std::uint64_t sector =
          geometry_.reserved_sectors + std::uint64_t{f} * geometry_.fat_sectors + s;
      if (FsError e = read_sectors(sector, other); e != FsError::kOk) return e;
      if (std::memcmp(first.data(), other.data(), bps) != 0) {
        if (FsError e = write_sectors(sector, first); e != FsError::kOk) return e;
        ++info_.entries_fixed;
      }
    }
  }
  dir_cache_sector_ = ~0ull;
  return FsError::kOk;
}

FsError Volume::repair_pass(std::uint32_t window_first) {
  reachable_.fill(0);
  const auto in_window = [&](std::uint32_t c) {
    return c >= window_first && c - window_first < kRepairWindow;
  };
  const auto marked = [&](std::uint32_t c) {
    return in_window(c) &&
           (reachable_[(c - window_first) / 8] & (1u << ((c - window_first) % 8))) != 0;
  };
  const auto mark = [&](std::uint32_t c) {
    if (in_window(c)) {
      reachable_[(c - window_first) / 8] |=
          static_cast<std::uint8_t>(1u << ((c - window_first) % 8));
    }
  };
  const std::uint32_t cs = geometry_.cluster_bytes();
  const std::uint32_t max_dir_clusters = kMaxDirectoryEntries * 32 / cs + 1;
  // Walks at most limit clusters of a chain: how many, the last one, and whether any is marked.
  struct Walk {
    std::uint32_t count = 0;
    std::uint32_t last = 0;
    bool touches_marked = false;
    bool longer = false;  // the chain goes on after limit clusters
  };
  const auto walk = [&](std::uint32_t c, std::uint32_t limit, bool set_marks) -> Result<Walk> {
    Walk w;
    while (c != 0 && w.count < limit) {
      if (marked(c)) w.touches_marked = true;
      if (set_marks) mark(c);
      w.last = c;
      ++w.count;
      Result<std::uint32_t> next = next_cluster(c);
      if (!next.ok()) return next.error;
      c = next.value;
    }
    w.longer = c != 0;
    return w;
  };

  Result<Walk> root = walk(geometry_.root_cluster, max_dir_clusters, true);
  if (!root.ok()) return root.error;
  if (root.value.longer) return fail(Corruption::kChainTooLong);

  struct Frame {
    std::uint32_t dir, parent, next_slot;
  };
  std::array<Frame, kMaxDepth + 1> stack{};
  std::size_t depth = 1;
  stack[0] = {geometry_.root_cluster, 0, 0};
  Entry entry;
  while (depth > 0) {
    Frame& frame = stack[depth - 1];
    DirScan scan;
    scan.dir = frame.dir;
    scan.slot = frame.next_slot;
    Result<ScanResult> r = scan_next(scan, entry);
    if (!r.ok()) return r.error;
    frame.next_slot = scan.slot;
    if (r.value == ScanResult::kEnd) {
      --depth;
      continue;
    }
    if (r.value == ScanResult::kOrphan) {
      if (FsError e = delete_slots(frame.dir, scan.orphan_first, scan.orphan_count);
          e != FsError::kOk) {
        return e;
      }
      ++info_.entries_fixed;
      continue;
    }
    if (entry.dots != 0) {
      const std::uint32_t expected = frame.parent == geometry_.root_cluster ? 0 : frame.parent;
      if (entry.dots == 2 && frame.dir != geometry_.root_cluster && entry.cluster != expected) {
        if (FsError e = set_dotdot(frame.dir, frame.parent); e != FsError::kOk) return e;
        ++info_.entries_fixed;
      }
      continue;
    }
    const std::uint32_t c = entry.cluster;
    if (c != 0 && !geometry_.valid_cluster(c)) return fail(Corruption::kClusterOutOfRange);
    if (entry.is_directory()) {
      if (c == 0) return fail(Corruption::kBadDirectory);
      Result<Walk> check = walk(c, max_dir_clusters, false);
      if (!check.ok()) return check.error;
      if (check.value.longer) return fail(Corruption::kChainTooLong);
      if (check.value.touches_marked) {  // a second name for a chain: an interrupted rename
        if (FsError e = delete_entry(entry); e != FsError::kOk) return e;
        ++info_.entries_fixed;
        continue;
      }
      if (Result<Walk> w = walk(c, max_dir_clusters, true); !w.ok()) return w.error;
      if (depth == stack.size()) return fail(Corruption::kBadDirectory);
      stack[depth++] = {c, frame.dir, 0};
      continue;
    }
    const std::uint32_t need =
        static_cast<std::uint32_t>((std::uint64_t{entry.size} + cs - 1) / cs);
    if (c == 0) {
      if (entry.size != 0) {
        if (FsError e = update_entry(entry, 0, 0, entry.attributes); e != FsError::kOk) return e;
        ++info_.entries_fixed;
      }
      continue;
    }
    Result<Walk> check = walk(c, need, false);
    if (!check.ok()) return check.error;
    if (check.value.touches_marked) {
      if (FsError e = delete_entry(entry); e != FsError::kOk) return e;
      ++info_.entries_fixed;
      continue;
    }
    if (Result<Walk> w = walk(c, need, true); !w.ok()) return w.error;
    if (need == 0) {
      // An empty file that names a chain (interrupted first write): the chain is lost.
      if (FsError e = update_entry(entry, 0, 0, entry.attributes); e != FsError::kOk) return e;
      ++info_.entries_fixed;
    } else if (check.value.count < need) {
      const std::uint32_t size = check.value.count * cs;
      if (FsError e = update_entry(entry, c, size, entry.attributes); e != FsError::kOk) return e;
      ++info_.entries_fixed;
    } else if (check.value.longer) {
      // Clusters past the size (an interrupted append): cut; the sweep below frees them.
      if (FsError e = fat_set(check.value.last, kEndOfChain); e != FsError::kOk) return e;
      ++info_.entries_fixed;
    }
  }
  if (FsError e = barrier(); e != FsError::kOk) return e;

  // Allocated but unreachable in this window: lost. Bad-cluster marks stay.
  const std::uint64_t window_end = std::min<std::uint64_t>(
      std::uint64_t{window_first} + kRepairWindow, std::uint64_t{geometry_.cluster_count} + 2);
  for (std::uint32_t c = window_first; c < window_end; ++c) {
    Result<std::uint32_t> v = fat_get(c);
    if (!v.ok()) return v.error;
    if (v.value != 0 && v.value != 0x0FFFFFF7 && !marked(c)) {
      if (FsError e = fat_set(c, 0); e != FsError::kOk) return e;
      ++info_.lost_clusters_freed;
    }
  }
  return barrier();
}

}  // namespace ukernel::fat32
