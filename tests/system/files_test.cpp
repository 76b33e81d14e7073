// The example system's file system, driven through the shell as a user would type (issue 9,
// acceptance: interop with the Linux tools both ways). An image made by mkfs.fat -F 32 and
// filled by mcopy (nested directories, long names with spaces and mixed case, an empty file, a
// file of several MiB) is listed and read byte-exactly (`sum` against CRC-32s computed on the
// host by Python's zlib); then the system creates, appends to, renames and deletes files and
// directories, with crashes of fs and blk between the writes, and after the run fsck.fat -n is
// clean and mtools read every file back byte-exactly.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "fs/fat_image.hpp"
#include "hosted/run_system.hpp"
#include "transcript.hpp"
#include "ukernel/hosted/faults.hpp"

namespace {

using fat_test::run;
using system_example::transcript::first_missing;

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

// zlib.crc32 of the file, computed by Python on the host, as the shell prints it.
std::string host_crc(const std::string& path) {
  const std::string out = fat_test::temp_path("crc.txt");
  REQUIRE(run("/usr/bin/python3 -c 'import sys,zlib; "
              "print(\"%08x\" % zlib.crc32(open(sys.argv[1],\"rb\").read()))' " +
              quoted(path) + " >" + out) == 0);
  const auto text = fat_test::read_file(out);
  std::remove(out.c_str());
  return std::string(reinterpret_cast<const char*>(text.data()), text.size() > 0 ? 8 : 0);
}

// The file at `path` of the image, as mcopy reads it; false if mcopy cannot.
bool mtools_read(const std::string& image, const std::string& path, std::vector<std::byte>& out) {
  const std::string copy = fat_test::temp_path("mcopy.out");
  std::remove(copy.c_str());
  if (run("MTOOLS_SKIP_CHECK=1 mcopy -n -i " + quoted(image) + " " + quoted("::" + path) + " " +
          quoted(copy) + " 2>/dev/null") != 0)
    return false;
  out = fat_test::read_file(copy);
  std::remove(copy.c_str());
  return true;
}

std::string mtype(const std::string& image, const std::string& path) {
  const std::string out = fat_test::temp_path("mtype.out");
  if (run("MTOOLS_SKIP_CHECK=1 mtype -i " + quoted(image) + " " + quoted("::" + path) + " >" + out +
          " 2>/dev/null") != 0)
    return "(mtype failed)";
  const auto text = fat_test::read_file(out);
  std::remove(out.c_str());
  return std::string(reinterpret_cast<const char*>(text.data()), text.size());
}

bool exists(const std::string& image, const std::string& path) {
  return run("MTOOLS_SKIP_CHECK=1 mdir -b -i " + quoted(image) + " " + quoted("::" + path) +
             " >/dev/null 2>&1") == 0;
}

std::vector<std::byte> text_bytes(const std::string& text) {
  std::vector<std::byte> out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

}  // namespace

TEST_CASE(
    "files: the system reads what mcopy wrote, and fsck.fat and mtools accept what it wrote") {
  const std::string tree = fat_test::temp_path("system-tree");
  const std::string image = fat_test::temp_path("system-files.img");
  run("rm -rf " + quoted(tree));
  REQUIRE(run("mkdir -p " + quoted(tree + "/Nested Dir/Deeper Still")) == 0);
  const std::map<std::string, std::vector<std::byte>> files = {
      {"/Nested Dir/Deeper Still/file one.txt", fat_test::pattern(1234, 1)},
      {"/Nested Dir/short.c", fat_test::pattern(40, 2)},
      {"/MixedCase Long Name With Spaces.data", fat_test::pattern(70000, 3)},
      {"/empty.txt", {}},
      {"/big.bin", fat_test::pattern(5 * 1024 * 1024 + 17, 5)},
  };
  std::map<std::string, std::string> crcs;
  for (const auto& [name, data] : files) {
    fat_test::write_file(tree + name, data);
    crcs[name] = host_crc(tree + name);
  }
  std::remove(image.c_str());
  REQUIRE(run("/usr/sbin/mkfs.fat -F 32 -C " + quoted(image) + " 65536 >/dev/null") == 0);
  REQUIRE(run("cd " + quoted(tree) + " && MTOOLS_SKIP_CHECK=1 mcopy -s -i " + quoted(image) +
              " * ::/") == 0);

  const std::vector<std::string> lines = {
      "ls",
      "ls \"/Nested Dir\"",
      "ls \"/nested dir/deeper still\"",  // FAT names match case-insensitively
      "sum \"/Nested Dir/Deeper Still/file one.txt\"",
      "sum \"/Nested Dir/short.c\"",
      "sum \"/MixedCase Long Name With Spaces.data\"",
      "sum /empty.txt",
      "sum /big.bin",
      "stat /empty.txt",
      "cat /nowhere.txt",
      "mkdir \"/New Folder\"",
      "write \"/New Folder/Hello World.txt\" hello   from the \"system  \"",
      "append \"/New Folder/Hello World.txt\" a second line",
      "cat \"/New Folder/Hello World.txt\"",
      "mv \"/MixedCase Long Name With Spaces.data\" \"/Renamed Data.bin\"",
      "mv \"/Nested Dir/short.c\" \"/New Folder/short.c\"",
      "mv \"/Nested Dir/Deeper Still\" \"/New Folder/Moved Dir\"",
      "rm /empty.txt",
      "write \"/to delete.txt\" x",
      "rm \"/to delete.txt\"",
      "mkdir /gone",
      "rmdir /gone",
      "rmdir \"/Nested Dir\"",
      "rmdir \"/New Folder\"",
      "ls \"/New Folder\"",
      "sync",
      // A stream of writes with the file system, then the block driver, crashed in between.
      "write /stream1.txt one",
      "write /stream2.txt second file",
      "crash fs",
      "append /stream1.txt two",
      "write /stream3.txt third file",
      "crash blk",
      "append /stream1.txt three",
      "write /stream2.txt second file, rewritten",
      "cat /stream1.txt",
      "sum \"/Renamed Data.bin\"",
      "sync",
  };
  system_example::RunOptions options{.image_directory = UKERNEL_SYSTEM_IMAGE_DIR};
  options.disk = image;
  std::string transcript = system_example::run_script(options, lines);
  INFO(transcript);

  // The listings, each entry on a line of its own (in directory order, which mcopy chose).
  for (const char* entry :
       {"<dir> Nested Dir/", "70000 MixedCase Long Name With Spaces.data", "0 empty.txt",
        "5242897 big.bin", "40 short.c", "<dir> Deeper Still/", "1234 file one.txt"})
    CHECK(first_missing(transcript, {entry}) == "");
  CHECK(first_missing(transcript,
                      {
                          "fs: mounted",
                          "system up: 9 servers",
                          "uk> sum \"/Nested Dir/Deeper Still/file one.txt\"",
                          "1234 bytes, crc32 " + crcs["/Nested Dir/Deeper Still/file one.txt"],
                          "40 bytes, crc32 " + crcs["/Nested Dir/short.c"],
                          "70000 bytes, crc32 " + crcs["/MixedCase Long Name With Spaces.data"],
                          "0 bytes, crc32 00000000  /empty.txt",
                          "5242897 bytes, crc32 " + crcs["/big.bin"] + "  /big.bin",
                          "/empty.txt: file, 0 bytes",
                          "cat: /nowhere.txt: not found",
                          "uk> cat \"/New Folder/Hello World.txt\"",
                          "hello from the system",
                          "a second line",
                          "uk> rmdir /gone",
                          "uk> rmdir \"/Nested Dir\"",
                          "uk> rmdir \"/New Folder\"",
                          "rmdir: /New Folder: directory not empty",
                          "uk> ls \"/New Folder\"",
                          "Hello World.txt",
                          "uk> crash fs",
                          "supervisor: fs faulted",
                          "crash: fs crashed",
                          "uk> crash blk",
                          "supervisor: blk faulted",
                          "crash: blk crashed",
                          "fs: blk restarted: mounting again over a new session",
                          "uk> cat /stream1.txt",
                          "one",
                          "two",
                          "three",
                          "70000 bytes, crc32 " + crcs["/MixedCase Long Name With Spaces.data"] +
                              "  /Renamed Data.bin",
                          "uk> sync",
                      }) == "");
  // Every other command succeeded: the only errors are the two asked for.
  CHECK(transcript.find("I/O error") == std::string::npos);
  CHECK(transcript.find("not running") == std::string::npos);
  CHECK(transcript.find("rmdir: /Nested Dir") == std::string::npos);

  // The Linux tools read what the system wrote.
  std::string fsck_log;
  CHECK(fat_test::fsck_clean(fat_test::read_file(image), &fsck_log));
  INFO(fsck_log);
  CHECK(mtype(image, "/New Folder/Hello World.txt") == "hello from the system  \na second line\n");
  CHECK(mtype(image, "/stream1.txt") == "one\ntwo\nthree\n");
  CHECK(mtype(image, "/stream2.txt") == "second file, rewritten\n");
  CHECK(mtype(image, "/stream3.txt") == "third file\n");
  const std::map<std::string, std::string> moved = {
      {"/Renamed Data.bin", "/MixedCase Long Name With Spaces.data"},
      {"/New Folder/short.c", "/Nested Dir/short.c"},
      {"/New Folder/Moved Dir/file one.txt", "/Nested Dir/Deeper Still/file one.txt"},
      {"/big.bin", "/big.bin"},
  };
  for (const auto& [now, before] : moved) {
    INFO(now);
    std::vector<std::byte> bytes;
    REQUIRE(mtools_read(image, now, bytes));
    CHECK(fat_test::same_bytes(bytes, files.at(before)));
  }
  std::vector<std::byte> hello;
  REQUIRE(mtools_read(image, "/New Folder/Hello World.txt", hello));
  CHECK(fat_test::same_bytes(hello, text_bytes("hello from the system  \na second line\n")));
  for (const char* gone : {"/empty.txt", "/to delete.txt", "/gone", "/Nested Dir",
                           "/MixedCase Long Name With Spaces.data"}) {
    INFO(gone);
    CHECK_FALSE(exists(image, gone));
  }
  CHECK(exists(image, "/New Folder/Moved Dir"));
  run("rm -rf " + quoted(tree));
  std::remove(image.c_str());
}

// The file system, then the block driver, killed at a seeded system call of theirs (in the middle
// of a command, wherever the seed lands) during a stream of writes. A command it interrupts says
// "I/O error" (never hangs); every write the shell reported done reads back exactly, the
// commands after the restart work, and fsck.fat -n is clean after the final sync.
TEST_CASE(
    "files: fs or blk killed in the middle of a stream of writes loses nothing acknowledged") {
  constexpr int kWrites = 10;
  const std::string image = fat_test::temp_path("system-kill.img");
  int interrupted = 0;
  for (const char* target : {"fs", "blk"}) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      std::remove(image.c_str());
      REQUIRE(run("/usr/sbin/mkfs.fat -F 32 -C " + quoted(image) + " 34816 >/dev/null") == 0);
      std::vector<std::string> lines;
      for (int k = 1; k <= kWrites; ++k)
        lines.push_back("write \"/file " + std::to_string(k) + ".txt\" line " + std::to_string(k));
      lines.push_back("sync");
      // Twice: the kill may interrupt the first (write is idempotent).
      lines.push_back("write /after.txt the commands work again");
      lines.push_back("write /after.txt the commands work again");
      lines.push_back("cat /after.txt");
      lines.push_back("sync");
      // Where the stream lies in each server's system calls (fs: about 340 in all, blk: about
      // 1100; the mount reads the FAT a 32 KiB window a request, so it no longer takes most of
      // them): the seed picks one in it.
      const bool fs = std::string(target) == "fs";
      const std::uint64_t at = (fs ? 120 : 300) + ((seed * 2654435761u) >> 8) % (fs ? 200 : 700);
      const std::string text = std::string("kill:") + target + "@" + std::to_string(at);
      auto schedule = ukernel::hosted::FaultSchedule::parse(text);
      REQUIRE(schedule);
      system_example::RunOptions options{.image_directory = UKERNEL_SYSTEM_IMAGE_DIR};
      options.disk = image;
      options.seed = seed;
      options.faults = &*schedule;
      std::string transcript = system_example::run_script(options, lines);
      INFO(text << "\n" << transcript);
      CHECK(first_missing(transcript, {"supervisor: " + std::string(target) + " faulted",
                                       "uk> cat /after.txt", "the commands work again"}) == "");
      std::string fsck_log;
      CHECK(fat_test::fsck_clean(fat_test::read_file(image), &fsck_log));
      INFO(fsck_log);
      int failed = 0;
      for (int k = 1; k <= kWrites; ++k) {
        const std::string path = "/file " + std::to_string(k) + ".txt";
        if (transcript.find("write: " + path + ":") != std::string::npos) {
          ++failed;  // interrupted: not acknowledged, so either content is allowed
          continue;
        }
        INFO(path);
        CHECK(mtype(image, path) == "line " + std::to_string(k) + "\n");
      }
      CHECK(failed <= 1);  // one kill interrupts at most one command
      interrupted += failed;
    }
  }
  std::remove(image.c_str());
  CHECK(interrupted > 0);  // some kills landed inside a command, not only between them
}

TEST_CASE("files: bench fswrite and bench fsread move the bytes, and refuse what they cannot do") {
  const std::string image = fat_test::temp_path("system-bench.img");
  std::remove(image.c_str());
  REQUIRE(run("/usr/sbin/mkfs.fat -F 32 -C " + quoted(image) + " 34816 >/dev/null") == 0);
  // What goes wrong: a missing file, a file shorter than SIZE, a size of 0, a bad and an unknown
  // unit, more than 1024M, no SIZE, two.
  const std::vector<std::string> lines = {
      "bench fsread 1K",
      "bench fswrite 300K",
      "bench fsread 300K",
      "bench fsread 1M",
      "bench fsread 0",
      "bench fsread 12X",
      "bench fsread 2G",
      "bench fsread 1025M",
      "bench fswrite",
      "bench fsread 1K 2K",
      "sync",  // the volume marked clean for fsck
  };
  system_example::RunOptions options{.image_directory = UKERNEL_SYSTEM_IMAGE_DIR};
  options.disk = image;
  std::string transcript = system_example::run_script(options, lines);
  INFO(transcript);
  CHECK(first_missing(transcript,
                      {
                          "uk> bench fsread 1K",
                          "bench fsread: /bench.dat: not found",
                          "uk> bench fswrite 300K",
                          "bench fswrite: 307200 bytes of /bench.dat in 1 fs calls",
                          // hosted: no instruction counter, and it says so rather than print 0
                          "bench fswrite: no cycle counter on this back-end",
                          "uk> bench fsread 300K",
                          "bench fsread: 307200 bytes of /bench.dat in 1 fs calls",
                          "bench fsread: no cycle counter on this back-end",
                          "uk> bench fsread 1M",
                          "bench fsread: /bench.dat holds 307200 bytes, fewer than 1048576: run "
                          "bench fswrite 1048576 first",
                          "uk> bench fsread 0",
                          "usage: bench fsread SIZE (bytes, or with K or M; 1 to 1024M)",
                          "uk> bench fsread 12X",
                          "usage: bench fsread SIZE (bytes, or with K or M; 1 to 1024M)",
                          "uk> bench fsread 2G",
                          "usage: bench fsread SIZE (bytes, or with K or M; 1 to 1024M)",
                          "uk> bench fsread 1025M",
                          "usage: bench fsread SIZE (bytes, or with K or M; 1 to 1024M)",
                          "uk> bench fswrite",
                          "usage: bench fswrite SIZE (bytes, or with K or M; 1 to 1024M)",
                          "uk> bench fsread 1K 2K",
                          "usage: bench fsread SIZE (bytes, or with K or M; 1 to 1024M)",
                      }) == "");
  CHECK(transcript.find("fs_read_ticks_per_kib") == std::string::npos);
  // What fswrite wrote is on the disk, as mtools reads it: the shell's pattern.
  std::vector<std::byte> written;
  REQUIRE(mtools_read(image, "/bench.dat", written));
  REQUIRE(written.size() == 300 * 1024);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < written.size(); ++i) {
    if (written[i] != static_cast<std::byte>(i * 7 + i / 4096)) ++wrong;
  }
  CHECK(wrong == 0);
  std::string fsck_log;
  CHECK(fat_test::fsck_clean(fat_test::read_file(image), &fsck_log));
  INFO(fsck_log);
  std::remove(image.c_str());
}
