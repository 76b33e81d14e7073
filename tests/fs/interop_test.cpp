// Interop both ways with the Linux tools: mkfs.fat + mcopy -s fill an image the library reads
// byte-exactly (CRC-32 against Python's zlib.crc32); what the library writes passes
// fsck.fat -n and mcopy reads it back byte-exactly.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "fs/fat_image.hpp"

using namespace ukernel::fat32;
using fat_test::run;

namespace {

std::uint32_t host_crc(const std::string& path) {
  const std::string out = fat_test::temp_path("crc.txt");
  REQUIRE(run("/usr/bin/python3 -c 'import sys,zlib; "
              "print(zlib.crc32(open(sys.argv[1],\"rb\").read()))' '" +
              path + "' >" + out) == 0);
  const auto text = fat_test::read_file(out);
  std::remove(out.c_str());
  return static_cast<std::uint32_t>(
      std::stoul(std::string(reinterpret_cast<const char*>(text.data()), text.size())));
}

std::map<std::string, Stat> listing(Volume& v, const std::string& path) {
  std::map<std::string, Stat> out;
  auto cursor = v.open_dir(path);
  REQUIRE(cursor.ok());
  DirEntry e;
  while (true) {
    auto more = v.read_dir(cursor.value, e);
    REQUIRE(more.ok());
    if (!more.value) break;
    out[std::string(e.name_view())] = e.stat;
  }
  return out;
}

}  // namespace

TEST_CASE("interop: the library reads what mcopy wrote, mcopy reads what it wrote", "[fat32]") {
  const std::string tree = fat_test::temp_path("tree"), image = fat_test::temp_path("interop.img");
  run("rm -rf '" + tree + "'");
  REQUIRE(run("mkdir -p '" + tree + "/Nested Dir/Deeper Still'") == 0);
  const std::map<std::string, std::vector<std::byte>> files = {
      {"/Nested Dir/Deeper Still/file one.txt", fat_test::pattern(1234, 1)},
      {"/Nested Dir/short.c", fat_test::pattern(40, 2)},
      {"/MixedCase Long Name With Spaces.data", fat_test::pattern(70000, 3)},
      {"/empty.txt", {}},
      {"/UPPER.TXT", fat_test::pattern(512, 4)},
      {"/big.bin", fat_test::pattern(5 * 1024 * 1024 + 17, 5)},
  };
  for (const auto& [name, data] : files)
    fat_test::write_file(tree + name, data);
  REQUIRE(run("/usr/sbin/mkfs.fat -F 32 -C '" + image + "' 34816 >/dev/null") == 0);
  REQUIRE(run("cd '" + tree + "' && MTOOLS_SKIP_CHECK=1 mcopy -s -i '" + image + "' * ::/") == 0);

  fat_test::MemoryDevice d;
  d.bytes = fat_test::read_file(image);
  {
    Volume v;
    REQUIRE(v.mount(d, MountOptions{.read_only = true}) == FsError::kOk);
    auto root = listing(v, "/");
    CHECK(root.size() == 5);
    CHECK(root.count("MixedCase Long Name With Spaces.data") == 1);
    CHECK(root["Nested Dir"].is_directory);
    CHECK(root["empty.txt"].size == 0);
    CHECK(listing(v, "/Nested Dir/Deeper Still").count("file one.txt") == 1);
    for (const auto& [name, data] : files) {
      INFO(name);
      std::vector<std::byte> back;
      REQUIRE(fat_test::read_all(v, name, back));
      CHECK(back.size() == data.size());
      CHECK(fat_test::crc_of(back) == host_crc(tree + name));
    }
    REQUIRE(v.unmount() == FsError::kOk);
  }

  // The other way: create, append, rename and delete, then ask the Linux tools.
  const auto created = fat_test::pattern(100000, 6);
  const auto appended = fat_test::pattern(3000, 7);
  {
    Volume v;
    REQUIRE(v.mount(d) == FsError::kOk);
    REQUIRE(v.mkdir("/New Folder") == FsError::kOk);
    REQUIRE(v.mkdir("/New Folder/Sub Dir With A Long Name") == FsError::kOk);
    REQUIRE(fat_test::write_all(v, "/New Folder/Long Created Name.txt", created));
    auto h = v.open("/big.bin", OpenFlags::kWrite);
    REQUIRE(h.ok());
    REQUIRE(v.write(h.value, v.fstat(h.value).value.size, appended).ok());
    REQUIRE(v.close(h.value) == FsError::kOk);
    REQUIRE(v.rename("/UPPER.TXT", "/New Folder/renamed lower.txt") == FsError::kOk);
    REQUIRE(v.rename("/Nested Dir", "/New Folder/Sub Dir With A Long Name/Moved") == FsError::kOk);
    REQUIRE(v.unlink("/empty.txt") == FsError::kOk);
    REQUIRE(v.unlink("/MixedCase Long Name With Spaces.data") == FsError::kOk);
    REQUIRE(v.unmount() == FsError::kOk);
  }
  std::string log;
  CHECK(fat_test::fsck_clean(d.bytes, &log));
  INFO(log);
  fat_test::write_file(image, d.bytes);
  const auto mcopy_out = [&](const std::string& name) {
    const std::string out = fat_test::temp_path("out.bin");
    std::remove(out.c_str());
    REQUIRE(run("MTOOLS_SKIP_CHECK=1 mcopy -n -i '" + image + "' '::" + name + "' '" + out + "'") ==
            0);
    auto bytes = fat_test::read_file(out);
    std::remove(out.c_str());
    return bytes;
  };
  CHECK(fat_test::same_bytes(mcopy_out("/New Folder/Long Created Name.txt"), created));
  CHECK(fat_test::same_bytes(mcopy_out("/New Folder/renamed lower.txt"), files.at("/UPPER.TXT")));
  CHECK(fat_test::same_bytes(
      mcopy_out("/New Folder/Sub Dir With A Long Name/Moved/Deeper Still/file one.txt"),
      files.at("/Nested Dir/Deeper Still/file one.txt")));
  auto big = files.at("/big.bin");
  big.insert(big.end(), appended.begin(), appended.end());
  CHECK(fat_test::same_bytes(mcopy_out("/big.bin"), big));
  CHECK(run("MTOOLS_SKIP_CHECK=1 mtype -i '" + image + "' ::/empty.txt >/dev/null 2>&1") != 0);
  CHECK(run("MTOOLS_SKIP_CHECK=1 mtype -i '" + image +
            "' '::/New Folder/renamed lower.txt' "
            ">/dev/null") == 0);
  std::remove(image.c_str());
  run("rm -rf '" + tree + "'");
}
