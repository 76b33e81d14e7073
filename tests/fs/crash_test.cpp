// Crash consistency: a stream of creates, writes, truncates, renames, unlinks and fsyncs runs
// on a device that drops every write after its Nth; then mount repairs the image. Every file
// whose state was acknowledged durable (an fsync or close returned kOk before the crash) and
// not touched since reads back exactly, and fsck.fat -n finds nothing to fix.
#include <array>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "fs/fat_image.hpp"

using namespace ukernel::fat32;

namespace {

const char* const kNames[] = {"/a.txt", "/Long Name One.dat",
                              "/dir/b", "/dir/Another Long File.bin",
                              "/c",     "/dir/MiXeD case"};
using Files = std::map<std::string, std::vector<std::byte>>;
using Sector = std::array<std::byte, 512>;

// A copy-on-write device over one shared base image (copying 34 MiB per run under ASan would
// dominate the test): written sectors live in a map. Drops writes after crash_after of them.
struct OverlayDevice {
  const std::vector<std::byte>* base = nullptr;
  std::map<std::uint64_t, Sector> written;
  std::uint64_t writes = 0;
  std::uint64_t crash_after = ~0ull;

  bool crashed() const { return writes > crash_after; }
  std::uint64_t sector_count() const { return base->size() / 512; }
  BlockStatus read(std::uint64_t lba, std::span<std::byte> out) {
    if (lba + out.size() / 512 > sector_count()) return BlockStatus::kIoError;
    for (std::size_t i = 0; i < out.size() / 512; ++i) {
      auto it = written.find(lba + i);
      const std::byte* from =
          it != written.end() ? it->second.data() : base->data() + (lba + i) * 512;
      std::memcpy(out.data() + i * 512, from, 512);
    }
    return BlockStatus::kOk;
  }
  BlockStatus write(std::uint64_t lba, std::span<const std::byte> in) {
    if (lba + in.size() / 512 > sector_count()) return BlockStatus::kIoError;
    if (++writes > crash_after) return BlockStatus::kOk;
    for (std::size_t i = 0; i < in.size() / 512; ++i) {
      std::memcpy(written[lba + i].data(), in.data() + i * 512, 512);
    }
    return BlockStatus::kOk;
  }
  BlockStatus flush() { return BlockStatus::kOk; }
};

// fsck.fat -n on base + overlay: the base file is copied by cp, the overlay written into it.
bool fsck_overlay(const std::string& base_path, const OverlayDevice& d, std::string& log) {
  const std::string path = fat_test::temp_path("crash.img"), out = fat_test::temp_path("crash.log");
  if (fat_test::run("cp '" + base_path + "' '" + path + "'") != 0) return false;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    for (const auto& [lba, sector] : d.written) {
      f.seekp(static_cast<std::streamoff>(lba * 512));
      f.write(reinterpret_cast<const char*>(sector.data()), 512);
    }
  }
  const int status = fat_test::run("/usr/sbin/fsck.fat -n '" + path + "' >'" + out + "' 2>&1");
  const auto text = fat_test::read_file(out);
  log.assign(reinterpret_cast<const char*>(text.data()), text.size());
  std::remove(path.c_str());
  std::remove(out.c_str());
  return status == 0;
}

struct Outcome {
  Files durable;
  std::set<std::string> touched;  // changed since the last durable point
};

struct Rng {
  std::uint32_t x;
  std::uint32_t next(std::uint32_t bound) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    return x % bound;
  }
};

Outcome run_stream(OverlayDevice& device, std::uint32_t seed) {
  Outcome outcome;
  Files model;
  std::map<std::string, FileHandle> open;
  Volume v;
  REQUIRE(v.mount(device) == FsError::kOk);
  Rng rng{seed * 7919 + 13};
  const auto durable_point = [&](FsError e) {
    if (e == FsError::kOk && !device.crashed()) {
      outcome.durable = model;
      outcome.touched.clear();
    }
  };
  for (int step = 0; step < 40; ++step) {
    const std::string name = kNames[rng.next(6)];
    switch (rng.next(7)) {
      case 0:
      case 1: {  // write (append, overwrite or past the end)
        if (!open.count(name)) {
          auto h = v.open(name, OpenFlags::kRead | OpenFlags::kWrite | OpenFlags::kCreate);
          if (!h.ok()) break;
          open[name] = h.value;
          model[name];  // exists now
          outcome.touched.insert(name);
        }
        auto& content = model[name];
        const std::uint64_t offset = rng.next(static_cast<std::uint32_t>(content.size()) + 3000);
        const auto data =
            fat_test::pattern(1 + rng.next(6000), seed * 100 + static_cast<std::uint32_t>(step));
        outcome.touched.insert(name);
        if (v.write(open[name], offset, data).ok()) {
          if (content.size() < offset + data.size()) content.resize(offset + data.size());
          std::copy(data.begin(), data.end(), content.begin() + static_cast<long>(offset));
        }
        break;
      }
      case 2:
        if (open.count(name)) durable_point(v.fsync(open[name]));
        break;
      case 3:
        if (open.count(name)) {
          durable_point(v.close(open[name]));
          open.erase(name);
        }
        break;
      case 4: {
        const std::string to = kNames[rng.next(6)];
        if (open.count(name) || open.count(to) || !model.count(name)) break;
        outcome.touched.insert(name);
        outcome.touched.insert(to);
        if (v.rename(name, to) == FsError::kOk && name != to) {
          model[to] = model[name];
          model.erase(name);
        }
        break;
      }
      case 5:
        if (open.count(name) || !model.count(name)) break;
        outcome.touched.insert(name);
        if (v.unlink(name) == FsError::kOk) model.erase(name);
        break;
      case 6:
        if (open.count(name)) {
          const std::uint32_t size = rng.next(8000);
          outcome.touched.insert(name);
          if (v.truncate(open[name], size) == FsError::kOk) model[name].resize(size);
        }
        break;
    }
  }
  for (auto& [n, h] : open)
    durable_point(v.close(h));
  durable_point(v.unmount());
  return outcome;
}

void check_recovered(const std::string& base_path, OverlayDevice device, const Outcome& outcome,
                     const std::string& what) {
  INFO(what);
  device.writes = 0;
  device.crash_after = ~0ull;
  Volume v;
  REQUIRE(v.mount(device) == FsError::kOk);
  for (const char* name : kNames) {
    if (outcome.touched.count(name)) continue;
    INFO(name);
    auto it = outcome.durable.find(name);
    if (it == outcome.durable.end()) {
      CHECK(v.stat(name).error == FsError::kNotFound);
    } else {
      std::vector<std::byte> back;
      REQUIRE(fat_test::read_all(v, name, back));
      CHECK(back == it->second);
    }
  }
  REQUIRE(v.unmount() == FsError::kOk);
  std::string log;
  const bool clean = fsck_overlay(base_path, device, log);
  INFO(log);
  CHECK(clean);
}

}  // namespace

TEST_CASE("crash: every acknowledged write survives and fsck is clean after repair", "[fat32]") {
  fat_test::MemoryDevice made;
  made.bytes = fat_test::make_image(34 * 1024);
  REQUIRE(!made.bytes.empty());
  {
    Volume v;
    REQUIRE(v.mount(made) == FsError::kOk);
    REQUIRE(v.mkdir("/dir") == FsError::kOk);
    REQUIRE(v.unmount() == FsError::kOk);
  }
  const std::vector<std::byte> base = std::move(made.bytes);
  const std::string base_path = fat_test::temp_path("crash-base.img");
  fat_test::write_file(base_path, base);
  int runs = 0;
  for (std::uint32_t seed = 0; seed < 12; ++seed) {
    OverlayDevice dry;
    dry.base = &base;
    run_stream(dry, seed);
    const std::uint64_t total = dry.writes;
    for (std::uint64_t part = 1; part <= 5; ++part) {
      OverlayDevice device;
      device.base = &base;
      device.crash_after = total * part / 6 + seed % 5;
      const Outcome outcome = run_stream(device, seed);
      REQUIRE(device.crashed());
      check_recovered(base_path, device, outcome,
                      "seed " + std::to_string(seed) + " crash after write " +
                          std::to_string(device.crash_after) + " of " + std::to_string(total));
      ++runs;
      if (part == 3) {
        // A crash inside repair itself: the next mount repairs again.
        OverlayDevice again = device;
        again.writes = 0;
        again.crash_after = 2 + seed;
        Volume v;
        const FsError e = v.mount(again);
        CHECK((e == FsError::kOk || e == FsError::kIoError || e == FsError::kCorrupt));
        check_recovered(base_path, again, outcome,
                        "crash during repair, seed " + std::to_string(seed));
        ++runs;
      }
    }
  }
  std::remove(base_path.c_str());
  CHECK(runs >= 50);
}
