// Addresses, big-endian field access and the Internet checksum: the pieces every layer of the
// stack reads packets with. Fields are read from byte spans, never through casts to structs, so
// an unaligned or short packet can only fail a length check, not fault.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ukernel::net {

using MacAddress = std::array<std::uint8_t, 6>;
inline constexpr MacAddress kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// An IPv4 address in host order (10.0.2.15 is 0x0a00020f).
using Ipv4Address = std::uint32_t;
constexpr Ipv4Address ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return (Ipv4Address{a} << 24) | (Ipv4Address{b} << 16) | (Ipv4Address{c} << 8) | d;
}

inline std::uint16_t load16(std::span<const std::byte> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[at]) << 8) |
                                    std::to_integer<unsigned>(bytes[at + 1]));
}
inline std::uint32_t load32(std::span<const std::byte> bytes, std::size_t at) {
  return (std::uint32_t{load16(bytes, at)} << 16) | load16(bytes, at + 2);
}
inline void store16(std::span<std::byte> bytes, std::size_t at, std::uint16_t value) {
  bytes[at] = static_cast<std::byte>(value >> 8);
  bytes[at + 1] = static_cast<std::byte>(value & 0xff);
}
inline void store32(std::span<std::byte> bytes, std::size_t at, std::uint32_t value) {
  store16(bytes, at, static_cast<std::uint16_t>(value >> 16));
  store16(bytes, at + 2, static_cast<std::uint16_t>(value & 0xffff));
}
inline MacAddress load_mac(std::span<const std::byte> bytes, std::size_t at) {
  MacAddress mac{};
  for (std::size_t i = 0; i < mac.size(); ++i)
    mac[i] = std::to_integer<std::uint8_t>(bytes[at + i]);
  return mac;
}
inline void store_mac(std::span<std::byte> bytes, std::size_t at, const MacAddress& mac) {
  for (std::size_t i = 0; i < mac.size(); ++i)
    bytes[at + i] = static_cast<std::byte>(mac[i]);
}

// The RFC 1071 one's-complement sum, folded to 16 bits but not complemented, so that a
// pseudo-header and a payload can be summed separately and combined.
inline std::uint32_t checksum_add(std::uint32_t sum, std::span<const std::byte> bytes) {
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2)
    sum += load16(bytes, i);
  if (i < bytes.size()) sum += std::to_integer<std::uint32_t>(bytes[i]) << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}
inline std::uint16_t checksum_finish(std::uint32_t sum) {
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}
// The sum of the TCP/UDP pseudo-header (RFC 793 3.1, RFC 768).
inline std::uint32_t pseudo_header_sum(Ipv4Address source, Ipv4Address destination,
                                       std::uint8_t protocol, std::size_t length) {
  std::uint32_t sum = (source >> 16) + (source & 0xffff) + (destination >> 16) +
                      (destination & 0xffff) + protocol + static_cast<std::uint32_t>(length);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

// Frame layout constants (Ethernet II, IPv4 without options, TCP, UDP, ICMP).
inline constexpr std::size_t kEthernetHeader = 14;
inline constexpr std::size_t kMtu = 1500;
inline constexpr std::size_t kMaxFrame = kEthernetHeader + kMtu;
inline constexpr std::size_t kIpv4Header = 20;
inline constexpr std::size_t kUdpHeader = 8;
inline constexpr std::size_t kTcpHeader = 20;
inline constexpr std::size_t kIcmpHeader = 8;
inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;
inline constexpr std::uint8_t kProtocolIcmp = 1;
inline constexpr std::uint8_t kProtocolTcp = 6;
inline constexpr std::uint8_t kProtocolUdp = 17;

}  // namespace ukernel::net
