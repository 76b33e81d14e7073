// Directories: slots, scanning with long names, lookup, and adding and removing entries.
#include <cstring>

#include "entry.hpp"

namespace ukernel::fat32 {
namespace {

// Where the 13 UTF-16 units of an LFN slot are.
constexpr std::size_t kLfnOffsets[kLfnCharsPerSlot] = {1,  3,  5,  7,  9,  14, 16,
                                                       18, 20, 22, 24, 28, 30};

std::uint32_t entry_cluster(const std::byte* raw) {
  return (static_cast<std::uint32_t>(load16(raw + 20)) << 16) | load16(raw + 26);
}

void set_entry_cluster(std::byte* raw, std::uint32_t cluster) {
  store16(raw + 20, static_cast<std::uint16_t>(cluster >> 16));
  store16(raw + 26, static_cast<std::uint16_t>(cluster & 0xFFFF));
}

}  // namespace

std::array<std::byte, 32> encode_short_entry(const ShortName& name, std::uint8_t attributes,
                                             std::uint32_t cluster, std::uint32_t size,
                                             Timestamp modified) {
  std::array<std::byte, 32> raw{};
  for (std::size_t i = 0; i < 11; ++i)
    raw[i] = static_cast<std::byte>(name[i]);
  if (name[0] == kSlotFree) raw[0] = std::byte{0x05};
  raw[11] = static_cast<std::byte>(attributes);
  store16(raw.data() + 14, modified.time);  // created
  store16(raw.data() + 16, modified.date);
  store16(raw.data() + 18, modified.date);  // accessed
  set_entry_cluster(raw.data(), cluster);
  store16(raw.data() + 22, modified.time);
  store16(raw.data() + 24, modified.date);
  store32(raw.data() + 28, size);
  return raw;
}

// The logical sector holding a slot, 0 past the end of the directory's chain.
Result<std::uint64_t> Volume::slot_sector(std::uint32_t dir, std::uint32_t slot) {
  if (!geometry_.valid_cluster(dir)) return fail(Corruption::kClusterOutOfRange);
  if (slot >= kMaxDirectoryEntries) return std::uint64_t{0};
  const std::uint32_t per_cluster = geometry_.cluster_bytes() / 32;
  const std::uint32_t index = slot / per_cluster;
  std::uint32_t c = dir, at = 0;
  if (slot_cache_dir_ == dir && slot_cache_index_ <= index) {
    c = slot_cache_cluster_;
    at = slot_cache_index_;
  }
  for (; at < index; ++at) {
    Result<std::uint32_t> next = next_cluster(c);
    if (!next.ok()) return next.error;
    if (next.value == 0) return std::uint64_t{0};
    c = next.value;
  }
  slot_cache_dir_ = dir;
  slot_cache_index_ = index;
  slot_cache_cluster_ = c;
  return geometry_.cluster_sector(c) +
         std::uint64_t{slot % per_cluster} * 32 / geometry_.bytes_per_sector;
}

Result<bool> Volume::read_slot(std::uint32_t dir, std::uint32_t slot, std::byte* raw) {
  Result<std::uint64_t> sector = slot_sector(dir, slot);
  if (!sector.ok()) return sector.error;
  if (sector.value == 0) return false;
  const std::uint32_t bps = geometry_.bytes_per_sector;
  if (dir_cache_sector_ != sector.value) {
    dir_cache_sector_ = ~0ull;
    if (FsError e = read_sectors(sector.value, std::span(dir_cache_.data(), bps));
        e != FsError::kOk) {
      return e;
    }
    dir_cache_sector_ = sector.value;
  }
  std::memcpy(raw, dir_cache_.data() + (std::uint64_t{slot} * 32) % bps, 32);
  return true;
}

FsError Volume::write_slot(std::uint32_t dir, std::uint32_t slot, const std::byte* raw) {
  std::array<std::byte, 32> old{};
  Result<bool> present = read_slot(dir, slot, old.data());  // loads the sector into the cache
  if (!present.ok()) return present.error;
  if (!present.value) return fail(Corruption::kChainTooShort);
  const std::uint32_t bps = geometry_.bytes_per_sector;
  std::memcpy(dir_cache_.data() + (std::uint64_t{slot} * 32) % bps, raw, 32);
  return write_sectors(dir_cache_sector_, std::span(dir_cache_.data(), bps));
}

Result<Volume::ScanResult> Volume::scan_next(DirScan& scan, Entry& out) {
  const auto orphan = [&scan](std::uint32_t first, std::uint32_t count) {
    scan.orphan_first = first;
    scan.orphan_count = count;
    scan.in_run = false;
    return ScanResult::kOrphan;
  };
  std::array<std::byte, 32> raw{};
  for (;;) {
    Result<bool> present = read_slot(scan.dir, scan.slot, raw.data());
    if (!present.ok()) return present.error;
    const auto first = static_cast<std::uint8_t>(raw[0]);
    if (!present.value || first == 0) {
      if (scan.in_run) return orphan(scan.run_first, scan.slot - scan.run_first);
      return ScanResult::kEnd;
    }
    const auto attributes = static_cast<std::uint8_t>(raw[11]);
    if (first == kSlotFree) {
      if (scan.in_run) return orphan(scan.run_first, scan.slot - scan.run_first);
      ++scan.slot;
      continue;
    }
    if ((attributes & 0x3F) == kAttrLongName) {
      const std::uint8_t ordinal = first & 0x1F;
      const auto checksum = static_cast<std::uint8_t>(raw[13]);
      if ((first & 0x40) != 0) {
        if (scan.in_run) return orphan(scan.run_first, scan.slot - scan.run_first);
        if (ordinal == 0 || ordinal > 20) return ++scan.slot, orphan(scan.slot - 1, 1);
        scan.in_run = true;
        scan.run_first = scan.slot;
        scan.run_count = ordinal;
        scan.run_checksum = checksum;
      } else if (!scan.in_run || ordinal != scan.run_expected || ordinal == 0 ||
                 checksum != scan.run_checksum) {
        if (scan.in_run) return orphan(scan.run_first, scan.slot - scan.run_first);
        return ++scan.slot, orphan(scan.slot - 1, 1);
      }
      for (std::size_t i = 0; i < kLfnCharsPerSlot; ++i) {
        scan.units[(ordinal - 1u) * kLfnCharsPerSlot + i] =
            static_cast<char16_t>(load16(raw.data() + kLfnOffsets[i]));
      }
      scan.run_expected = static_cast<std::uint8_t>(ordinal - 1);
      ++scan.slot;
      continue;
    }
    if ((attributes & kAttrVolumeId) != 0) {  // the volume label: not a file
      if (scan.in_run) return orphan(scan.run_first, scan.slot - scan.run_first);
      ++scan.slot;
      continue;
    }
    // A short entry, with the long name before it if that run is whole and matches.
    out = Entry{};
    for (std::size_t i = 0; i < 11; ++i)
      out.short_name[i] = static_cast<std::uint8_t>(raw[i]);
    if (scan.in_run &&
        (scan.run_expected != 0 || scan.run_checksum != lfn_checksum(out.short_name))) {
      return orphan(scan.run_first, scan.slot - scan.run_first);
    }
    out.dir = scan.dir;
    out.slot = scan.slot;
    out.first_slot = scan.in_run ? scan.run_first : scan.slot;
    out.attributes = attributes;
    out.nt_flags = static_cast<std::uint8_t>(raw[12]);
    out.cluster = entry_cluster(raw.data());
    out.size = load32(raw.data() + 28);
    out.modified = {load16(raw.data() + 24), load16(raw.data() + 22)};
    static constexpr ShortName kDot = {'.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
    static constexpr ShortName kDotDot = {'.', '.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
    if (out.short_name == kDot) out.dots = 1;
    if (out.short_name == kDotDot) out.dots = 2;
    bool named = false;
    if (scan.in_run) {
      std::size_t length = 0;
      while (length < scan.run_count * kLfnCharsPerSlot && scan.units[length] != 0)
        ++length;
      named = length > 0 && utf16_to_utf8(scan.units.data(), length, out.name.data(),
                                          out.name.size(), out.name_length);
    }
    if (!named && out.dots == 0 &&
        !short_name_text(out.short_name, out.nt_flags, out.name.data(), out.name_length)) {
      out.name_length = 0;
    }
    if (!named && out.dots != 0) out.name_length = 0;
    scan.in_run = false;
    ++scan.slot;
    return ScanResult::kEntry;
  }
}

Result<bool> Volume::find(std::uint32_t dir, std::string_view name, Entry& out) {
  DirScan scan;
  scan.dir = dir;
  for (;;) {
    Result<ScanResult> r = scan_next(scan, out);
    if (!r.ok()) return r.error;
    if (r.value == ScanResult::kEnd) return false;
    if (r.value != ScanResult::kEntry || out.dots != 0) continue;
    if (out.name_length != 0 && names_equal(out.name_view(), name)) return true;
    // The alias matches too (as on Linux): "PROGRA~1" finds "Program Files".
    std::array<char, 12> alias{};
    std::size_t alias_length = 0;
    if (short_name_text(out.short_name, 0, alias.data(), alias_length) &&
        names_equal({alias.data(), alias_length}, name)) {
      return true;
    }
  }
}

Result<bool> Volume::short_name_used(std::uint32_t dir, const ShortName& name) {
  DirScan scan;
  scan.dir = dir;
  Entry entry;
  for (;;) {
    Result<ScanResult> r = scan_next(scan, entry);
    if (!r.ok()) return r.error;
    if (r.value == ScanResult::kEnd) return false;
    if (r.value == ScanResult::kEntry && entry.short_name == name) return true;
  }
}

// The first of count consecutive free slots, extending the directory by a zeroed cluster when
// it has none. Slots past the first end marker (0x00) are free whatever they hold; the slot
// after a run written there is made an end marker first, so old bytes never become entries.
Result<std::uint32_t> Volume::find_free_slots(std::uint32_t dir, std::uint32_t count) {
  std::uint32_t run_first = 0, run_length = 0;
  bool past_end = false;
  std::array<std::byte, 32> raw{};
  for (std::uint32_t slot = 0;; ++slot) {
    if (slot >= kMaxDirectoryEntries) return FsError::kDirectoryFull;
    Result<bool> present = read_slot(dir, slot, raw.data());
    if (!present.ok()) return present.error;
    if (!present.value) {
      // Past the chain: append one zeroed cluster (linked only after it is zero on disk).
      std::uint32_t tail = dir;
      for (std::uint32_t steps = 0;; ++steps) {
        if (steps > kMaxDirectoryEntries) return fail(Corruption::kChainTooLong);
        Result<std::uint32_t> next = next_cluster(tail);
        if (!next.ok()) return next.error;
        if (next.value == 0) break;
        tail = next.value;
      }
      Result<std::uint32_t> fresh = allocate_chain(1);
      if (!fresh.ok()) return fresh.error;
      if (FsError e = zero_cluster(fresh.value); e != FsError::kOk) return e;
      if (FsError e = barrier(); e != FsError::kOk) return e;
      if (FsError e = fat_set(tail, fresh.value); e != FsError::kOk) return e;
      if (FsError e = barrier(); e != FsError::kOk) return e;
      past_end = true;  // a fresh cluster is all end markers
      --slot;
      continue;
    }
    const auto first = static_cast<std::uint8_t>(raw[0]);
    if (first == 0) past_end = true;
    if (past_end || first == kSlotFree) {
      if (run_length == 0) run_first = slot;
      if (++run_length == count) {
        if (past_end) {
          Result<bool> next = read_slot(dir, slot + 1, raw.data());
          if (!next.ok()) return next.error;
          if (next.value && raw[0] != std::byte{0}) {
            const std::array<std::byte, 32> end{};
            if (FsError e = write_slot(dir, slot + 1, end.data()); e != FsError::kOk) return e;
          }
        }
        return run_first;
      }
    } else {
      run_length = 0;
    }
  }
}

FsError Volume::create_entry(std::uint32_t dir, const LongName& name, std::uint8_t attributes,
                             std::uint32_t cluster, std::uint32_t size, Entry& out) {
  ShortName short_name{};
  std::uint32_t lfn_slots = 0;
  if (!exact_short_name(name, short_name)) {
    const ShortName stem = alias_stem(name);
    bool unique = false;
    for (std::uint32_t n = 1; n <= 999999 && !unique; ++n) {
      short_name = with_tail(stem, n);
      Result<bool> used = short_name_used(dir, short_name);
      if (!used.ok()) return used.error;
      unique = !used.value;
    }
    if (!unique) return FsError::kDirectoryFull;
    lfn_slots = static_cast<std::uint32_t>((name.length + kLfnCharsPerSlot - 1) / kLfnCharsPerSlot);
  }
  Result<std::uint32_t> first = find_free_slots(dir, lfn_slots + 1);
  if (!first.ok()) return first.error;
  const std::uint8_t checksum = lfn_checksum(short_name);
  for (std::uint32_t i = 0; i < lfn_slots; ++i) {
    const std::uint32_t ordinal = lfn_slots - i;
    std::array<std::byte, 32> raw{};
    raw[0] = static_cast<std::byte>(ordinal | (i == 0 ? 0x40u : 0u));
    raw[11] = std::byte{kAttrLongName};
    raw[13] = static_cast<std::byte>(checksum);
    for (std::size_t k = 0; k < kLfnCharsPerSlot; ++k) {
      const std::size_t at = (ordinal - 1) * kLfnCharsPerSlot + k;
      const std::uint16_t unit = at < name.length ? name.units[at] : at == name.length ? 0 : 0xFFFF;
      store16(raw.data() + kLfnOffsets[k], unit);
    }
    if (FsError e = write_slot(dir, first.value + i, raw.data()); e != FsError::kOk) return e;
  }
  const auto raw = encode_short_entry(short_name, attributes, cluster, size, now_);
  if (FsError e = write_slot(dir, first.value + lfn_slots, raw.data()); e != FsError::kOk) {
    return e;
  }
  out = Entry{};
  out.dir = dir;
  out.slot = first.value + lfn_slots;
  out.first_slot = first.value;
  out.short_name = short_name;
  out.attributes = attributes;
  out.cluster = cluster;
  out.size = size;
  out.modified = now_;
  return FsError::kOk;
}

FsError Volume::delete_slots(std::uint32_t dir, std::uint32_t first, std::uint32_t count) {
  std::array<std::byte, 32> raw{};
  for (std::uint32_t slot = first; slot < first + count; ++slot) {
    Result<bool> present = read_slot(dir, slot, raw.data());
    if (!present.ok()) return present.error;
    if (!present.value) return fail(Corruption::kChainTooShort);
    raw[0] = std::byte{kSlotFree};
    if (FsError e = write_slot(dir, slot, raw.data()); e != FsError::kOk) return e;
  }
  return FsError::kOk;
}

// The short slot goes first: its long-name slots are then orphans (repair frees them), never
// a short entry that lost its long name.
FsError Volume::delete_entry(const Entry& entry) {
  if (FsError e = delete_slots(entry.dir, entry.slot, 1); e != FsError::kOk) return e;
  return delete_slots(entry.dir, entry.first_slot, entry.slot - entry.first_slot);
}

FsError Volume::update_entry(const Entry& entry, std::uint32_t cluster, std::uint32_t size,
                             std::uint8_t attributes) {
  std::array<std::byte, 32> raw{};
  Result<bool> present = read_slot(entry.dir, entry.slot, raw.data());
  if (!present.ok()) return present.error;
  if (!present.value) return fail(Corruption::kChainTooShort);
  raw[11] = static_cast<std::byte>(attributes);
  set_entry_cluster(raw.data(), cluster);
  store32(raw.data() + 28, size);
  store16(raw.data() + 22, now_.time);
  store16(raw.data() + 24, now_.date);
  return write_slot(entry.dir, entry.slot, raw.data());
}

Result<bool> Volume::directory_empty(std::uint32_t dir) {
  DirScan scan;
  scan.dir = dir;
  Entry entry;
  for (;;) {
    Result<ScanResult> r = scan_next(scan, entry);
    if (!r.ok()) return r.error;
    if (r.value == ScanResult::kEnd) return true;
    if (r.value == ScanResult::kEntry && entry.dots == 0) return false;
  }
}

// ".." holds 0 when the parent is the root (as the specification and Linux write it).
FsError Volume::set_dotdot(std::uint32_t dir, std::uint32_t parent) {
  std::array<std::byte, 32> raw{};
  Result<bool> present = read_slot(dir, 1, raw.data());
  if (!present.ok()) return present.error;
  if (!present.value || raw[0] != std::byte{'.'} || raw[1] != std::byte{'.'}) {
    return fail(Corruption::kBadDirectory);
  }
  set_entry_cluster(raw.data(), parent == geometry_.root_cluster ? 0 : parent);
  return write_slot(dir, 1, raw.data());
}

FsError Volume::resolve_parent(std::string_view path, std::uint32_t& parent, std::string_view& last,
                               std::uint32_t forbidden) {
  if (!mounted()) return FsError::kNotMounted;
  if (path.size() > kMaxPathLength) return FsError::kPathTooLong;
  std::array<std::string_view, kMaxDepth + 1> parts{};
  std::size_t count = 0;
  for (std::size_t at = 0; at < path.size();) {
    std::size_t end = path.find('/', at);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(at, end - at);
    at = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == ".." || part.size() > kMaxNameBytes) return FsError::kNameInvalid;
    if (count == parts.size()) return FsError::kPathTooLong;
    parts[count++] = part;
  }
  parent = geometry_.root_cluster;
  last = {};
  if (count == 0) return FsError::kOk;
  Entry entry;
  for (std::size_t i = 0; i + 1 < count; ++i) {
    Result<bool> found = find(parent, parts[i], entry);
    if (!found.ok()) return found.error;
    if (!found.value) return FsError::kNotFound;
    if (!entry.is_directory()) return FsError::kNotADirectory;
    if (entry.cluster == 0) return fail(Corruption::kBadDirectory);
    if (!geometry_.valid_cluster(entry.cluster)) return fail(Corruption::kClusterOutOfRange);
    if (forbidden != 0 && entry.cluster == forbidden) return FsError::kInvalidArgument;
    parent = entry.cluster;
  }
  last = parts[count - 1];
  return FsError::kOk;
}

FsError Volume::resolve(std::string_view path, Entry& out, bool& is_root) {
  std::uint32_t parent = 0;
  std::string_view last;
  if (FsError e = resolve_parent(path, parent, last); e != FsError::kOk) return e;
  is_root = last.empty();
  if (is_root) return FsError::kOk;
  Result<bool> found = find(parent, last, out);
  if (!found.ok()) return found.error;
  if (!found.value) return FsError::kNotFound;
  if (out.is_directory() && out.cluster == 0) return fail(Corruption::kBadDirectory);
  if (out.cluster != 0 && !geometry_.valid_cluster(out.cluster)) {
    return fail(Corruption::kClusterOutOfRange);
  }
  return FsError::kOk;
}

}  // namespace ukernel::fat32
