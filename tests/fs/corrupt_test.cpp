// Untrusted images, damaged by the test: each is refused with a clear error, or served safely
// (an error for what is damaged, the rest readable, no hang), and never written.
#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "fs/corrupt_images.hpp"

using namespace ukernel::fat32;
using fat_test::Image;
using fat_test::sample;

namespace {

// Mounts the damaged image read-write, runs check, unmounts; the bytes must not change.
void served(const Image& damaged, const std::function<void(Volume&)>& check) {
  fat_test::MemoryDevice d;
  d.bytes = damaged.bytes;
  Volume v;
  REQUIRE(v.mount(d) == FsError::kOk);
  check(v);
  CHECK(v.unmount() == FsError::kOk);
  CHECK(d.writes == 0);
  CHECK(fat_test::same_bytes(d.bytes, damaged.bytes));
}

void refused(const Image& damaged, FsError error, Corruption what, std::uint64_t sectors) {
  fat_test::MemoryDevice d;
  d.bytes = damaged.bytes;
  d.sectors_override = sectors;
  Volume v;
  CHECK(v.mount(d) == error);
  CHECK(v.corruption() == what);
  CHECK_FALSE(v.mounted());
  CHECK(d.writes == 0);
  CHECK(fat_test::same_bytes(d.bytes, damaged.bytes));
  CHECK(v.stat("/f").error == FsError::kNotMounted);
}

}  // namespace

TEST_CASE("corrupt: boot sectors that are not FAT32 are refused, nothing written", "[fat32]") {
  // Only the first 64 KiB are kept (a refused mount reads the boot sector alone; a read past
  // them would fail the mount with kIoError); the device still reports the full size.
  const std::uint64_t full_sectors = sample().bytes.size() / 512;
  const auto patched = [](std::size_t at, std::initializer_list<std::uint8_t> values) {
    Image im;
    im.bytes.assign(sample().bytes.begin(), sample().bytes.begin() + 65536);
    for (auto v : values)
      im.bytes[at++] = std::byte{v};
    return im;
  };
  refused(patched(0, {0}), FsError::kCorrupt, Corruption::kBadJump, full_sectors);
  refused(patched(510, {0}), FsError::kCorrupt, Corruption::kBadSignature, full_sectors);
  refused(patched(11, {0x2C, 0x01}), FsError::kCorrupt, Corruption::kBadSectorSize,
          full_sectors);  // 300
  refused(patched(11, {0x00, 0x20}), FsError::kCorrupt, Corruption::kBadSectorSize,
          full_sectors);  // 8192
  refused(patched(13, {3}), FsError::kCorrupt, Corruption::kBadClusterSize, full_sectors);
  refused(patched(14, {0, 0}), FsError::kCorrupt, Corruption::kBadReservedSectors, full_sectors);
  refused(patched(16, {0}), FsError::kCorrupt, Corruption::kBadFatCount, full_sectors);
  refused(patched(36, {1, 0, 0, 0}), FsError::kCorrupt, Corruption::kBadFatSize, full_sectors);
  {
    Image larger = patched(0, {0xEB});  // 8 sectors more than the device has
    store32(larger.bytes.data() + 32, load32(larger.bytes.data() + 32) + 8);
    refused(larger, FsError::kCorrupt, Corruption::kVolumeLargerThanDevice, full_sectors);
  }
  refused(patched(44, {0xF0, 0xFF, 0xFF, 0x0F}), FsError::kCorrupt, Corruption::kBadRootCluster,
          full_sectors);
  refused(patched(44, {1, 0, 0, 0}), FsError::kCorrupt, Corruption::kBadRootCluster, full_sectors);
  refused(patched(0, {0xEB}), FsError::kCorrupt, Corruption::kVolumeLargerThanDevice,
          full_sectors / 2);  // a truncated device
  // Fewer clusters than FAT32 needs: FAT16 and FAT12 by cluster count, whatever the BPB says.
  Image fat16;
  fat16.bytes = fat_test::make_image(16 * 1024, "-F 16");
  REQUIRE(!fat16.bytes.empty());
  refused(fat16, FsError::kNotFat32, Corruption::kNone, 0);
  Image fat12;
  fat12.bytes = fat_test::make_image(1440, "-F 12");
  REQUIRE(!fat12.bytes.empty());
  refused(fat12, FsError::kNotFat32, Corruption::kNone, 0);
}

TEST_CASE("corrupt: bad cluster numbers, loops and sizes are served safely", "[fat32]") {
  const Image& base = sample();
  const std::size_t f = base.entry(base.g.root_cluster, "F          ");
  std::vector<std::byte> out(4096);
  {  // the file's first cluster is outside the volume
    Image im = base;
    store16(im.bytes.data() + f + 20, 0x0FFF);
    served(im, [&](Volume& v) {
      CHECK(v.open("/f", OpenFlags::kRead).error == FsError::kCorrupt);
      CHECK(v.corruption() == Corruption::kClusterOutOfRange);
      CHECK(v.stat("/d/g").ok());  // the rest is still served
    });
  }
  {  // a chain entry out of range
    Image im = base;
    im.set_fat(base.file_cluster, 0x0FFFFF00);
    served(im, [&](Volume& v) {
      auto h = v.open("/f", OpenFlags::kRead);
      REQUIRE(h.ok());
      CHECK(v.read(h.value, 0, out).error == FsError::kCorrupt);
      CHECK(v.corruption() == Corruption::kClusterOutOfRange);
      CHECK(v.close(h.value) == FsError::kOk);
    });
  }
  {  // a free cluster in the middle of a chain
    Image im = base;
    im.set_fat(base.file_cluster, 0);
    served(im, [&](Volume& v) {
      auto h = v.open("/f", OpenFlags::kRead);
      CHECK(v.read(h.value, 0, out).error == FsError::kCorrupt);
      CHECK(v.close(h.value) == FsError::kOk);
    });
  }
  {  // a loop: the chain's second cluster points back to the first
    Image im = base;
    im.set_fat(base.file_cluster + 1, base.file_cluster);
    served(im, [&](Volume& v) {
      auto h = v.open("/f", OpenFlags::kRead);
      auto n = v.read(h.value, 0, out);  // bounded by the size: no hang
      CHECK((n.ok() || n.error == FsError::kCorrupt));
      CHECK(v.close(h.value) == FsError::kOk);
    });
  }
  {  // a size larger than the chain
    Image im = base;
    store32(im.bytes.data() + f + 28, 0x7FFFFFFF);
    served(im, [&](Volume& v) {
      auto h = v.open("/f", OpenFlags::kRead);
      std::vector<std::byte> big(64 * 1024);
      CHECK(v.read(h.value, 0, big).error == FsError::kCorrupt);
      CHECK(v.corruption() == Corruption::kChainTooShort);
      CHECK(v.close(h.value) == FsError::kOk);
    });
  }
  {  // a chain longer than the size: only the size is read
    Image im = base;
    store32(im.bytes.data() + f + 28, 100);
    served(im, [&](Volume& v) {
      auto h = v.open("/f", OpenFlags::kRead);
      CHECK(v.read(h.value, 0, out).value == 100);
      CHECK(v.close(h.value) == FsError::kOk);
    });
  }
  {  // a directory whose chain loops onto itself: listing ends (FAT's 65536-slot limit)
    Image im = base;
    im.set_fat(base.dir_cluster, base.dir_cluster);
    served(im, [&](Volume& v) {
      auto cursor = v.open_dir("/d");
      REQUIRE(cursor.ok());
      DirEntry e;
      int count = 0;
      for (Result<bool> more = v.read_dir(cursor.value, e); more.ok() && more.value;
           more = v.read_dir(cursor.value, e)) {
        ++count;
      }
      CHECK(count <= 65536);
    });
  }
  {  // a directory entry pointing past the volume
    Image im = base;
    const std::size_t d = base.entry(base.g.root_cluster, "D          ");
    store16(im.bytes.data() + d + 20, 0x0FFF);
    served(im, [&](Volume& v) {
      CHECK(v.open_dir("/d").error == FsError::kCorrupt);
      CHECK(v.stat("/d/g").error == FsError::kCorrupt);
    });
  }
}

TEST_CASE("corrupt: bad long names and invalid short names", "[fat32]") {
  const Image& base = sample();
  const std::size_t alias = base.entry(base.g.root_cluster, "LONGNA~1TXT");
  {  // a wrong LFN checksum: the long name is ignored, the alias serves
    Image im = base;
    im.bytes[alias - 32 + 13] ^= std::byte{0x5A};
    served(im, [&](Volume& v) {
      CHECK(v.stat("/Long Name.txt").error == FsError::kNotFound);
      CHECK(v.stat("/LONGNA~1.TXT").ok());
    });
  }
  {  // an LFN ordinal out of range
    Image im = base;
    im.bytes[alias - 32] = std::byte{0x5F};
    served(im, [&](Volume& v) { CHECK(v.stat("/LONGNA~1.TXT").ok()); });
  }
  {  // a short name with '/' in it, and a control character: not listed, not reachable
    Image im = base;
    const std::size_t g = base.entry(base.dir_cluster, "G          ");
    im.bytes[g + 1] = std::byte{'/'};
    const std::size_t f = base.entry(base.g.root_cluster, "F          ");
    im.bytes[f + 1] = std::byte{0x01};
    served(im, [&](Volume& v) {
      auto cursor = v.open_dir("/d");
      DirEntry e;
      CHECK_FALSE(v.read_dir(cursor.value, e).value);
      CHECK(v.stat("/f").error == FsError::kNotFound);
      CHECK(v.rmdir("/d") == FsError::kNotEmpty);  // the hidden entry still counts
    });
  }
}
