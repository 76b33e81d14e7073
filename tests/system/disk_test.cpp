// The example system with a disk (ukernel-system --disk): the PCI server finds the virtio-blk
// function on the hosted ECAM host bridge, blk brings it up with MSI-X, and a crashed driver's
// function stops bus mastering before the driver is restarted. Without a disk blk says so once.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "hosted/disk.hpp"
#include "hosted/run_system.hpp"
#include "pci/rpc.hpp"
#include "transcript.hpp"

namespace {

using system_example::transcript::first_missing;

constexpr std::uint16_t kBusMaster = 4;

// A 1 MiB image (2048 sectors), removed at the end of the test.
struct TempImage {
  std::string path;
  TempImage() {
    char name[] = "/tmp/ukernel-disk-XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, 1 << 20) == 0);
    close(fd);
    path = name;
  }
  ~TempImage() { std::filesystem::remove(path); }
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("without a disk: pci finds no function, blk says so once, the system is up") {
  std::string transcript = system_example::run_script({.image_directory = UKERNEL_SYSTEM_IMAGE_DIR},
                                                      {"crash blk", "sleep 100", "ps"});
  INFO(transcript);
  CHECK(first_missing(transcript, {"pci: 0 functions", "blk: no disk", "system up: 9 servers",
                                   "crash: blk crashed", "blk running"}) == "");
  // Once per start: the boot and the restart after the crash.
  CHECK(count(transcript, "blk: no disk") == 2);
}

TEST_CASE("with a disk: blk comes up over MSI-X; crash blk turns bus mastering off first") {
  TempImage image;
  std::vector<std::uint16_t> commands;
  system_example::RunOptions options{.image_directory = UKERNEL_SYSTEM_IMAGE_DIR};
  options.disk = image.path;
  options.after_run = [&](system_example::HostedDisk& disk) {
    commands = disk.function().pci().command_writes();
    CHECK(disk.function().pci().msix_enabled());
  };
  std::string transcript = system_example::run_script(
      options, {"crash blk", "sleep 100", "crash pci", "sleep 100", "ps"});
  INFO(transcript);
  CHECK(first_missing(transcript,
                      {"pci: 1 functions", "blk: 2048 sectors, MSI-X", "system up: 9 servers",
                       "uk> crash blk", "pci: bus mastering off for blk's function",
                       "supervisor: blk faulted", "blk: 2048 sectors, MSI-X", "crash: blk crashed",
                       "uk> crash pci", "supervisor: pci faulted", "pci: 1 functions",
                       "crash: pci crashed", "pci running", "blk running"}) == "");
  // The command register: bus mastering on (first claim), off (the crash), on (the restarted
  // driver's claim).
  std::size_t on = 0;
  while (on < commands.size() && (commands[on] & kBusMaster) == 0)
    ++on;
  std::size_t off = on;
  while (off < commands.size() && (commands[off] & kBusMaster) != 0)
    ++off;
  std::size_t again = off;
  while (again < commands.size() && (commands[again] & kBusMaster) == 0)
    ++again;
  CHECK(on < commands.size());
  CHECK(off < commands.size());
  CHECK(again < commands.size());
}

TEST_CASE("a driver may not write its function's command register, BARs or ROM address") {
  STATIC_REQUIRE(pci::config_write_forbidden(0x04, 2));  // command
  STATIC_REQUIRE(pci::config_write_forbidden(0x04, 4));  // command and status
  STATIC_REQUIRE(pci::config_write_forbidden(0x05, 1));
  STATIC_REQUIRE(pci::config_write_forbidden(0x10, 4));   // BAR 0
  STATIC_REQUIRE(pci::config_write_forbidden(0x24, 4));   // BAR 5
  STATIC_REQUIRE(pci::config_write_forbidden(0x30, 4));   // expansion ROM
  STATIC_REQUIRE(!pci::config_write_forbidden(0x00, 4));  // (read-only IDs: the device ignores)
  STATIC_REQUIRE(!pci::config_write_forbidden(0x0c, 2));
  STATIC_REQUIRE(!pci::config_write_forbidden(0x28, 4));
  STATIC_REQUIRE(!pci::config_write_forbidden(0x40, 4));  // capabilities: MSI-X control
}
