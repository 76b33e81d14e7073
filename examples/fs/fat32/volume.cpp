// Mount, sync, the FAT and cluster allocation (see volume.hpp for the ordering rules).
#include <algorithm>
#include <cstring>

#include "entry.hpp"

namespace ukernel::fat32 {
namespace {

constexpr std::uint32_t kCleanShutdownBit = 0x08000000;  // FAT[1]: 1 = cleanly unmounted
constexpr std::uint32_t kFatMask = 0x0FFFFFFF;

}  // namespace

FsError Volume::fail(Corruption c) {
  if (corruption_ == Corruption::kNone) corruption_ = c;
  return FsError::kCorrupt;
}

FsError Volume::read_sectors(std::uint64_t sector, std::span<std::byte> out) {
  const std::uint64_t count = out.size() / geometry_.bytes_per_sector;
  if (sector + count > geometry_.total_sectors) return fail(Corruption::kClusterOutOfRange);
  const std::uint64_t scale = geometry_.device_sectors_per_sector();
  return device_.read(sector * scale, out) == BlockStatus::kOk ? FsError::kOk : FsError::kIoError;
}

FsError Volume::write_sectors(std::uint64_t sector, std::span<const std::byte> in) {
  const std::uint64_t count = in.size() / geometry_.bytes_per_sector;
  if (sector + count > geometry_.total_sectors) return fail(Corruption::kClusterOutOfRange);
  // The directory cache must never hold a sector older than the disk.
  const std::uint64_t bps = geometry_.bytes_per_sector;
  if (dir_cache_sector_ >= sector && dir_cache_sector_ < sector + count) {
    std::memcpy(dir_cache_.data(), in.data() + (dir_cache_sector_ - sector) * bps, bps);
  }
  // Nor the FAT window: the sectors of it that this write covers are copied in.
  const std::uint64_t window_first = geometry_.reserved_sectors + std::uint64_t{fat_window_first_};
  const std::uint64_t from = std::max(sector, window_first);
  const std::uint64_t to = std::min(sector + count, window_first + fat_window_count_);
  if (from < to) {
    std::memcpy(fat_window_.data() + (from - window_first) * bps, in.data() + (from - sector) * bps,
                (to - from) * bps);
  }
  const std::uint64_t scale = geometry_.device_sectors_per_sector();
  return device_.write(sector * scale, in) == BlockStatus::kOk ? FsError::kOk : FsError::kIoError;
}

Result<std::uint32_t> Volume::fat_get(std::uint32_t cluster) {
  const std::uint32_t bps = geometry_.bytes_per_sector;
  const std::uint32_t sector = cluster / (bps / 4);
  if (sector != fat_cache_sector_) {
    if (FsError e = flush_fat(); e != FsError::kOk) return e;
    fat_cache_sector_ = 0xFFFFFFFF;
    if (sector >= geometry_.fat_sectors) return fail(Corruption::kClusterOutOfRange);
    if (sector < fat_window_first_ || sector >= fat_window_first_ + fat_window_count_) {
      // Read ahead: the window's worth of the first FAT from this sector on, in one request,
      // so that a walk along a chain costs one request per window, not one per sector.
      fat_window_count_ = 0;
      const std::uint32_t count = std::min<std::uint32_t>(std::uint32_t(fat_window_.size() / bps),
                                                          geometry_.fat_sectors - sector);
      if (FsError e = read_sectors(geometry_.reserved_sectors + sector,
                                   std::span(fat_window_.data(), std::size_t{count} * bps));
          e != FsError::kOk) {
        return e;
      }
      fat_window_first_ = sector;
      fat_window_count_ = count;
    }
    std::memcpy(fat_cache_.data(), fat_window_.data() + (sector - fat_window_first_) * bps, bps);
    fat_cache_sector_ = sector;
  }
  return load32(fat_cache_.data() + (cluster % (bps / 4)) * 4) & kFatMask;
}

FsError Volume::fat_set(std::uint32_t cluster, std::uint32_t value) {
  if (Result<std::uint32_t> r = fat_get(cluster); !r.ok()) return r.error;
  std::byte* p = fat_cache_.data() + (cluster % (geometry_.bytes_per_sector / 4)) * 4;
  store32(p, (load32(p) & ~kFatMask) | (value & kFatMask));  // the top 4 bits are reserved
  fat_cache_dirty_ = true;
  return FsError::kOk;
}

// Writes the cached FAT sector to every FAT, the first FAT first (repair copies it over the
// others, so a crash between the copies loses nothing) -- except when the sector marks the
// volume clean: then the first FAT, which mount reads, goes last, so a crash between the
// copies leaves the volume marked dirty and repair makes the copies equal.
FsError Volume::flush_fat(bool first_fat_last) {
  if (!fat_cache_dirty_) return FsError::kOk;
  const std::uint32_t bps = geometry_.bytes_per_sector;
  for (std::uint32_t i = 0; i < geometry_.fat_count; ++i) {
    const std::uint32_t f = first_fat_last ? geometry_.fat_count - 1 - i : i;
    const std::uint64_t sector =
        geometry_.reserved_sectors + std::uint64_t{f} * geometry_.fat_sectors + fat_cache_sector_;
    if (FsError e = write_sectors(sector, std::span(fat_cache_.data(), bps)); e != FsError::kOk) {
      return e;
    }
  }
  fat_cache_dirty_ = false;
  return FsError::kOk;
}

// Everything written so far reaches the disk before anything written after.
FsError Volume::barrier() {
  if (FsError e = flush_fat(); e != FsError::kOk) return e;
  return device_.flush() == BlockStatus::kOk ? FsError::kOk : FsError::kIoError;
}

FsError Volume::set_clean_bit(bool clean) {
  Result<std::uint32_t> fat1 = fat_get(1);
  if (!fat1.ok()) return fat1.error;
  const std::uint32_t value =
      clean ? fat1.value | kCleanShutdownBit : fat1.value & ~kCleanShutdownBit;
  if (value == fat1.value) return FsError::kOk;
  if (FsError e = fat_set(1, value); e != FsError::kOk) return e;
  if (FsError e = flush_fat(clean); e != FsError::kOk) return e;
  return barrier();
}

// Called before the first write of every change: refuses on a read-only mount, and marks the
// volume dirty on disk (flushed) before anything else is written.
FsError Volume::begin_change() {
  if (!mounted()) return FsError::kNotMounted;
  if (read_only_) return FsError::kReadOnly;
  if (dirty_on_disk_) return FsError::kOk;
  if (FsError e = set_clean_bit(false); e != FsError::kOk) return e;
  dirty_on_disk_ = true;
  return FsError::kOk;
}

Result<std::uint32_t> Volume::next_cluster(std::uint32_t cluster) {
  Result<std::uint32_t> v = fat_get(cluster);
  if (!v.ok()) return v;
  if (v.value >= 0x0FFFFFF8) return std::uint32_t{0};
  if (!geometry_.valid_cluster(v.value)) return fail(Corruption::kClusterOutOfRange);
  return v.value;
}

Result<std::uint32_t> Volume::allocate_chain(std::uint32_t count) {
  if (count == 0 || count > free_count_) return FsError::kNoSpace;
  std::uint32_t first = 0, previous = 0, found = 0;
  std::uint32_t c = geometry_.valid_cluster(next_free_) ? next_free_ : 2;
  for (std::uint32_t tried = 0; tried < geometry_.cluster_count && found < count; ++tried) {
    Result<std::uint32_t> v = fat_get(c);
    if (!v.ok()) return v.error;
    if (v.value == 0) {
      if (FsError e = fat_set(c, kEndOfChain); e != FsError::kOk) return e;
      if (previous != 0) {
        if (FsError e = fat_set(previous, c); e != FsError::kOk) return e;
      } else {
        first = c;
      }
      previous = c;
      ++found;
      --free_count_;
    }
    c = c + 1 < geometry_.cluster_count + 2 ? c + 1 : 2;
  }
  next_free_ = c;
  if (found < count) {
    // The free count was wrong (a damaged volume): give back what was taken.
    if (first != 0) {
      if (FsError e = free_chain(first); e != FsError::kOk) return e;
    }
    free_count_ = 0;
    return FsError::kNoSpace;
  }
  return first;
}

FsError Volume::free_chain(std::uint32_t c) {
  slot_cache_dir_ = 0;
  for (std::uint32_t steps = 0; c != 0; ++steps) {
    if (steps > geometry_.cluster_count) return fail(Corruption::kChainTooLong);
    Result<std::uint32_t> next = next_cluster(c);
    if (!next.ok()) return next.error;
    if (FsError e = fat_set(c, 0); e != FsError::kOk) return e;
    ++free_count_;
    c = next.value;
  }
  return FsError::kOk;
}

Result<std::uint32_t> Volume::count_free() {
  std::uint32_t free = 0;
  for (std::uint32_t c = 2; c < geometry_.cluster_count + 2; ++c) {
    Result<std::uint32_t> v = fat_get(c);
    if (!v.ok()) return v;
    if (v.value == 0) ++free;
  }
  return free;
}

FsError Volume::zero_cluster(std::uint32_t cluster) {
  const std::uint32_t bps = geometry_.bytes_per_sector;
  std::memset(io_buffer_.data(), 0, bps);
  const std::uint64_t first = geometry_.cluster_sector(cluster);
  for (std::uint32_t s = 0; s < geometry_.sectors_per_cluster; ++s) {
    if (FsError e = write_sectors(first + s, std::span(io_buffer_.data(), bps));
        e != FsError::kOk) {
      return e;
    }
  }
  return FsError::kOk;
}

FsError Volume::mount(DeviceRef device, MountOptions options) {
  if (mounted()) return FsError::kInvalidArgument;
  corruption_ = Corruption::kNone;
  if (!device.valid()) return FsError::kInvalidArgument;
  std::array<std::byte, 512> boot{};
  if (device.sector_count() == 0) return fail(Corruption::kVolumeLargerThanDevice);
  if (device.read(0, boot) != BlockStatus::kOk) return FsError::kIoError;
  Geometry g;
  const BootCheck check = parse_boot_sector(boot, device.sector_count(), g);
  if (check.error != FsError::kOk) {
    corruption_ = check.corruption;
    return check.error;
  }
  device_ = device;
  geometry_ = g;
  read_only_ = options.read_only;
  fat_cache_sector_ = 0xFFFFFFFF;
  fat_cache_dirty_ = false;
  fat_window_count_ = 0;
  dir_cache_sector_ = ~0ull;
  nodes_ = {};
  for (HandleSlot& h : handles_)
    h.used = false;
  info_ = {};
  const auto fail_mount = [this](FsError e) {
    device_ = DeviceRef();
    return e;
  };

  // The free count is always counted (the FSInfo hint is only a hint); next_free is kept
  // when it names a cluster.
  Result<std::uint32_t> free = count_free();
  if (!free.ok()) return fail_mount(free.error);
  free_count_ = free.value;
  next_free_ = 2;
  fsinfo_valid_ = false;
  if (g.fsinfo_sector != 0) {
    if (FsError e = read_sectors(g.fsinfo_sector, std::span(io_buffer_.data(), g.bytes_per_sector));
        e != FsError::kOk) {
      return fail_mount(e);
    }
    const FsInfo hints = parse_fsinfo(std::span(io_buffer_.data(), g.bytes_per_sector));
    fsinfo_valid_ = hints.valid;
    if (hints.valid && g.valid_cluster(hints.next_free)) next_free_ = hints.next_free;
  }
  Result<std::uint32_t> fat1 = fat_get(1);
  if (!fat1.ok()) return fail_mount(fat1.error);
  const bool dirty = (fat1.value & kCleanShutdownBit) == 0;
  info_.was_dirty = dirty;
  dirty_on_disk_ = dirty;
  if (dirty && !read_only_) {
    if (FsError e = repair(); e != FsError::kOk) return fail_mount(e);
    if (FsError e = sync(); e != FsError::kOk) return fail_mount(e);
    info_.repaired = true;
  }
  return FsError::kOk;
}

FsError Volume::sync() {
  if (!mounted()) return FsError::kNotMounted;
  if (read_only_ || !dirty_on_disk_) return FsError::kOk;
  if (FsError e = barrier(); e != FsError::kOk) return e;
  if (fsinfo_valid_) {
    const std::uint32_t bps = geometry_.bytes_per_sector;
    std::span<std::byte> buffer(io_buffer_.data(), bps);
    if (FsError e = read_sectors(geometry_.fsinfo_sector, buffer); e != FsError::kOk) return e;
    store_fsinfo(buffer, free_count_, next_free_);
    if (FsError e = write_sectors(geometry_.fsinfo_sector, buffer); e != FsError::kOk) return e;
    if (FsError e = barrier(); e != FsError::kOk) return e;
  }
  if (FsError e = set_clean_bit(true); e != FsError::kOk) return e;
  dirty_on_disk_ = false;
  return FsError::kOk;
}

FsError Volume::unmount() {
  if (!mounted()) return FsError::kNotMounted;
  const FsError e = sync();
  for (HandleSlot& h : handles_)
    h.used = false;
  nodes_ = {};
  device_ = DeviceRef();
  return e;
}

void Volume::forget() {
  for (HandleSlot& h : handles_)
    h.used = false;  // the generations stay: an old handle never names a later file
  nodes_ = {};
  fat_cache_sector_ = 0xFFFFFFFF;
  fat_cache_dirty_ = false;
  fat_window_count_ = 0;
  dir_cache_sector_ = ~0ull;
  slot_cache_dir_ = 0;
  device_ = DeviceRef();
}

VolumeInfo Volume::info() const {
  VolumeInfo v = info_;
  v.cluster_bytes = geometry_.cluster_bytes();
  v.cluster_count = geometry_.cluster_count;
  v.free_clusters = free_count_;
  return v;
}

}  // namespace ukernel::fat32
