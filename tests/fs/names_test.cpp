// Long-name checks, short aliases and the LFN checksum.
#include <catch2/catch.hpp>
#include <string>

#include "fat32/names.hpp"

using namespace ukernel::fat32;

namespace {
std::string text(const ShortName& n) {
  return std::string(n.begin(), n.end());
}
}  // namespace

TEST_CASE("names: invalid names are refused", "[fat32]") {
  LongName n;
  for (const char* bad : {"", ".", "..", "a/b", "a:b", "a*", "q?", "tab\t", "end.", "end ",
                          "\xff\xfe", "\xc0\x80", "\xed\xa0\x80"}) {
    INFO(bad);
    CHECK(parse_name(bad, n) == FsError::kNameInvalid);
  }
  CHECK(parse_name(std::string(255, 'x'), n) == FsError::kOk);
  CHECK(parse_name(std::string(256, 'x'), n) == FsError::kNameInvalid);
  CHECK(parse_name("Grüße \xf0\x9f\x98\x80.txt", n) == FsError::kOk);
  CHECK(n.length == 12);  // the emoji is a surrogate pair
  char out[kMaxNameBytes];
  std::size_t len = 0;
  REQUIRE(utf16_to_utf8(n.units.data(), n.length, out, sizeof out, len));
  CHECK(std::string(out, len) == "Grüße \xf0\x9f\x98\x80.txt");
}

TEST_CASE("names: 8.3 names stand alone, others get a ~N alias", "[fat32]") {
  LongName n;
  ShortName s;
  REQUIRE(parse_name("README.TXT", n) == FsError::kOk);
  CHECK(exact_short_name(n, s));
  CHECK(text(s) == "README  TXT");
  REQUIRE(parse_name("readme.txt", n) == FsError::kOk);
  CHECK_FALSE(exact_short_name(n, s));
  REQUIRE(parse_name("My Long File Name.jpeg", n) == FsError::kOk);
  CHECK_FALSE(exact_short_name(n, s));
  CHECK(text(with_tail(alias_stem(n), 1)) == "MYLONG~1JPE");
  CHECK(text(with_tail(alias_stem(n), 12)) == "MYLON~12JPE");
  REQUIRE(parse_name(".bashrc", n) == FsError::kOk);
  CHECK(text(with_tail(alias_stem(n), 1)) == "BASHRC~1   ");
  REQUIRE(parse_name("a+b,c.tar.gz", n) == FsError::kOk);
  CHECK(text(with_tail(alias_stem(n), 1)) == "A_B_CT~1GZ ");
  CHECK(names_equal("Hello World.TXT", "hello world.txt"));
  CHECK_FALSE(names_equal("Grüße", "GRÜSSE"));
}

TEST_CASE("names: LFN checksum and short-name text", "[fat32]") {
  const ShortName s = {'R', 'E', 'A', 'D', 'M', 'E', ' ', ' ', 'T', 'X', 'T'};
  // The specification's rotate-right-and-add over the 11 bytes.
  std::uint8_t sum = 0;
  for (auto c : s)
    sum = static_cast<std::uint8_t>(((sum & 1) << 7) + (sum >> 1) + c);
  CHECK(lfn_checksum(s) == sum);
  char out[16];
  std::size_t len = 0;
  REQUIRE(short_name_text(s, 0, out, len));
  CHECK(std::string(out, len) == "README.TXT");
  REQUIRE(short_name_text(s, 0x18, out, len));
  CHECK(std::string(out, len) == "readme.txt");
  ShortName bad = s;
  bad[2] = '/';
  CHECK_FALSE(short_name_text(bad, 0, out, len));
}
