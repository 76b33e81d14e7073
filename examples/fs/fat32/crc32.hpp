// CRC-32 as zlib computes it (IEEE 802.3: reflected polynomial 0xEDB88320, initial value and final
// XOR 0xFFFFFFFF), so a file's crc32() equals Python's zlib.crc32 of the same bytes. Freestanding:
// the table is built at compile time. The shell's `sum PATH` and the tests use it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ukernel::fat32 {

namespace detail {
constexpr std::array<std::uint32_t, 256> make_crc32_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit)
      c = (c & 1u) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
inline constexpr std::array<std::uint32_t, 256> kCrc32Table = make_crc32_table();
}  // namespace detail

// Continues a CRC over more bytes: crc32_update(crc32_update(0, a), b) == crc32(a ++ b), with 0
// the CRC of no bytes (as zlib.crc32(b, crc) chains).
constexpr std::uint32_t crc32_update(std::uint32_t crc, std::span<const std::byte> bytes) {
  std::uint32_t c = ~crc;
  for (std::byte b : bytes)
    c = detail::kCrc32Table[(c ^ static_cast<std::uint8_t>(b)) & 0xFFu] ^ (c >> 8);
  return ~c;
}

constexpr std::uint32_t crc32(std::span<const std::byte> bytes) {
  return crc32_update(0, bytes);
}

}  // namespace ukernel::fat32
