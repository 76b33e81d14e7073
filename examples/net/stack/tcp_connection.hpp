// One TCP connection's state (RFC 9293's transmission control block) and its two buffers.
//
// The stack does not allocate: the caller gives it a span of these at construction, and that
// span is the connection limit (listening sockets live in a separate small table). A connection
// holds kTcpBufferSize bytes each way; the receive side keeps out-of-order bytes in place in the
// free part of its ring, with one bit per byte saying which have arrived, so reassembly needs no
// second buffer and never holds more than the window it advertised.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>

#include "stack/net_error.hpp"
#include "stack/wire_format.hpp"

namespace ukernel::net {

inline constexpr std::size_t kTcpBufferSize = 16 * 1024;
inline constexpr std::uint16_t kTcpOurMss = kMtu - kIpv4Header - kTcpHeader;  // 1460
inline constexpr std::uint16_t kTcpDefaultMss = 536;  // a peer that sends no MSS option (RFC 9293)

enum class TcpState : std::uint8_t {
  kClosed,
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};

// Sequence-number comparisons modulo 2^32 (RFC 9293 3.4).
constexpr bool seq_lt(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) < 0;
}
constexpr bool seq_le(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) <= 0;
}
constexpr bool seq_gt(std::uint32_t a, std::uint32_t b) {
  return seq_lt(b, a);
}
constexpr bool seq_ge(std::uint32_t a, std::uint32_t b) {
  return seq_le(b, a);
}

// Everything but the buffers, so that a slot is reset by assigning a fresh control block.
struct TcpControlBlock {
  // Ownership: a slot is used from SYN (or connect) until it is closed and nobody holds it.
  bool used = false;
  bool app_owned = false;   // connect() made it or accept() handed it out
  bool app_closed = false;  // the application called close(): free it once CLOSED
  std::uint16_t generation = 0;
  std::int32_t listener = -1;  // the listening socket a passive open came through
  std::uint64_t opened_ms = 0;

  TcpState state = TcpState::kClosed;
  NetError error = NetError::kOk;  // why it closed, if it closed abnormally
  Ipv4Address remote_ip = 0;
  std::uint16_t local_port = 0;
  std::uint16_t remote_port = 0;

  // Send sequence space (RFC 9293 3.3.1). snd_max is the highest sequence sent; snd_nxt goes
  // back to snd_una after a retransmission timeout (go-back-N; the receiver keeps what it had).
  std::uint32_t iss = 0, snd_una = 0, snd_nxt = 0, snd_max = 0;
  std::uint32_t snd_wnd = 0, snd_wl1 = 0, snd_wl2 = 0;
  std::uint16_t mss = kTcpDefaultMss;
  bool syn_acked = false;   // our SYN is acknowledged: the send buffer starts at snd_una
  bool fin_queued = false;  // close() was called: a FIN follows the buffered data
  bool fin_sent = false;
  std::uint32_t fin_seq = 0;  // our FIN's sequence number, once sent

  // Congestion control (RFC 5681) and fast retransmit.
  std::uint32_t cwnd = 0, ssthresh = 65535;
  std::uint32_t duplicate_acks = 0;
  bool in_recovery = false;

  // Retransmission timer (RFC 6298), in milliseconds. One segment is timed at a time, never a
  // retransmitted one (Karn's rule).
  bool rtt_valid = false, timing = false;
  std::uint32_t timed_seq = 0;
  std::uint64_t timed_at_ms = 0;
  std::uint32_t srtt_ms = 0, rttvar_ms = 0, rto_ms = 1000;
  std::uint64_t retransmit_at_ms = 0;  // 0: not armed
  std::uint32_t retries = 0;
  std::uint64_t persist_at_ms = 0;  // 0: not armed
  std::uint32_t persist_backoff = 0;
  std::uint64_t time_wait_until_ms = 0;

  // Receive sequence space.
  std::uint32_t irs = 0, rcv_nxt = 0;
  bool fin_received = false;
  bool out_of_order_fin = false;
  std::uint32_t out_of_order_fin_seq = 0;
  std::uint16_t advertised_window = 0;

  std::size_t send_start = 0, send_count = 0;
  std::size_t receive_start = 0, receive_count = 0;
};

struct TcpConnection : TcpControlBlock {
  // The send buffer holds bytes from the first unacknowledged data byte on; the receive buffer
  // the in-order bytes not yet read, then (in its free part) out-of-order bytes.
  std::array<std::byte, kTcpBufferSize> send_buffer{};
  std::array<std::byte, kTcpBufferSize> receive_buffer{};
  std::bitset<kTcpBufferSize> out_of_order{};
};

}  // namespace ukernel::net
