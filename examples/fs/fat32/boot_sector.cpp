// Boot sector and FSInfo checks (see boot_sector.hpp).
#include "boot_sector.hpp"

namespace ukernel::fat32 {
namespace {

BootCheck corrupt(Corruption c) {
  return {FsError::kCorrupt, c};
}

// Not std::has_single_bit: its popcount is a libgcc call where the CPU has no popcnt, and server
// images link no libgcc.
constexpr bool is_power_of_two(std::uint32_t x) {
  return x != 0 && (x & (x - 1)) == 0;
}

constexpr std::uint32_t kFsInfoLeadSignature = 0x41615252;
constexpr std::uint32_t kFsInfoStructSignature = 0x61417272;
constexpr std::uint32_t kFsInfoTrailSignature = 0xAA550000;

}  // namespace

BootCheck parse_boot_sector(std::span<const std::byte> s, std::uint64_t device_sectors,
                            Geometry& g) {
  if (s.size() < 512) return corrupt(Corruption::kBadTotalSectors);
  const std::byte* p = s.data();
  const auto u8 = [p](std::size_t at) { return static_cast<std::uint32_t>(p[at]); };
  // x86 short jump + nop, or near jump: what every FAT formatter writes.
  if (!((u8(0) == 0xEB && u8(2) == 0x90) || u8(0) == 0xE9)) return corrupt(Corruption::kBadJump);
  if (u8(510) != 0x55 || u8(511) != 0xAA) return corrupt(Corruption::kBadSignature);

  const std::uint32_t bps = load16(p + 11);
  if (bps < 512 || bps > kMaxSectorSize || !is_power_of_two(bps)) {
    return corrupt(Corruption::kBadSectorSize);
  }
  const std::uint32_t spc = u8(13);
  if (spc == 0 || !is_power_of_two(spc) || bps * spc > 64 * 1024) {
    return corrupt(Corruption::kBadClusterSize);
  }
  const std::uint32_t reserved = load16(p + 14);
  if (reserved == 0) return corrupt(Corruption::kBadReservedSectors);
  const std::uint32_t fats = u8(16);
  if (fats == 0 || fats > 2) return corrupt(Corruption::kBadFatCount);
  const std::uint32_t root_entries = load16(p + 17);
  const std::uint32_t total16 = load16(p + 19);
  const std::uint32_t fat16_size = load16(p + 22);
  const std::uint32_t total32 = load32(p + 32);
  const std::uint32_t fat32_size = load32(p + 36);

  // The specification's computation, for every FAT type alike (64-bit: no overflow).
  const std::uint64_t root_dir_sectors = (root_entries * 32ull + bps - 1) / bps;
  const std::uint64_t fat_size = fat16_size != 0 ? fat16_size : fat32_size;
  const std::uint64_t total = total16 != 0 ? total16 : total32;
  if (total == 0 || fat_size == 0) return corrupt(Corruption::kBadTotalSectors);
  const std::uint64_t meta = reserved + fats * fat_size + root_dir_sectors;
  if (meta >= total) return corrupt(Corruption::kBadTotalSectors);
  const std::uint64_t clusters = (total - meta) / spc;
  if (clusters < kMinFat32Clusters) return {FsError::kNotFat32, Corruption::kNone};
  if (clusters > kMaxFat32Clusters) return corrupt(Corruption::kBadTotalSectors);

  // FAT32 from here: no fixed root directory, the 32-bit FAT size, enough FAT for every cluster.
  if (root_entries != 0 || fat16_size != 0 || total16 != 0) {
    return corrupt(Corruption::kBadFatSize);
  }
  if ((clusters + 2) * 4 > fat_size * bps) return corrupt(Corruption::kBadFatSize);
  if (total * (bps / 512) > device_sectors) return corrupt(Corruption::kVolumeLargerThanDevice);
  const std::uint32_t ext_flags = load16(p + 40);
  const std::uint32_t root = load32(p + 44);
  if (root < 2 || root - 2 >= clusters) return corrupt(Corruption::kBadRootCluster);
  if ((ext_flags & 0x80) != 0) return {FsError::kUnsupported, Corruption::kNone};
  if (load16(p + 42) != 0) return {FsError::kUnsupported, Corruption::kNone};  // FAT32 version 0.0

  std::uint32_t fsinfo = load16(p + 48);
  if (fsinfo == 0xFFFF || fsinfo == 0) fsinfo = 0;
  if (fsinfo >= reserved) return corrupt(Corruption::kBadReservedSectors);

  g.bytes_per_sector = bps;
  g.sectors_per_cluster = spc;
  g.reserved_sectors = reserved;
  g.fat_count = fats;
  g.fat_sectors = static_cast<std::uint32_t>(fat_size);
  g.total_sectors = static_cast<std::uint32_t>(total);
  g.first_data_sector = static_cast<std::uint32_t>(meta);
  g.cluster_count = static_cast<std::uint32_t>(clusters);
  g.root_cluster = root;
  g.fsinfo_sector = fsinfo;
  return {};
}

FsInfo parse_fsinfo(std::span<const std::byte> s) {
  FsInfo info;
  if (s.size() < 512 || load32(s.data()) != kFsInfoLeadSignature ||
      load32(s.data() + 484) != kFsInfoStructSignature ||
      load32(s.data() + 508) != kFsInfoTrailSignature) {
    return info;
  }
  info.valid = true;
  info.free_count = load32(s.data() + 488);
  info.next_free = load32(s.data() + 492);
  return info;
}

void store_fsinfo(std::span<std::byte> s, std::uint32_t free_count, std::uint32_t next_free) {
  store32(s.data() + 488, free_count);
  store32(s.data() + 492, next_free);
}

}  // namespace ukernel::fat32
