// Matching a scenario's transcript against scenario.expected, the same way for every back-end:
// the hosted Catch2 test (system_test.cpp) and scenario_check, which checks a serial log of a
// bare-metal run (tests/qemu: qemu.x86_64.system_scenario).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace system_example::transcript {

// The file's lines; without comments and empty lines if `skip_comments` (scenario.expected).
inline std::vector<std::string> read_lines(const std::string& path, bool skip_comments) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) {
    if (skip_comments && (line.empty() || line[0] == '#')) continue;
    lines.push_back(line);
  }
  return lines;
}

// Runs of spaces become one; no trailing space; no carriage returns (a serial console ends
// its lines with "\r\n").
inline std::string normalize(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\r' || (c == ' ' && (out.empty() || out.back() == ' '))) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

// The first expected line the transcript lacks (in order: a line matches a transcript line that
// contains it), or "" if it has them all.
inline std::string first_missing(const std::string& transcript,
                                 const std::vector<std::string>& expected) {
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

}  // namespace system_example::transcript
