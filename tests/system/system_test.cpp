// The example system's scenario (scenario.txt, checked against scenario.expected: the same
// files for every back-end), here on the hosted back-end: once as is, and under 20 seeds with
// random preemption. Plus the boot-time check's message for a system that cannot start.
#include <catch2/catch.hpp>
#include <random>
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
  REQUIRE(kExpected.size() > kScript.size());  // an empty or unreadable file is no pass
  std::string transcript = system_example::run_script(options(), kScript);
  INFO(transcript);
  CHECK(first_missing(transcript, kExpected) == "");
}

TEST_CASE("the scenario under 20 seeds with random preemption") {
  REQUIRE(kExpected.size() > kScript.size());
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

TEST_CASE("the matcher: no expected lines is a failure; {N..M} checks a number's value") {
  using system_example::transcript::line_matches;
  CHECK(first_missing("anything\n", {}) != "");
  CHECK(first_missing("a\nb\n", {"a", "b"}) == "");
  CHECK(first_missing("b\na\n", {"a", "b"}) == "b");  // in order
  CHECK(line_matches("up 1.250 s", "up {0..9}.{0..999} s"));
  CHECK_FALSE(line_matches("up 12.250 s", "up {0..9}.{0..999} s"));
  CHECK_FALSE(line_matches("up x.250 s", "up {0..9}.{0..999} s"));
  CHECK_FALSE(line_matches("up 1.250 ms", "up {0..9}.{0..999} s"));
  CHECK(line_matches("round trip: 470 ns", "trip: {100..5000} ns"));
  CHECK_FALSE(line_matches("round trip: 99 ns", "trip: {100..5000} ns"));
  CHECK(line_matches("a {b} c", "{b}"));  // not a placeholder: ordinary text
}

// --- what a new user types ----------------------------------------------------------------------

namespace {

bool has_line(const std::string& transcript, const std::string& line) {
  return ("\n" + transcript).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("an over-long line is refused as a whole; nothing typed after it is lost") {
  std::string long_line = "echo " + std::string(4995, 'x');  // 5000 bytes
  std::string transcript = system_example::run_script(
      options(), {"echo before", long_line, "echo after-long", "ps", "echo last"});
  INFO(transcript);
  CHECK(first_missing(
            transcript,
            {"uk> echo before", "before", "line too long (5000 characters, at most 120): discarded",
             "uk> echo after-long", "after-long", "uk> ps", "shell running priority 50 restarts 0",
             "uk> echo last", "last"}) == "");
  CHECK(transcript.find("dropped") == std::string::npos);
  CHECK(transcript.find(std::string(121, 'x')) == std::string::npos);  // echoed up to the limit
  CHECK(transcript.find("uk> echo " + std::string(115, 'x') + "\n") != std::string::npos);
}

TEST_CASE("backspace in an over-long line: back under the limit, the line runs") {
  // 125 characters, then 6 backspaces: 119 remain, the line runs.
  std::string line = "echo " + std::string(120, 'y') + std::string(6, '\b');
  std::string transcript = system_example::run_script(options(), {line, "echo next"});
  INFO(transcript);
  CHECK(has_line(transcript, std::string(114, 'y')));
  CHECK(transcript.find("line too long") == std::string::npos);
  CHECK(first_missing(transcript, {"uk> echo next", "next"}) == "");
}

TEST_CASE("40 scripts of random input: every one still runs its last command") {
  std::mt19937_64 random(12);
  for (int script = 0; script < 40; ++script) {
    std::vector<std::string> lines;
    int count = int(random() % 4) + 1;
    for (int i = 0; i < count; ++i) {
      // Printable text, some of it a command's name, with backspaces, tabs, quotes and
      // control characters among it; one line in four up to 2,000 bytes long.
      std::size_t length = random() % 4 == 0 ? random() % 2000 : random() % 60;
      std::string line = random() % 2 == 0 ? "echo " : "";
      for (std::size_t j = 0; j < length; ++j) {
        unsigned pick = unsigned(random() % 100);
        line += pick < 3    ? '\b'
                : pick < 5  ? '"'
                : pick < 7  ? char(random() % 32)
                : pick < 15 ? ' '
                            : char(0x21 + random() % 94);
      }
      // No line ends early, and nothing that stops a server: the shell must reach the end.
      std::erase_if(line, [](char c) { return c == '\n' || c == '\r' || c == '\x04'; });
      lines.push_back(line);
    }
    std::string last = "echo last-of-" + std::to_string(script);
    lines.push_back(last);
    std::string transcript = system_example::run_script(options(), lines, 50'000'000);
    INFO("script " << script << "\n" << transcript);
    CHECK(has_line(transcript, "last-of-" + std::to_string(script)));
    CHECK(transcript.find("dropped") == std::string::npos);
  }
}

TEST_CASE("double quotes keep spaces in one argument; an unterminated quote is an error") {
  std::string transcript = system_example::run_script(
      options(),
      {R"(echo "two  spaces" and "one")", R"(echo a"b c"d "" e)",
       R"(echo "a \"quoted\" word" back\slash)", R"(echo "unterminated  x)",
       R"(crash "no such server")", R"(kill "hello" extra)", R"(sleep "5")", "echo after"});
  INFO(transcript);
  CHECK(has_line(transcript, "two  spaces and one"));
  CHECK(has_line(transcript, "ab cd  e"));  // "" is an empty word between two spaces
  CHECK(has_line(transcript, R"(a "quoted" word back\slash)"));
  CHECK(has_line(transcript,
                 "error: unterminated quote: a \" without its closing \"; nothing was run"));
  CHECK(has_line(transcript, "crash: no server named 'no such server'"));
  CHECK(has_line(transcript, "usage: kill SERVER"));
  CHECK(has_line(transcript, "slept 5 ms"));
  CHECK(has_line(transcript, "after"));
}
