// Test support for the FAT32 library: a memory block device that can "crash" after its Nth
// write, images made with the Linux tools (mkfs.fat, mtools), and fsck.fat -n.
#pragma once

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "fat32/block_device.hpp"
#include "fat32/crc32.hpp"
#include "fat32/volume.hpp"

namespace fat_test {

using ukernel::fat32::BlockStatus;

// A device over bytes in memory. After crash_after writes (if set), every later write is
// dropped and crashed() turns true; fail_io makes every call report kIoError.
struct MemoryDevice {
  std::vector<std::byte> bytes;
  std::uint64_t writes = 0;
  std::uint64_t reads = 0;  // read requests that succeeded
  std::uint64_t crash_after = ~0ull;
  bool fail_io = false;
  std::uint64_t sectors_override = 0;

  bool crashed() const { return writes > crash_after; }
  std::uint64_t sector_count() const {
    return sectors_override != 0 ? sectors_override : bytes.size() / 512;
  }
  BlockStatus read(std::uint64_t lba, std::span<std::byte> out) {
    if (fail_io || (lba + out.size() / 512) > sector_count() ||
        lba * 512 + out.size() > bytes.size()) {
      return BlockStatus::kIoError;
    }
    std::memcpy(out.data(), bytes.data() + lba * 512, out.size());
    ++reads;
    return BlockStatus::kOk;
  }
  BlockStatus write(std::uint64_t lba, std::span<const std::byte> in) {
    if (fail_io || (lba + in.size() / 512) > sector_count() ||
        lba * 512 + in.size() > bytes.size()) {
      return BlockStatus::kIoError;
    }
    ++writes;
    if (crashed()) return BlockStatus::kOk;  // lost: the machine is "off"
    std::memcpy(bytes.data() + lba * 512, in.data(), in.size());
    return BlockStatus::kOk;
  }
  BlockStatus flush() { return fail_io ? BlockStatus::kIoError : BlockStatus::kOk; }
};
static_assert(ukernel::fat32::BlockDevice<MemoryDevice>);

inline std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/ukernel-fat-" + std::to_string(::getpid()) +
         "-" + name;
}

// A shell command's exit status. posix_spawn, not system(): fork() of a process with ASan's
// shadow memory costs about a second, posix_spawn's vfork-style clone does not.
inline int run(const std::string& command) {
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) !=
      0) {
    return -1;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::vector<std::byte> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::vector<std::byte> out(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  return out;
}

inline void write_file(const std::string& path, std::span<const std::byte> data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// A fresh FAT32 image of size_kib KiB made by mkfs.fat, as bytes.
inline std::vector<std::byte> make_image(std::size_t size_kib = 36 * 1024,
                                         const std::string& extra = "") {
  const std::string path = temp_path("mkfs.img");
  std::remove(path.c_str());
  const std::string cmd = "/usr/sbin/mkfs.fat -F 32 " + extra + " -C " + path + " " +
                          std::to_string(size_kib) + " >/dev/null";
  if (run(cmd) != 0) return {};
  auto bytes = read_file(path);
  std::remove(path.c_str());
  return bytes;
}

// fsck.fat -n on the bytes: true when it finds nothing to fix (its output goes to log).
inline bool fsck_clean(std::span<const std::byte> image, std::string* log = nullptr) {
  const std::string path = temp_path("fsck.img"), out = temp_path("fsck.log");
  write_file(path, image);
  const int status = run("/usr/sbin/fsck.fat -n " + path + " >" + out + " 2>&1");
  if (log != nullptr) {
    auto text = read_file(out);
    log->assign(reinterpret_cast<const char*>(text.data()), text.size());
  }
  std::remove(path.c_str());
  std::remove(out.c_str());
  return status == 0;
}

// Byte equality by memcmp: std::equal over std::byte is a slow loop under ASan.
inline bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

inline std::uint32_t crc_of(std::span<const std::byte> bytes) {
  return ukernel::fat32::crc32(bytes);
}

inline std::vector<std::byte> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::byte> out(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    b = static_cast<std::byte>(x & 0xFF);
  }
  return out;
}

// The whole file at path through the library.
inline bool read_all(ukernel::fat32::Volume& v, const std::string& path,
                     std::vector<std::byte>& out) {
  auto h = v.open(path, ukernel::fat32::OpenFlags::kRead);
  if (!h.ok()) return false;
  auto st = v.fstat(h.value);
  out.assign(st.value.size, std::byte{0});
  auto n = v.read(h.value, 0, out);
  const bool ok = n.ok() && n.value == out.size();
  return v.close(h.value) == ukernel::fat32::FsError::kOk && ok;
}

inline bool write_all(ukernel::fat32::Volume& v, const std::string& path,
                      std::span<const std::byte> data) {
  using ukernel::fat32::OpenFlags;
  auto h = v.open(path, OpenFlags::kWrite | OpenFlags::kCreate | OpenFlags::kTruncate);
  if (!h.ok()) return false;
  auto n = v.write(h.value, 0, data);
  const bool ok = data.empty() || (n.ok() && n.value == data.size());
  return v.close(h.value) == ukernel::fat32::FsError::kOk && ok;
}

}  // namespace fat_test
