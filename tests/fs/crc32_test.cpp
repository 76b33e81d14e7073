// CRC-32 against the vectors zlib.crc32 gives.
#include <catch2/catch.hpp>
#include <cstring>
#include <string_view>

#include "fat32/crc32.hpp"

using ukernel::fat32::crc32;
using ukernel::fat32::crc32_update;

namespace {
std::span<const std::byte> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
}  // namespace

TEST_CASE("crc32 matches zlib.crc32 on known vectors", "[fat32]") {
  CHECK(crc32(bytes_of("")) == 0u);
  CHECK(crc32(bytes_of("123456789")) == 0xCBF43926u);
  CHECK(crc32(bytes_of("The quick brown fox jumps over the lazy dog")) == 0x414FA339u);
  CHECK(crc32(bytes_of("a")) == 0xE8B7BE43u);
  static_assert(crc32(std::span<const std::byte>()) == 0);
}

TEST_CASE("crc32_update chains like zlib.crc32(data, crc)", "[fat32]") {
  const auto whole = crc32(bytes_of("hello, world"));
  CHECK(crc32_update(crc32(bytes_of("hello, ")), bytes_of("world")) == whole);
}
