// The FAT32 boot sector (BPB) and FSInfo sector: checked before anything else is read.
//
// parse_boot_sector() checks every field the library relies on and decides the FAT type the way
// the FAT specification (and Linux) does: by the count of data clusters, never by the type
// string. Fewer than 4085 clusters is FAT12, fewer than 65525 FAT16, else FAT32; only FAT32 is
// accepted. The result is a Geometry of plain numbers, each checked against the others and
// against the device's size, so later code computes sector numbers without further checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "fs_error.hpp"

namespace ukernel::fat32 {

inline constexpr std::uint32_t kMinFat32Clusters = 65525;
inline constexpr std::uint32_t kMaxFat32Clusters = 0x0FFFFFF5;  // cluster numbers 2..0x0FFFFFF6
inline constexpr std::size_t kMaxSectorSize = 4096;

struct Geometry {
  std::uint32_t bytes_per_sector = 0;  // the volume's logical sector: 512..4096
  std::uint32_t sectors_per_cluster = 0;
  std::uint32_t reserved_sectors = 0;
  std::uint32_t fat_count = 0;
  std::uint32_t fat_sectors = 0;  // per FAT
  std::uint32_t total_sectors = 0;
  std::uint32_t first_data_sector = 0;
  std::uint32_t cluster_count = 0;  // data clusters: valid cluster numbers are 2..cluster_count+1
  std::uint32_t root_cluster = 0;
  std::uint32_t fsinfo_sector = 0;  // 0: none (or an unusable one)

  std::uint32_t cluster_bytes() const { return bytes_per_sector * sectors_per_cluster; }
  std::uint32_t device_sectors_per_sector() const { return bytes_per_sector / 512; }
  bool valid_cluster(std::uint32_t c) const { return c >= 2 && c - 2 < cluster_count; }
  // The first logical sector of data cluster c (valid_cluster(c) holds).
  std::uint32_t cluster_sector(std::uint32_t c) const {
    return first_data_sector + (c - 2) * sectors_per_cluster;
  }
};

struct BootCheck {
  FsError error = FsError::kOk;
  Corruption corruption = Corruption::kNone;
};

// Checks a boot sector (the first 512 bytes are enough) against a device of device_sectors
// 512-byte sectors and fills geometry on success.
BootCheck parse_boot_sector(std::span<const std::byte> sector, std::uint64_t device_sectors,
                            Geometry& geometry);

// The FSInfo sector's hints; valid is false when a signature is wrong (the hints are then unknown).
struct FsInfo {
  bool valid = false;
  std::uint32_t free_count = 0xFFFFFFFF;  // 0xFFFFFFFF: unknown
  std::uint32_t next_free = 0xFFFFFFFF;
};
FsInfo parse_fsinfo(std::span<const std::byte> sector);
// Writes the two hints into an FSInfo sector whose signatures parse_fsinfo accepted.
void store_fsinfo(std::span<std::byte> sector, std::uint32_t free_count, std::uint32_t next_free);

// Little-endian field access, shared by every on-disk structure.
inline std::uint16_t load16(const std::byte* p) {
  return static_cast<std::uint16_t>(static_cast<unsigned>(p[0]) |
                                    (static_cast<unsigned>(p[1]) << 8));
}
inline std::uint32_t load32(const std::byte* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
inline void store16(std::byte* p, std::uint16_t v) {
  p[0] = static_cast<std::byte>(v & 0xFF);
  p[1] = static_cast<std::byte>(v >> 8);
}
inline void store32(std::byte* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
}

}  // namespace ukernel::fat32
