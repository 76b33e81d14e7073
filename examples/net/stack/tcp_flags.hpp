// TCP header flags and the timing constants tcp.cpp and tcp_sockets.cpp share (internal to the
// stack library).
#pragma once

#include <cstdint>

namespace ukernel::net::tcp_flags {

inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
// How long a closed connection waits in FIN_WAIT_2 for a peer that never sends its FIN.
inline constexpr std::uint64_t kFinWait2TimeoutMs = 60'000;

}  // namespace ukernel::net::tcp_flags
