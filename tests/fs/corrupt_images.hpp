// Test support: a small clean FAT32 image made by the library on an mkfs.fat volume, and the
// means to damage it (FAT entries, directory entries), for the corrupt-image tests of the
// library (corrupt_test.cpp) and of the fs server (server_test.cpp).
#pragma once

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "fat32/boot_sector.hpp"
#include "fs/fat_image.hpp"

namespace fat_test {

using ukernel::fat32::FsError;
using ukernel::fat32::Geometry;
using ukernel::fat32::load16;
using ukernel::fat32::parse_boot_sector;
using ukernel::fat32::store16;
using ukernel::fat32::store32;
using ukernel::fat32::Volume;

struct Image {
  std::vector<std::byte> bytes;
  Geometry g;
  std::uint32_t file_cluster = 0, dir_cluster = 0;

  std::size_t cluster_offset(std::uint32_t c) const {
    return (std::size_t{g.first_data_sector} + std::size_t{c - 2} * g.sectors_per_cluster) *
           g.bytes_per_sector;
  }
  // The byte offset of the short entry named name11 in directory dir.
  std::size_t entry(std::uint32_t dir, const char* name11) const {
    const std::size_t at = cluster_offset(dir);
    for (std::size_t off = at; off < at + g.cluster_bytes(); off += 32) {
      if (std::memcmp(bytes.data() + off, name11, 11) == 0) return off;
    }
    FAIL("no entry " << name11);
    return 0;
  }
  void set_fat(std::uint32_t c, std::uint32_t value) {
    for (std::uint32_t f = 0; f < g.fat_count; ++f) {
      store32(bytes.data() +
                  (g.reserved_sectors + f * g.fat_sectors) * std::size_t{g.bytes_per_sector} +
                  c * 4,
              value);
    }
  }
};

// A clean image: /f (3 clusters of data), /d/g, "/Long Name.txt".
inline const Image& sample() {
  static const Image image = [] {
    Image im;
    MemoryDevice d;
    d.bytes = make_image(34 * 1024);
    Volume v;
    REQUIRE(v.mount(d) == FsError::kOk);
    REQUIRE(write_all(v, "/F", pattern(1400, 1)));
    REQUIRE(v.mkdir("/D") == FsError::kOk);
    REQUIRE(write_all(v, "/D/G", pattern(10, 2)));
    REQUIRE(write_all(v, "/Long Name.txt", pattern(10, 3)));
    REQUIRE(v.unmount() == FsError::kOk);
    im.bytes = std::move(d.bytes);
    REQUIRE(parse_boot_sector(im.bytes, im.bytes.size() / 512, im.g).error == FsError::kOk);
    const std::size_t f = im.entry(im.g.root_cluster, "F          ");
    im.file_cluster = load16(im.bytes.data() + f + 26);
    im.dir_cluster = load16(im.bytes.data() + im.entry(im.g.root_cluster, "D          ") + 26);
    return im;
  }();
  return image;
}

}  // namespace fat_test
