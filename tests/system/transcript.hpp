// Matching a scenario's transcript against scenario.expected, the same way for every back-end:
// the hosted Catch2 test (system_test.cpp) and scenario_check, which checks a serial log of a
// bare-metal run (tests/qemu: qemu.x86_64.system_scenario).
//
// An expected line is text the transcript line must contain, where `{N..M}` stands for a decimal
// number from N to M (so `up {0..60}.{0..999} s` checks an uptime's value, not only its word).
#pragma once

#include <charconv>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
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

// The range of the placeholder `{N..M}` at the start of `pattern`, and its length; length 0 if
// there is none (the `{` is then an ordinary character).
struct Placeholder {
  std::uint64_t low = 0, high = 0;
  std::size_t length = 0;
};
inline Placeholder placeholder_at(std::string_view pattern) {
  Placeholder p;
  std::size_t dots = pattern.find("..");
  std::size_t close = pattern.find('}');
  if (pattern.empty() || pattern[0] != '{' || close == std::string_view::npos || dots > close)
    return p;
  const char* first = pattern.data();
  auto low = std::from_chars(first + 1, first + dots, p.low);
  auto high = std::from_chars(first + dots + 2, first + close, p.high);
  bool whole = low.ec == std::errc{} && low.ptr == first + dots && high.ec == std::errc{} &&
               high.ptr == first + close;
  if (whole) p.length = close + 1;
  return p;
}

// Whether `text` starts with `pattern` (its `{N..M}` numbers in range).
inline bool matches_at(std::string_view text, std::string_view pattern) {
  std::size_t t = 0;
  for (std::size_t p = 0; p < pattern.size();) {
    if (Placeholder number = placeholder_at(pattern.substr(p)); number.length != 0) {
      std::size_t digits = 0;
      std::uint64_t value = 0;
      while (t + digits < text.size() && text[t + digits] >= '0' && text[t + digits] <= '9' &&
             digits < 19)
        value = value * 10 + std::uint64_t(text[t + digits++] - '0');
      if (digits == 0 || value < number.low || value > number.high) return false;
      t += digits;
      p += number.length;
    } else {
      if (t == text.size() || text[t] != pattern[p]) return false;
      ++t, ++p;
    }
  }
  return true;
}

// Whether the transcript line `line` contains the expected line `want`.
inline bool line_matches(const std::string& line, const std::string& want) {
  if (want.find('{') == std::string::npos) return line.find(want) != std::string::npos;
  for (std::size_t at = 0; at <= line.size(); ++at) {
    if (matches_at(std::string_view(line).substr(at), want)) return true;
  }
  return false;
}

// The first expected line the transcript lacks (in order: a line matches a transcript line that
// contains it), or "" if it has them all. No expected lines at all is a mistake, not a pass.
inline std::string first_missing(const std::string& transcript,
                                 const std::vector<std::string>& expected) {
  if (expected.empty()) return "(no expected lines: the expected file is empty or unreadable)";
  std::istringstream in(transcript);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(normalize(line));
  std::size_t at = 0;
  for (const std::string& raw : expected) {
    std::string want = normalize(raw);
    while (at < lines.size() && !line_matches(lines[at], want))
      ++at;
    if (at == lines.size()) return raw;
    ++at;
  }
  return "";
}

}  // namespace system_example::transcript
