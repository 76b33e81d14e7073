// SipHash-2-4 (Aumasson and Bernstein, 2012): the keyed hash behind RFC 6528's initial sequence
// numbers. A 128-bit key the caller draws at boot makes the sequence space of one 4-tuple
// unpredictable to an off-path attacker; written from the paper's description.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ukernel::net {

using SipKey = std::array<std::uint8_t, 16>;

namespace detail {
constexpr std::uint64_t rotl(std::uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}
constexpr std::uint64_t le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}
struct SipState {
  std::uint64_t v0, v1, v2, v3;
  constexpr void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
};
}  // namespace detail

constexpr std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> data) {
  const std::uint64_t k0 = detail::le64(key.data());
  const std::uint64_t k1 = detail::le64(key.data() + 8);
  detail::SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                     k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
  const std::size_t whole = data.size() / 8 * 8;
  for (std::size_t i = 0; i < whole; i += 8) {
    const std::uint64_t m = detail::le64(data.data() + i);
    s.v3 ^= m;
    s.round();
    s.round();
    s.v0 ^= m;
  }
  std::uint64_t last = static_cast<std::uint64_t>(data.size() & 0xff) << 56;
  for (std::size_t i = 0; i < data.size() - whole; ++i) {
    last |= static_cast<std::uint64_t>(data[whole + i]) << (8 * i);
  }
  s.v3 ^= last;
  s.round();
  s.round();
  s.v0 ^= last;
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i)
    s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace ukernel::net
