// The library on its own: operations, coherent handles, bad requests, a full disk.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "fs/fat_image.hpp"

using namespace ukernel::fat32;
using fat_test::MemoryDevice;

namespace {

MemoryDevice fresh_device() {
  static const std::vector<std::byte> image = fat_test::make_image();
  MemoryDevice d;
  d.bytes = image;
  return d;
}

std::vector<std::string> list(Volume& v, const std::string& path) {
  std::vector<std::string> names;
  auto cursor = v.open_dir(path);
  REQUIRE(cursor.ok());
  DirEntry e;
  for (;;) {
    auto more = v.read_dir(cursor.value, e);
    REQUIRE(more.ok());
    if (!more.value) break;
    names.emplace_back(e.name_view());
  }
  return names;
}

}  // namespace

TEST_CASE("volume: create, write, read, stat, readdir, rename, unlink, rmdir", "[fat32]") {
  MemoryDevice d = fresh_device();
  REQUIRE(!d.bytes.empty());
  Volume v;
  REQUIRE(v.mount(d) == FsError::kOk);
  REQUIRE(v.mkdir("/Docs") == FsError::kOk);
  CHECK(v.mkdir("/docs") == FsError::kExists);  // case-insensitive
  const auto data = fat_test::pattern(5000, 1);
  REQUIRE(fat_test::write_all(v, "/Docs/Mixed Case Name.txt", data));
  std::vector<std::byte> back;
  REQUIRE(fat_test::read_all(v, "/docs/MIXED CASE NAME.TXT", back));
  CHECK(back == data);
  auto st = v.stat("Docs/Mixed Case Name.txt");
  REQUIRE(st.ok());
  CHECK(st.value.size == 5000);
  CHECK_FALSE(st.value.is_directory);
  CHECK(v.stat("/Docs").value.is_directory);
  CHECK(list(v, "/Docs") == std::vector<std::string>{"Mixed Case Name.txt"});
  CHECK(v.rmdir("/Docs") == FsError::kNotEmpty);
  REQUIRE(v.rename("/Docs/Mixed Case Name.txt", "/moved.bin") == FsError::kOk);
  CHECK(v.stat("/Docs/Mixed Case Name.txt").error == FsError::kNotFound);
  REQUIRE(fat_test::read_all(v, "/moved.bin", back));
  CHECK(back == data);
  REQUIRE(v.rmdir("/Docs") == FsError::kOk);
  const std::uint32_t free_before = v.info().free_clusters;
  REQUIRE(v.unlink("/moved.bin") == FsError::kOk);
  CHECK(v.info().free_clusters == free_before + (5000 + 511) / 512);
  CHECK(list(v, "/").empty());
  REQUIRE(v.unmount() == FsError::kOk);
  CHECK(fat_test::fsck_clean(d.bytes));
}

TEST_CASE("volume: sparse writes read zeros, truncate, and two handles stay coherent", "[fat32]") {
  MemoryDevice d = fresh_device();
  Volume v;
  REQUIRE(v.mount(d) == FsError::kOk);
  auto a = v.open("/f", OpenFlags::kRead | OpenFlags::kWrite | OpenFlags::kCreate);
  auto b = v.open("/F", OpenFlags::kRead);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const auto tail = fat_test::pattern(100, 2);
  REQUIRE(v.write(a.value, 10000, tail).ok());
  CHECK(v.fstat(b.value).value.size == 10100);
  std::vector<std::byte> out(10100);
  REQUIRE(v.read(b.value, 0, out).value == 10100);
  for (std::size_t i = 0; i < 10000; ++i)
    REQUIRE(out[i] == std::byte{0});
  CHECK(std::equal(tail.begin(), tail.end(), out.begin() + 10000));
  REQUIRE(v.truncate(a.value, 10) == FsError::kOk);
  CHECK(v.read(b.value, 0, out).value == 10);
  REQUIRE(v.truncate(a.value, 3000) == FsError::kOk);  // longer again: zeros, not old bytes
  REQUIRE(v.read(b.value, 0, out).value == 3000);
  for (std::size_t i = 0; i < 3000; ++i)
    REQUIRE(out[i] == std::byte{0});
  CHECK(v.write(b.value, 0, tail).error == FsError::kReadOnly);
  CHECK(v.unlink("/f") == FsError::kBusy);
  REQUIRE(v.close(a.value) == FsError::kOk);
  REQUIRE(v.close(b.value) == FsError::kOk);
  CHECK(v.close(b.value) == FsError::kBadHandle);
  CHECK(v.read(a.value, 0, out).error == FsError::kBadHandle);
  CHECK(v.fsync(FileHandle{12345}) == FsError::kBadHandle);
  REQUIRE(v.unmount() == FsError::kOk);
  CHECK(fat_test::fsck_clean(d.bytes));
}

TEST_CASE("volume: bad requests get their errors and change nothing", "[fat32]") {
  MemoryDevice d = fresh_device();
  Volume v;
  REQUIRE(v.mount(d) == FsError::kOk);
  REQUIRE(v.mkdir("/d") == FsError::kOk);
  REQUIRE(fat_test::write_all(v, "/file", fat_test::pattern(10, 3)));
  REQUIRE(v.sync() == FsError::kOk);
  const auto before = d.bytes;
  const std::string long_path = "/" + std::string(kMaxPathLength, 'a');
  CHECK(v.open(long_path, OpenFlags::kRead).error == FsError::kPathTooLong);
  CHECK(v.mkdir("/bad:name") == FsError::kNameInvalid);
  CHECK(v.mkdir("/trailing.") == FsError::kNameInvalid);
  CHECK(v.mkdir("/" + std::string(256, 'n')) == FsError::kNameInvalid);
  CHECK(v.open("/d/../file", OpenFlags::kRead).error == FsError::kNameInvalid);
  CHECK(v.open("/file/x", OpenFlags::kRead).error == FsError::kNotADirectory);
  CHECK(v.open("/nope/x", OpenFlags::kRead).error == FsError::kNotFound);
  CHECK(v.open("/d", OpenFlags::kRead).error == FsError::kIsDirectory);
  CHECK(v.open("/file", OpenFlags::kCreate).error == FsError::kInvalidArgument);
  CHECK(v.open("/file", OpenFlags::kWrite | OpenFlags::kCreate | OpenFlags::kExclusive).error ==
        FsError::kExists);
  CHECK(v.unlink("/d") == FsError::kIsDirectory);
  CHECK(v.rmdir("/file") == FsError::kNotADirectory);
  CHECK(v.rmdir("/") == FsError::kInvalidArgument);
  CHECK(v.rename("/d", "/d/inner") == FsError::kInvalidArgument);
  CHECK(v.rename("/d", "/file") == FsError::kNotADirectory);
  CHECK(v.rename("/file", "/d") == FsError::kIsDirectory);
  CHECK(v.rename("/missing", "/x") == FsError::kNotFound);
  DirCursor forged{1, 0};
  DirEntry entry;
  CHECK(v.read_dir(forged, entry).error == FsError::kInvalidArgument);
  std::vector<FileHandle> handles;
  for (std::size_t i = 0; i < kMaxOpenFiles; ++i) {
    auto h = v.open("/file", OpenFlags::kRead);
    REQUIRE(h.ok());
    handles.push_back(h.value);
  }
  CHECK(v.open("/file", OpenFlags::kRead).error == FsError::kTooManyOpenFiles);
  CHECK(v.open("/new", OpenFlags::kWrite | OpenFlags::kCreate).error == FsError::kTooManyOpenFiles);
  for (auto h : handles)
    REQUIRE(v.close(h) == FsError::kOk);
  CHECK(fat_test::same_bytes(d.bytes, before));
  CHECK(v.stat("/new").error == FsError::kNotFound);
  REQUIRE(v.unmount() == FsError::kOk);

  Volume ro;
  REQUIRE(ro.mount(d, MountOptions{.read_only = true}) == FsError::kOk);
  CHECK(ro.mkdir("/x") == FsError::kReadOnly);
  CHECK(ro.open("/file", OpenFlags::kWrite).error == FsError::kReadOnly);
  CHECK(ro.unlink("/file") == FsError::kReadOnly);
  REQUIRE(ro.unmount() == FsError::kOk);
  CHECK(fat_test::same_bytes(d.bytes, before));
}

TEST_CASE("volume: rename replaces files and empty directories per POSIX", "[fat32]") {
  MemoryDevice d = fresh_device();
  Volume v;
  REQUIRE(v.mount(d) == FsError::kOk);
  REQUIRE(fat_test::write_all(v, "/a", fat_test::pattern(3000, 4)));
  REQUIRE(fat_test::write_all(v, "/b", fat_test::pattern(7000, 5)));
  REQUIRE(v.rename("/a", "/b") == FsError::kOk);
  std::vector<std::byte> back;
  REQUIRE(fat_test::read_all(v, "/b", back));
  CHECK(back == fat_test::pattern(3000, 4));
  CHECK(v.stat("/a").error == FsError::kNotFound);
  REQUIRE(v.mkdir("/src") == FsError::kOk);
  REQUIRE(v.mkdir("/src/sub") == FsError::kOk);
  REQUIRE(fat_test::write_all(v, "/src/sub/x", fat_test::pattern(10, 6)));
  REQUIRE(v.mkdir("/dst") == FsError::kOk);
  REQUIRE(v.mkdir("/dst/full") == FsError::kOk);
  REQUIRE(v.mkdir("/dst/full/y") == FsError::kOk);
  CHECK(v.rename("/src", "/dst/full") == FsError::kNotEmpty);
  REQUIRE(v.rmdir("/dst/full/y") == FsError::kOk);
  REQUIRE(v.rename("/src", "/dst/full") == FsError::kOk);  // onto an empty directory
  REQUIRE(fat_test::read_all(v, "/dst/full/sub/x", back));
  CHECK(back == fat_test::pattern(10, 6));
  REQUIRE(v.rename("/b", "/B") == FsError::kOk);  // a change of case
  auto names = list(v, "/");
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"B", "dst"});
  REQUIRE(v.unmount() == FsError::kOk);
  std::string log;
  CHECK(fat_test::fsck_clean(d.bytes, &log));
  INFO(log);
}

TEST_CASE("volume: a full disk answers kNoSpace and stays consistent", "[fat32]") {
  MemoryDevice d = fresh_device();
  Volume v;
  REQUIRE(v.mount(d) == FsError::kOk);
  auto h = v.open("/big", OpenFlags::kWrite | OpenFlags::kCreate);
  REQUIRE(h.ok());
  const auto chunk = fat_test::pattern(1 << 20, 7);
  std::uint64_t offset = 0;
  for (;;) {
    auto n = v.write(h.value, offset, chunk);
    if (!n.ok()) {
      CHECK(n.error == FsError::kNoSpace);
      break;
    }
    offset += n.value;
  }
  CHECK(v.fstat(h.value).value.size == offset);  // the failed write changed nothing
  const std::uint32_t free = v.info().free_clusters;
  const std::uint64_t room = std::uint64_t{free} * v.info().cluster_bytes;
  REQUIRE(v.write(h.value, offset, std::span(chunk).first(room)).ok());
  CHECK(v.info().free_clusters == 0);
  CHECK(v.write(h.value, offset + room, std::span(chunk).first(1)).error == FsError::kNoSpace);
  CHECK(v.mkdir("/dir") == FsError::kNoSpace);
  REQUIRE(v.close(h.value) == FsError::kOk);
  REQUIRE(v.unmount() == FsError::kOk);
  std::string log;
  CHECK(fat_test::fsck_clean(d.bytes, &log));
  INFO(log);
  Volume again;
  REQUIRE(again.mount(d) == FsError::kOk);
  CHECK(again.stat("/big").value.size == offset + room);
  CHECK(again.unlink("/big") == FsError::kOk);
  REQUIRE(again.unmount() == FsError::kOk);
  CHECK(fat_test::fsck_clean(d.bytes));
}

TEST_CASE("volume: a device error reaches the caller", "[fat32]") {
  MemoryDevice d = fresh_device();
  Volume v;
  REQUIRE(v.mount(d) == FsError::kOk);
  d.fail_io = true;
  CHECK(v.mkdir("/x") == FsError::kIoError);
  CHECK(v.stat("/x").error == FsError::kIoError);
  d.fail_io = false;
  Volume w;
  d.fail_io = true;
  CHECK(w.mount(d) == FsError::kIoError);
  CHECK_FALSE(w.mounted());
}

TEST_CASE("volume: the dirty bit is set while changes are pending, FSInfo holds the count",
          "[fat32]") {
  MemoryDevice d = fresh_device();
  Geometry g;
  REQUIRE(parse_boot_sector(d.bytes, d.bytes.size() / 512, g).error == FsError::kOk);
  const auto clean_in = [&](std::uint32_t fat) {
    const std::size_t at = (g.reserved_sectors + fat * g.fat_sectors) * std::size_t{512} + 4;
    return (load32(d.bytes.data() + at) & 0x08000000) != 0;
  };
  Volume v;
  REQUIRE(v.mount(d) == FsError::kOk);
  CHECK(clean_in(0));
  REQUIRE(v.mkdir("/x") == FsError::kOk);
  CHECK_FALSE(clean_in(0));
  CHECK_FALSE(clean_in(1));
  REQUIRE(v.sync() == FsError::kOk);
  CHECK(clean_in(0));
  CHECK(clean_in(1));
  const FsInfo hints = parse_fsinfo(std::span(d.bytes).subspan(g.fsinfo_sector * 512, 512));
  CHECK(hints.valid);
  CHECK(hints.free_count == v.info().free_clusters);
  REQUIRE(v.mkdir("/y") == FsError::kOk);
  // "Power off" without unmount: the copy is dirty, and mount repairs it.
  MemoryDevice crashed;
  crashed.bytes = d.bytes;
  Volume w;
  REQUIRE(w.mount(crashed) == FsError::kOk);
  CHECK(w.info().was_dirty);
  CHECK(w.info().repaired);
  CHECK(w.stat("/y").value.is_directory);
  REQUIRE(w.unmount() == FsError::kOk);
  CHECK(fat_test::fsck_clean(crashed.bytes));
  REQUIRE(v.unmount() == FsError::kOk);
}

TEST_CASE(
    "volume: a walk along a chain reads the FAT a window at a time, and the window follows "
    "every change",
    "[fat32]") {
  MemoryDevice d = fresh_device();  // 512-byte clusters: 128 FAT entries a sector
  REQUIRE(!d.bytes.empty());
  const auto data = fat_test::pattern(4 * 1024 * 1024, 7);  // 8192 clusters: 64 FAT sectors
  {
    Volume v;
    REQUIRE(v.mount(d) == FsError::kOk);
    REQUIRE(fat_test::write_all(v, "/big.bin", data));
    REQUIRE(v.unmount() == FsError::kOk);
  }
  Volume v;
  REQUIRE(v.mount(d) == FsError::kOk);
  auto h = v.open("/big.bin", OpenFlags::kRead | OpenFlags::kWrite);
  REQUIRE(h.ok());
  std::vector<std::byte> back(data.size());
  const std::uint64_t reads_before = d.reads;
  auto got = v.read(h.value, 0, back);
  REQUIRE(got.ok());
  CHECK(got.value == data.size());
  CHECK(back == data);
  // One request for the run of clusters, and the FAT's 64 sectors in windows of 64 (one sector
  // at a time, it was 64 requests).
  CHECK(d.reads - reads_before <= 4);
  // Changes inside the window: the chain grows, and a later walk (from the window) sees them.
  const auto more = fat_test::pattern(70000, 8);
  REQUIRE(v.write(h.value, data.size(), more).ok());
  std::vector<std::byte> tail(more.size());
  auto got_tail = v.read(h.value, data.size(), tail);
  REQUIRE(got_tail.ok());
  CHECK(got_tail.value == more.size());
  CHECK(tail == more);
  REQUIRE(v.truncate(h.value, 1000) == FsError::kOk);
  REQUIRE(v.close(h.value) == FsError::kOk);
  REQUIRE(fat_test::write_all(v, "/second.bin", data));  // reuses the clusters just freed
  REQUIRE(fat_test::read_all(v, "/second.bin", back));
  CHECK(back == data);
  REQUIRE(v.unmount() == FsError::kOk);
  CHECK(fat_test::fsck_clean(d.bytes));
}
