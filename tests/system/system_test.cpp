// The example system's scenario (scenario.txt, checked against scenario.expected: the same
// files for every back-end), here on the hosted back-end: once as is, and under 20 seeds with
// random preemption. Plus the boot-time check's message for a system that cannot start.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "hosted/run_system.hpp"
#include "transcript.hpp"

namespace {

using system_example::transcript::first_missing;
using system_example::transcript::read_lines;

system_example::RunOptions options(std::uint64_t seed = 1, unsigned preempt_one_in = 0) {
  return {
      .image_directory = UKERNEL_SYSTEM_IMAGE_DIR, .seed = seed, .preempt_one_in = preempt_one_in};
}

const std::vector<std::string> kScript = read_lines(UKERNEL_SCENARIO_DIR "/scenario.txt", false);
const std::vector<std::string> kExpected =
    read_lines(UKERNEL_SCENARIO_DIR "/scenario.expected", true);

}  // namespace

TEST_CASE("the scenario: boot, every command, every server crashed and restarted") {
  REQUIRE(kScript.size() > 10);
  std::string transcript = system_example::run_script(options(), kScript);
  INFO(transcript);
  CHECK(first_missing(transcript, kExpected) == "");
}

TEST_CASE("the scenario under 20 seeds with random preemption") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    std::string transcript = system_example::run_script(options(seed, 4), kScript);
    INFO("seed " << seed << "\n" << transcript);
    CHECK(first_missing(transcript, kExpected) == "");
  }
}

TEST_CASE("a system whose images are missing stops at boot, naming the server") {
  system_example::RunOptions broken = options();
  broken.image_directory = "/nonexistent";
  std::string transcript = system_example::run_script(broken, {"ps"});
  INFO(transcript);
  CHECK(first_missing(transcript, {"system: cannot open image /nonexistent/system_names.so",
                                   "boot: server 'names': cannot load its image",
                                   "system: boot failed"}) == "");
  CHECK(transcript.find("system up") == std::string::npos);
}

TEST_CASE("poweroff: the hosted back-end has no power-off device (its run ends with its input)") {
  std::string transcript = system_example::run_script(options(), {"poweroff", "echo still up"});
  INFO(transcript);
  CHECK(first_missing(transcript, {"uk> poweroff", "poweroff: not on this back-end (error 13)",
                                   "uk> echo still up", "still up"}) == "");
  CHECK(transcript.find("system: power off") == std::string::npos);
}
