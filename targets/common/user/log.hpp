// Console output for the bare-metal user programs (scenario and bench root tasks): text and numbers
// through kDebugWrite, one line per call so that a line is never split by other output.
#pragma once

#include <cstddef>
#include <string_view>

#include "ukernel/syscall.hpp"

namespace ukernel::user {

class Line {
 public:
  Line& operator<<(std::string_view text) {
    for (char c : text)
      put(c);
    return *this;
  }
  Line& operator<<(word number) {
    char digits[20];
    std::size_t n = 0;
    do {
      digits[n++] = char('0' + number % 10);
      number /= 10;
    } while (number != 0);
    while (n > 0)
      put(digits[--n]);
    return *this;
  }
  struct Hex {
    word value;
  };
  Line& operator<<(Hex number) {
    *this << "0x";
    bool started = false;
    for (int shift = 60; shift >= 0; shift -= 4) {
      auto digit = unsigned((number.value >> shift) & 15);
      if (digit == 0 && !started && shift != 0) continue;
      started = true;
      put("0123456789abcdef"[digit]);
    }
    return *this;
  }
  // Writes the line (with a newline) to the console.
  void end() {
    put('\n');
    (void)debug_write(std::string_view(text_, size_));
    size_ = 0;
  }

 private:
  void put(char c) {
    if (size_ < sizeof text_) text_[size_++] = c;
  }
  char text_[160];
  std::size_t size_ = 0;
};

inline Line::Hex hex(word value) {
  return Line::Hex{value};
}

// The bare-metal test images' checks (scenario, fpu, msix, grants, hostile): one line per check,
// "ok: GROUP: what" or "FAIL: GROUP: what", and a closing "GROUP: N of M checks passed", which the
// QEMU tests match. Zero-initialised, so that it can be a global without a constructor.
struct Checks {
  unsigned count;
  unsigned failures;

  void report(std::string_view group, bool ok, std::string_view what) {
    ++count;
    if (!ok) ++failures;
    Line line;
    line << (ok ? "ok: " : "FAIL: ") << group << ": " << what;
    line.end();
  }
  // Prints the summary line; returns the number of failed checks.
  unsigned summarise(std::string_view group) {
    Line line;
    line << group << ": " << word(count - failures) << " of " << word(count) << " checks passed";
    line.end();
    return failures;
  }
};

}  // namespace ukernel::user
