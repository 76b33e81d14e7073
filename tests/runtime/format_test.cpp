// The freestanding formatter (bare metal) against fmt (hosted): the same text for the same
// format string and arguments, so log lines read the same on every back-end.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "ukernel/format.hpp"

namespace {

template <class... A>
std::string ours(std::string_view text, const A&... args) {
  char buffer[256];
  ukernel::format::Sink sink(buffer, sizeof buffer);
  ukernel::format::format_to(sink, text, args...);
  return std::string(buffer, sink.size() < sizeof buffer ? sink.size() : sizeof buffer);
}

#define SAME(text, ...) CHECK(ours(text, __VA_ARGS__) == fmt::format(text, __VA_ARGS__))

}  // namespace

TEST_CASE("format: integers in every base, width, fill, alignment, sign") {
  SAME("{}", 0);
  SAME("{} {} {}", -1, 42u, std::int64_t{INT64_MIN});
  SAME("{}", std::uint64_t{UINT64_MAX});
  SAME("{:x} {:X} {:#x} {:#X}", 255, 255, 255, 0xabcdefu);
  SAME("{:b} {:#b} {:o} {:#o}", 5, 5, 8, 8);
  SAME("{:08x}|{:#010x}|{:8}|{:<8}|{:^8}|{:>8}", 0xbeef, 0xbeef, 7, 7, 7, 7);
  SAME("{:*^9}|{:->6}|{:_<4}", 12, -3, 9);
  SAME("{:+} {:+} {:+}", 5, -5, 0);
  SAME("{:05}", -42);
  SAME("{:d}", std::int8_t{-7});
}

TEST_CASE("format: text, characters, booleans, escapes") {
  SAME("{} and {}", "text", std::string_view("view"));
  SAME("[{:>6}] [{:<6}] [{:^6}]", "ab", "ab", "ab");
  SAME("{} {}", 'x', true);
  SAME("{} {:>6}", false, true);
  SAME("{{}} {} {{", 1);
  SAME("no arguments {}", "");
}

TEST_CASE("format: bad format strings are written out, never crash") {
  CHECK(ours("{} {}", 1) == "1 {}");     // more fields than arguments
  CHECK(ours("{:q!}", 1) == "{:q!}");    // malformed spec
  CHECK(ours("open {", 1) == "open {");  // unterminated
  char tiny[4];
  ukernel::format::Sink sink(tiny, sizeof tiny);
  ukernel::format::format_to(sink, "{}", 123456);
  CHECK(sink.size() == 6);  // counted, not written past the buffer
  CHECK(std::string(tiny, 4) == "1234");
}
