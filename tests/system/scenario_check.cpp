// scenario_check EXPECTED TRANSCRIPT: passes (status 0) if TRANSCRIPT, the serial log of a
// scenario run on a bare-metal back-end, has every line of EXPECTED (scenario.expected) in
// order, matched exactly as the hosted test matches its transcript (transcript.hpp).
#include <cstdio>
#include <fstream>
#include <sstream>

#include "transcript.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s EXPECTED TRANSCRIPT\n", argv[0]);
    return 2;
  }
  std::ifstream file(argv[2]);
  if (!file) {
    std::fprintf(stderr, "scenario_check: cannot read %s\n", argv[2]);
    return 2;
  }
  std::ostringstream transcript;
  transcript << file.rdbuf();
  auto expected = system_example::transcript::read_lines(argv[1], true);
  if (expected.empty()) {
    std::fprintf(stderr, "scenario_check: no expected lines in %s\n", argv[1]);
    return 2;
  }
  std::string missing = system_example::transcript::first_missing(transcript.str(), expected);
  if (!missing.empty()) {
    std::printf("FAIL: %s lacks (in order): %s\n", argv[2], missing.c_str());
    return 1;
  }
  std::printf("PASS: all %zu expected lines, in order\n", expected.size());
  return 0;
}
