// Device faults of the injection API (ukernel/hosted/faults.hpp: blkfail, blkdelay) through the
// whole example system: the shell's file commands on a FAT32 disk served by blk and fs. A block
// request the schedule fails reaches the user as an error of the command that needed it, never
// as wrong data; a delayed one only makes the command slower.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "hosted/disk.hpp"
#include "hosted/run_system.hpp"
#include "ukernel/hosted/faults.hpp"

namespace {

using ukernel::hosted::FaultSchedule;

std::string temp_image() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/ukernel-dst-blk-" +
         std::to_string(::getpid()) + ".img";
}

struct DiskRun {
  std::string transcript;
  std::string fault_log;
  unsigned requests = 0;  // block requests the model completed
  unsigned errors = 0;    // ... with an I/O error
};

// A fresh 17 MiB FAT32 image, the system on it, `lines` typed, with `schedule` (may be empty).
DiskRun run_on_disk(const std::vector<std::string>& lines, const std::string& schedule_text) {
  const std::string image = temp_image();
  std::remove(image.c_str());
  REQUIRE(std::system(("/usr/sbin/mkfs.fat -F 32 -C " + image + " 34816 >/dev/null").c_str()) == 0);
  auto schedule = FaultSchedule::parse(schedule_text);
  REQUIRE(schedule);
  DiskRun out;
  system_example::RunReport report;
  system_example::RunOptions options{.image_directory = UKERNEL_SYSTEM_IMAGE_DIR};
  options.disk = image;
  options.faults = &*schedule;
  options.report = &report;
  options.after_run = [&](system_example::HostedDisk& disk) {
    out.requests = disk.model().stats().requests;
    out.errors = disk.model().stats().errors;
  };
  out.transcript = system_example::run_script(options, lines);
  out.fault_log = report.fault_log;
  std::remove(image.c_str());
  return out;
}

// The lines the shell printed for `cat PATH`: between the typed command and the next prompt.
std::string cat_output(const std::string& transcript, const std::string& path) {
  std::size_t at = transcript.rfind("uk> cat " + path);
  if (at == std::string::npos) return "(no cat)";
  at = transcript.find('\n', at);
  std::size_t end = transcript.find("uk> ", at);
  return at == std::string::npos ? "" : transcript.substr(at + 1, end - at - 1);
}

}  // namespace

TEST_CASE("blkfail: a failed block request is an error of the command that needed it") {
  const std::vector<std::string> lines = {"write /a.txt first words",
                                          "sync",
                                          "write /b.txt second words",
                                          "sync",
                                          "cat /a.txt",
                                          "cat /b.txt"};
  // Without faults: how many requests the mount takes, and how many the commands add.
  DiskRun mount_only = run_on_disk({}, "");
  DiskRun plain = run_on_disk(lines, "");
  INFO(plain.transcript);
  REQUIRE(cat_output(plain.transcript, "/a.txt") == "first words\n");
  REQUIRE(cat_output(plain.transcript, "/b.txt") == "second words\n");
  REQUIRE(plain.errors == 0);
  REQUIRE(plain.requests > mount_only.requests + 4);

  // Each of a spread of the commands' requests fails in turn.
  unsigned seen_errors = 0;
  const unsigned first = mount_only.requests + 1, count = plain.requests - mount_only.requests;
  for (unsigned k = 0; k < 5; ++k) {
    const unsigned n = first + k * (count - 1) / 4;
    const std::string schedule = "blkfail@" + std::to_string(n);
    DiskRun r = run_on_disk(lines, schedule);
    INFO(schedule << "\n" << r.fault_log << r.transcript);
    CHECK(r.fault_log.ends_with("fail block request " + std::to_string(n) + "\n"));
    CHECK(r.errors == 1);  // the model failed exactly that one
    // The user sees the right text, or an error: cat's own ("cat: /a.txt: I/O error"), or
    // an empty file when the write that failed had said so ("write: /a.txt: I/O error");
    // never other text, and never an empty file after a write that printed no error.
    for (const auto& [path, text] :
         {std::pair{std::string("/a.txt"), std::string("first words\n")},
          std::pair{std::string("/b.txt"), std::string("second words\n")}}) {
      std::string got = cat_output(r.transcript, path);
      bool error = got.starts_with("cat: " + path + ":");
      bool write_failed = r.transcript.find("write: " + path + ":") != std::string::npos;
      CHECK((got == text || error || (got.empty() && write_failed)));
    }
    bool visible = r.transcript.find("I/O error") != std::string::npos;
    seen_errors += visible;
    // The system still serves: the last command was answered.
    CHECK(r.transcript.find("uk> cat /b.txt") != std::string::npos);
  }
  CHECK(seen_errors > 0);  // some failure reached the user as an error, not silence
}

TEST_CASE("blkdelay: a delayed block request makes the command slower, not wrong") {
  const std::vector<std::string> lines = {"write /a.txt delayed words", "sync", "cat /a.txt"};
  DiskRun mount_only = run_on_disk({}, "");
  const std::string schedule = "blkdelay@" + std::to_string(mount_only.requests + 1) + "+40000000";
  DiskRun r = run_on_disk(lines, schedule);
  INFO(r.fault_log << r.transcript);
  CHECK(r.fault_log.ends_with("delay block request " + std::to_string(mount_only.requests + 1) +
                              " by 40000000 ns\n"));
  CHECK(r.errors == 0);
  CHECK(cat_output(r.transcript, "/a.txt") == "delayed words\n");
}

TEST_CASE("device faults: their text form, and bad text refused") {
  auto schedule = FaultSchedule::parse("blkfail@3,blkdelay@4+500,netdrop@9");
  REQUIRE(schedule);
  CHECK(schedule->text() == "blkfail@3,blkdelay@4+500,netdrop@9");
  std::string error;
  CHECK(!FaultSchedule::parse("blkfail@0", &error));
  CHECK(error == "\"blkfail@0\": after '@' a number (from 1) is expected");
  CHECK(!FaultSchedule::parse("blkdelay@3", &error));
  CHECK(error == "\"blkdelay@3\": '+NANOSECONDS' is expected");
  CHECK(!FaultSchedule::parse("netdrop@3+5", &error));
  CHECK(error == "\"netdrop@3+5\": takes no '+'");
  CHECK(!FaultSchedule::parse("blkfail:fs@3", &error));
  CHECK(error == "\"blkfail:fs@3\": blkfail takes no target");
  CHECK(!FaultSchedule::parse("blkdrop@3", &error));
  CHECK(error.starts_with("unknown fault \"blkdrop\""));
}
