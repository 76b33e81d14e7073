// The example system's scenario (scenario.txt, checked against scenario.expected: the same
// files for every back-end), here on the hosted back-end: once as is, and under 20 seeds with
// random preemption. Plus the boot-time check's message for a system that cannot start.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "hosted/run_system.hpp"

namespace {

std::vector<std::string> read_lines(const std::string& path, bool skip_comments) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) {
    if (skip_comments && (line.empty() || line[0] == '#')) continue;
    lines.push_back(line);
  }
  return lines;
}

// Runs of spaces become one; no trailing space.
std::string normalize(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

// The first expected line the transcript lacks (in order), or "" if it has them all.
std::string first_missing(const std::string& transcript, const std::vector<std::string>& expected) {
  std::istringstream in(transcript);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(normalize(line));
  std::size_t at = 0;
  for (const std::string& raw : expected) {
    std::string want = normalize(raw);
    while (at < lines.size() && lines[at].find(want) == std::string::npos)
      ++at;
    if (at == lines.size()) return raw;
    ++at;
  }
  return "";
}

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
