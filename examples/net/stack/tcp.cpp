// TCP (RFC 9293) for the stack (stack.hpp): the state machine, retransmission (RFC 6298),
// congestion control (RFC 5681: slow start, congestion avoidance, fast retransmit and Reno's
// fast recovery), flow control with a persist timer, MSS, reassembly, RFC 6528 initial sequence
// numbers and a bounded SYN queue.
//
// How it works. A received segment is checked (lengths, checksum, options, ports) before any
// connection is looked at; then it goes to its connection's state (tcp_input_*), which follows
// RFC 9293 3.10.7: the sequence-acceptability test, RST, SYN, ACK, then data and FIN. Sending is
// one function, tcp_output, which sends whatever the windows allow (go-back-N after a timeout:
// snd_nxt returns to snd_una, and the receiver keeps what it already had out of order). Every
// segment that carries data or a FIN is acknowledged at once (no delayed ACKs), which keeps the
// fast-retransmit signal prompt and the traces simple. Lookups are linear over the pool, which
// is fine for the few hundred connections a server's pool holds.
#include <algorithm>
#include <utility>

#include "stack/stack.hpp"
#include "stack/tcp_flags.hpp"

namespace ukernel::net {

using namespace tcp_flags;

namespace {

constexpr std::uint8_t kOptionEnd = 0;
constexpr std::uint8_t kOptionNop = 1;
constexpr std::uint8_t kOptionMss = 2;
constexpr std::array<std::uint16_t, 4> kCookieMss{536, 1220, 1440, kTcpOurMss};
constexpr std::uint64_t kCookiePeriodMs = 64'000;

std::uint32_t data_seq(const TcpConnection& c) {
  return c.syn_acked ? c.snd_una : c.iss + 1;
}

bool is_synchronized_sender(TcpState state) {
  return state == TcpState::kEstablished || state == TcpState::kCloseWait ||
         state == TcpState::kFinWait1 || state == TcpState::kClosing || state == TcpState::kLastAck;
}

bool receives_data(TcpState state) {
  return state == TcpState::kEstablished || state == TcpState::kFinWait1 ||
         state == TcpState::kFinWait2;
}

}  // namespace

std::uint32_t Stack::Segment::length() const {
  return static_cast<std::uint32_t>(data.size()) + ((flags & kSyn) != 0 ? 1u : 0u) +
         ((flags & kFin) != 0 ? 1u : 0u);
}

std::uint32_t Stack::tcp_isn(Ipv4Address remote, std::uint16_t local_port,
                             std::uint16_t remote_port, std::uint64_t now_ms) const {
  // RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock.
  std::array<std::uint8_t, 12> tuple{};
  const std::uint32_t local = config_.address;
  for (int i = 0; i < 4; ++i) {
    tuple[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(local >> (24 - 8 * i));
    tuple[static_cast<std::size_t>(4 + i)] = static_cast<std::uint8_t>(remote >> (24 - 8 * i));
  }
  tuple[8] = static_cast<std::uint8_t>(local_port >> 8);
  tuple[9] = static_cast<std::uint8_t>(local_port & 0xff);
  tuple[10] = static_cast<std::uint8_t>(remote_port >> 8);
  tuple[11] = static_cast<std::uint8_t>(remote_port & 0xff);
  const auto hash = static_cast<std::uint32_t>(siphash24(config_.isn_key, tuple));
  return hash + static_cast<std::uint32_t>(now_ms * 250);
}

std::uint16_t Stack::tcp_receive_window(const TcpConnection& c) const {
  return static_cast<std::uint16_t>(
      std::min<std::size_t>(kTcpBufferSize - c.receive_count, 0xffff));
}

TcpSocket Stack::tcp_handle(const TcpConnection& c) const {
  const auto index = static_cast<std::uint32_t>(&c - connections_.data());
  return TcpSocket{(std::uint32_t{c.generation} << 16) | index};
}

TcpConnection* Stack::tcp_lookup(TcpSocket socket) {
  return const_cast<TcpConnection*>(std::as_const(*this).tcp_lookup(socket));
}

const TcpConnection* Stack::tcp_lookup(TcpSocket socket) const {
  const std::size_t index = socket.id & 0xffff;
  if (index >= connections_.size()) return nullptr;
  const auto& c = connections_[index];
  if (!c.used || !c.app_owned || c.app_closed || c.generation != (socket.id >> 16)) return nullptr;
  return &c;
}

const TcpConnection* Stack::tcp_connection(TcpSocket socket) const {
  return tcp_lookup(socket);
}

TcpConnection* Stack::tcp_find(Ipv4Address remote, std::uint16_t remote_port,
                               std::uint16_t local_port) {
  for (auto& c : connections_) {
    if (c.used && c.state != TcpState::kClosed && c.remote_ip == remote &&
        c.remote_port == remote_port && c.local_port == local_port) {
      return &c;
    }
  }
  return nullptr;
}

std::size_t Stack::tcp_connections_in_use() const {
  return static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(),
                                                [](const TcpConnection& c) { return c.used; }));
}

bool Stack::tcp_port_in_use(std::uint16_t port) const {
  for (const auto& l : listeners_) {
    if (l.used && l.port == port) return true;
  }
  return std::any_of(connections_.begin(), connections_.end(),
                     [port](const TcpConnection& c) { return c.used && c.local_port == port; });
}

TcpConnection* Stack::tcp_allocate(std::int32_t for_listener) {
  TcpConnection* slot = nullptr;
  for (auto& c : connections_) {
    if (!c.used) {
      slot = &c;
      break;
    }
  }
  // A full pool gives up, in order: the oldest half-open connection (for a new SYN only: a SYN
  // flood then costs legitimate clients at most a retransmitted SYN), the oldest TIME_WAIT.
  auto oldest = [&](TcpState state) {
    TcpConnection* found = nullptr;
    for (auto& c : connections_) {
      if (c.used && c.state == state && !c.app_owned &&
          (found == nullptr || c.opened_ms < found->opened_ms)) {
        found = &c;
      }
    }
    return found;
  };
  if (slot == nullptr && for_listener >= 0) {
    slot = oldest(TcpState::kSynReceived);
    if (slot != nullptr) ++counters_.tcp_syn_queue_evicted;
  }
  if (slot == nullptr) {
    for (auto& c : connections_) {
      if (c.used && c.state == TcpState::kTimeWait &&
          (slot == nullptr || c.time_wait_until_ms < slot->time_wait_until_ms)) {
        slot = &c;
      }
    }
  }
  if (slot == nullptr) return nullptr;
  const auto generation = static_cast<std::uint16_t>(slot->generation + 1);
  static_cast<TcpControlBlock&>(*slot) = TcpControlBlock{};
  slot->out_of_order.reset();
  slot->used = true;
  slot->generation = generation;
  slot->listener = for_listener;
  slot->opened_ms = now_ms_;
  return slot;
}

void Stack::tcp_release_if_done(TcpConnection& c) {
  if (c.state == TcpState::kClosed && (c.app_closed || !c.app_owned)) c.used = false;
}

void Stack::tcp_enter_closed(TcpConnection& c, NetError why) {
  c.state = TcpState::kClosed;
  c.error = why;
  c.retransmit_at_ms = 0;
  c.persist_at_ms = 0;
  c.time_wait_until_ms = 0;
  tcp_release_if_done(c);
}

void Stack::tcp_enter_time_wait(TcpConnection& c, std::uint64_t now_ms) {
  c.state = TcpState::kTimeWait;
  c.retransmit_at_ms = 0;
  c.persist_at_ms = 0;
  c.time_wait_until_ms = now_ms + kTcpTimeWaitMs;
}

void Stack::tcp_established(TcpConnection& c) {
  c.state = TcpState::kEstablished;
  ++counters_.tcp_connections_opened;
  // RFC 5681 (3.1): the initial window, and an arbitrarily high slow-start threshold.
  c.cwnd = std::min<std::uint32_t>(4u * c.mss, std::max<std::uint32_t>(2u * c.mss, 4380));
  c.ssthresh = 1u << 30;
}

void Stack::tcp_update_rtt(TcpConnection& c, std::uint32_t sample_ms) {
  // RFC 6298 (2.2, 2.3) with alpha = 1/8, beta = 1/4, a 1 ms clock granularity.
  if (!c.rtt_valid) {
    c.srtt_ms = sample_ms;
    c.rttvar_ms = sample_ms / 2;
    c.rtt_valid = true;
  } else {
    const std::uint32_t delta =
        c.srtt_ms > sample_ms ? c.srtt_ms - sample_ms : sample_ms - c.srtt_ms;
    c.rttvar_ms = (3 * c.rttvar_ms + delta) / 4;
    c.srtt_ms = (7 * c.srtt_ms + sample_ms) / 8;
  }
  c.rto_ms = std::clamp(c.srtt_ms + std::max(1u, 4 * c.rttvar_ms), kTcpMinRtoMs, kTcpMaxRtoMs);
}

// ---- sending ----

void Stack::tcp_send_segment(TcpConnection& c, std::uint32_t seq, std::uint8_t flags,
                             std::size_t data_offset, std::size_t length, std::uint64_t now_ms) {
  const std::size_t header = kTcpHeader + ((flags & kSyn) != 0 ? 4 : 0);
  auto segment = ip_payload().first(header + length);
  store16(segment, 0, c.local_port);
  store16(segment, 2, c.remote_port);
  store32(segment, 4, seq);
  store32(segment, 8, (flags & kAck) != 0 ? c.rcv_nxt : 0);
  segment[12] = static_cast<std::byte>((header / 4) << 4);
  segment[13] = static_cast<std::byte>(flags);
  const std::uint16_t window = tcp_receive_window(c);
  store16(segment, 14, window);
  store16(segment, 16, 0);
  store16(segment, 18, 0);
  if ((flags & kSyn) != 0) {
    segment[20] = std::byte{kOptionMss};
    segment[21] = std::byte{4};
    store16(segment, 22, kTcpOurMss);
  }
  for (std::size_t i = 0; i < length; ++i) {
    segment[header + i] = c.send_buffer[(c.send_start + data_offset + i) % kTcpBufferSize];
  }
  const std::span<const std::byte> whole = segment;
  store16(segment, 16,
          checksum_finish(checksum_add(
              pseudo_header_sum(config_.address, c.remote_ip, kProtocolTcp, whole.size()), whole)));
  c.advertised_window = window;
  ++counters_.tcp_segments_sent;
  (void)ip_send(c.remote_ip, kProtocolTcp, whole.size(),
                now_ms);  // a lost segment is retransmitted
}

void Stack::tcp_send_ack(TcpConnection& c, std::uint64_t now_ms) {
  // A pure ACK carries snd_max, not snd_nxt: after a timeout snd_nxt is back at snd_una, and a
  // sequence number the peer has already passed would make the peer drop it as out of window.
  tcp_send_segment(c, c.snd_max, kAck, 0, 0, now_ms);
}

void Stack::tcp_send_stateless(Ipv4Address to, std::uint16_t local_port, std::uint16_t remote_port,
                               std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                               std::uint16_t mss, std::uint64_t now_ms) {
  const std::size_t header = kTcpHeader + (mss != 0 ? 4 : 0);
  auto segment = ip_payload().first(header);
  store16(segment, 0, local_port);
  store16(segment, 2, remote_port);
  store32(segment, 4, seq);
  store32(segment, 8, ack);
  segment[12] = static_cast<std::byte>((header / 4) << 4);
  segment[13] = static_cast<std::byte>(flags);
  store16(segment, 14, (flags & kRst) != 0 ? 0 : static_cast<std::uint16_t>(kTcpBufferSize));
  store16(segment, 16, 0);
  store16(segment, 18, 0);
  if (mss != 0) {
    segment[20] = std::byte{kOptionMss};
    segment[21] = std::byte{4};
    store16(segment, 22, mss);
  }
  const std::span<const std::byte> whole = segment;
  store16(segment, 16,
          checksum_finish(
              checksum_add(pseudo_header_sum(config_.address, to, kProtocolTcp, header), whole)));
  ++counters_.tcp_segments_sent;
  (void)ip_send(to, kProtocolTcp, header, now_ms);
}

void Stack::tcp_send_reset(const Segment& to, std::uint64_t now_ms) {
  // RFC 9293 3.10.7.1: answer with the sequence the segment acknowledged, or acknowledge it.
  const bool has_ack = (to.flags & kAck) != 0;
  ++counters_.tcp_resets_sent;
  tcp_send_stateless(to.source, to.destination_port, to.source_port, has_ack ? to.ack : 0,
                     has_ack ? 0 : to.seq + to.length(), has_ack ? kRst : kRst | kAck, 0, now_ms);
}

std::uint32_t Stack::tcp_cookie(const Segment& s, std::uint32_t client_isn, std::uint64_t period,
                                std::uint32_t mss_index) const {
  // A SYN cookie (RFC 4987 3.6): 5 bits of a 64-second period, 2 bits naming the MSS, and 25
  // bits of a keyed hash of the 4-tuple, the client's ISN and the period.
  std::array<std::uint8_t, 24> input{};
  const std::uint64_t fields[] = {
      (std::uint64_t{config_.address} << 32) | s.source,
      (std::uint64_t{s.destination_port} << 48) | (std::uint64_t{s.source_port} << 32) | client_isn,
      (period << 8) | 0xc0};  // 0xc0: not an ISN hash input
  for (std::size_t i = 0; i < 24; ++i) {
    input[i] = static_cast<std::uint8_t>(fields[i / 8] >> (8 * (i % 8)));
  }
  const auto hash = static_cast<std::uint32_t>(siphash24(config_.isn_key, input));
  return (static_cast<std::uint32_t>(period & 31) << 27) | ((mss_index & 3) << 25) |
         (hash & 0x1ffffff);
}

void Stack::tcp_output(TcpConnection& c, std::uint64_t now_ms) {
  if (c.state == TcpState::kSynSent || c.state == TcpState::kSynReceived) {
    if (c.snd_nxt == c.iss) {
      const bool first = c.snd_max == c.iss;
      tcp_send_segment(c, c.iss, c.state == TcpState::kSynSent ? kSyn : kSyn | kAck, 0, 0, now_ms);
      c.snd_nxt = c.iss + 1;
      c.snd_max = c.iss + 1;
      if (first && !c.timing) {
        c.timing = true;
        c.timed_seq = c.snd_nxt;
        c.timed_at_ms = now_ms;
      }
      if (c.retransmit_at_ms == 0) c.retransmit_at_ms = now_ms + c.rto_ms;
    }
    return;
  }
  if (!is_synchronized_sender(c.state)) return;
  for (;;) {
    const std::uint32_t start = data_seq(c);
    const std::uint32_t end = start + static_cast<std::uint32_t>(c.send_count);
    if (seq_lt(c.snd_nxt, start)) c.snd_nxt = start;
    const std::uint32_t in_flight = c.snd_nxt - c.snd_una;
    const std::uint32_t window = std::min(c.snd_wnd, c.cwnd);
    const std::uint32_t seq = c.snd_nxt;
    std::uint32_t sent = 0;
    if (seq_lt(seq, end)) {
      const std::uint32_t unsent = end - seq;
      const std::uint32_t usable = window > in_flight ? window - in_flight : 0;
      const std::uint32_t length = std::min({unsent, std::uint32_t{c.mss}, usable});
      // Sender silly-window avoidance (RFC 9293 3.8.6.2.1): no small segment while data is in
      // flight, unless it is the last of the buffer.
      if (length == 0 || (length < c.mss && length < unsent && in_flight > 0)) break;
      std::uint8_t flags = kAck;
      if (length == unsent) flags |= kPsh;
      const bool fin = c.fin_queued && length == unsent;
      if (fin) flags |= kFin;
      tcp_send_segment(c, seq, flags, seq - start, length, now_ms);
      sent = length + (fin ? 1 : 0);
      if (fin) {
        c.fin_sent = true;
        c.fin_seq = end;
      }
    } else if (c.fin_queued && seq == end) {
      tcp_send_segment(c, seq, kFin | kAck, 0, 0, now_ms);
      sent = 1;
      c.fin_sent = true;
      c.fin_seq = end;
    } else {
      break;
    }
    if (seq_lt(seq, c.snd_max)) ++counters_.tcp_retransmitted_segments;
    const bool new_data = seq_ge(seq, c.snd_max);
    c.snd_nxt = seq + sent;
    if (seq_gt(c.snd_nxt, c.snd_max)) c.snd_max = c.snd_nxt;
    if (new_data && !c.timing) {
      c.timing = true;
      c.timed_seq = c.snd_nxt;
      c.timed_at_ms = now_ms;
    }
    if (c.retransmit_at_ms == 0) c.retransmit_at_ms = now_ms + c.rto_ms;
    c.persist_at_ms = 0;
  }
  // A zero window with data waiting and nothing in flight: probe it (RFC 9293 3.8.6.1).
  const std::uint32_t end = data_seq(c) + static_cast<std::uint32_t>(c.send_count);
  if (c.snd_wnd == 0 && seq_lt(c.snd_nxt, end) && c.snd_nxt == c.snd_una &&
      c.retransmit_at_ms == 0 && c.persist_at_ms == 0) {
    c.persist_at_ms = now_ms + std::min<std::uint64_t>(std::uint64_t{c.rto_ms} << c.persist_backoff,
                                                       kTcpMaxRtoMs);
  }
}

// ---- timers ----

std::uint64_t Stack::next_deadline() const {
  std::uint64_t deadline = arp_.next_deadline();
  auto consider = [&](std::uint64_t at) {
    if (at != 0 && (deadline == 0 || at < deadline)) deadline = at;
  };
  for (const auto& c : connections_) {
    if (!c.used) continue;
    consider(c.retransmit_at_ms);
    consider(c.persist_at_ms);
    consider(c.time_wait_until_ms);
  }
  return deadline;
}

void Stack::tcp_timers(TcpConnection& c, std::uint64_t now_ms) {
  if (c.time_wait_until_ms != 0 && now_ms >= c.time_wait_until_ms) {
    if (c.state == TcpState::kFinWait2) ++counters_.tcp_connections_timed_out;
    tcp_enter_closed(c, c.state == TcpState::kTimeWait ? NetError::kOk : NetError::kTimedOut);
    return;
  }
  if (c.retransmit_at_ms != 0 && now_ms >= c.retransmit_at_ms) {
    tcp_retransmit_timeout(c, now_ms);
    return;
  }
  if (c.persist_at_ms != 0 && now_ms >= c.persist_at_ms) {
    // A one-byte probe past the zero window; its acknowledgement carries the window.
    ++counters_.tcp_persist_probes;
    c.snd_nxt = c.snd_una;
    tcp_send_segment(c, c.snd_una, kAck, c.snd_una - data_seq(c), 1, now_ms);
    c.snd_nxt = c.snd_una + 1;
    if (seq_gt(c.snd_nxt, c.snd_max)) c.snd_max = c.snd_nxt;
    if (c.persist_backoff < 6) ++c.persist_backoff;
    c.persist_at_ms = now_ms + std::min<std::uint64_t>(std::uint64_t{c.rto_ms} << c.persist_backoff,
                                                       kTcpMaxRtoMs);
  }
}

void Stack::tcp_retransmit_timeout(TcpConnection& c, std::uint64_t now_ms) {
  ++counters_.tcp_retransmit_timeouts;
  ++c.retries;
  c.retransmit_at_ms = 0;
  const bool opening = c.state == TcpState::kSynSent || c.state == TcpState::kSynReceived;
  if (c.retries > (opening ? kTcpMaxSynRetries : kTcpMaxRetries)) {
    ++counters_.tcp_connections_timed_out;
    tcp_enter_closed(c, NetError::kTimedOut);
    return;
  }
  // RFC 5681 (3.1, equation 4) and RFC 6298 (5.5-5.7): halve, restart from one segment, back
  // off the timer, and stop timing (Karn).
  const std::uint32_t flight = c.snd_max - c.snd_una;
  c.ssthresh = std::max(flight / 2, 2u * c.mss);
  c.cwnd = c.mss;
  c.in_recovery = false;
  c.duplicate_acks = 0;
  c.rto_ms = std::min(c.rto_ms * 2, kTcpMaxRtoMs);
  c.timing = false;
  c.snd_nxt = opening ? c.iss : c.snd_una;
  tcp_output(c, now_ms);
}

// ---- receiving ----

void Stack::tcp_input(const IpPacket& packet, std::uint64_t now_ms) {
  const auto bytes = packet.payload;
  if (bytes.size() < kTcpHeader) {
    ++counters_.tcp_dropped_short;
    return;
  }
  const std::size_t offset = (std::to_integer<std::size_t>(bytes[12]) >> 4) * 4;
  if (offset < kTcpHeader || offset > bytes.size()) {
    ++counters_.tcp_dropped_offset;
    return;
  }
  if (checksum_finish(checksum_add(
          pseudo_header_sum(packet.source, packet.destination, kProtocolTcp, bytes.size()),
          bytes)) != 0) {
    ++counters_.tcp_dropped_checksum;
    return;
  }
  Segment s;
  for (std::size_t at = kTcpHeader; at < offset;) {
    const auto kind = std::to_integer<std::uint8_t>(bytes[at]);
    if (kind == kOptionEnd) break;
    if (kind == kOptionNop) {
      ++at;
      continue;
    }
    if (at + 1 >= offset) {
      ++counters_.tcp_dropped_options;
      return;
    }
    const std::size_t length = std::to_integer<std::size_t>(bytes[at + 1]);
    if (length < 2 || at + length > offset || (kind == kOptionMss && length != 4)) {
      ++counters_.tcp_dropped_options;
      return;
    }
    if (kind == kOptionMss) s.mss = load16(bytes, at + 2);
    at += length;
  }
  s.source = packet.source;
  s.source_port = load16(bytes, 0);
  s.destination_port = load16(bytes, 2);
  s.seq = load32(bytes, 4);
  s.ack = load32(bytes, 8);
  s.flags = static_cast<std::uint8_t>(std::to_integer<unsigned>(bytes[13]) & 0x3f);
  s.window = load16(bytes, 14);
  s.data = bytes.subspan(offset);
  if (s.source_port == 0 || s.destination_port == 0) {
    ++counters_.tcp_dropped_bad_address;
    return;
  }
  if ((s.flags & kSyn) != 0 && (s.flags & (kFin | kRst)) != 0) {
    ++counters_.tcp_dropped_invalid;  // no state accepts SYN with FIN or RST
    return;
  }
  if ((s.flags & kSyn) != 0 && s.mss == 0) s.mss = kTcpDefaultMss;
  ++counters_.tcp_segments_received;

  if (TcpConnection* c = tcp_find(s.source, s.source_port, s.destination_port)) {
    if (c->state == TcpState::kSynSent) {
      tcp_input_syn_sent(*c, s, now_ms);
    } else {
      tcp_input_synchronized(*c, s, now_ms);
    }
    return;
  }
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    if (listeners_[i].used && listeners_[i].port == s.destination_port) {
      tcp_input_listen(static_cast<std::int32_t>(i), s, now_ms);
      return;
    }
  }
  ++counters_.tcp_dropped_no_connection;
  if ((s.flags & kRst) == 0) tcp_send_reset(s, now_ms);
}

void Stack::tcp_input_listen(std::int32_t listener, const Segment& s, std::uint64_t now_ms) {
  if ((s.flags & kRst) != 0) {
    ++counters_.tcp_dropped_invalid;
    return;
  }
  if ((s.flags & (kAck | kSyn)) == kAck) {
    tcp_input_cookie(listener, s, now_ms);
    return;
  }
  if ((s.flags & kSyn) == 0 || (s.flags & kAck) != 0) {
    ++counters_.tcp_dropped_invalid;
    if ((s.flags & kAck) != 0) tcp_send_reset(s, now_ms);
    return;
  }
  // The listener's backlog bounds its half-open plus unaccepted connections. A full backlog
  // answers with a SYN cookie and keeps no state: a SYN flood fills nothing, and a real client's
  // ACK brings the connection back (tcp_input_cookie).
  std::uint32_t pending = 0;
  for (const auto& c : connections_) {
    if (c.used && c.listener == listener && !c.app_owned) ++pending;
  }
  if (pending >= listeners_[static_cast<std::size_t>(listener)].backlog) {
    std::uint32_t mss_index = 0;
    while (mss_index + 1 < kCookieMss.size() && kCookieMss[mss_index + 1] <= s.mss)
      ++mss_index;
    const std::uint32_t cookie = tcp_cookie(s, s.seq, now_ms / kCookiePeriodMs, mss_index);
    ++counters_.tcp_syn_cookies_sent;
    tcp_send_stateless(s.source, s.destination_port, s.source_port, cookie, s.seq + 1, kSyn | kAck,
                       kTcpOurMss, now_ms);
    return;
  }
  if (TcpConnection* c = tcp_allocate(listener)) {
    tcp_accept_syn(*c, s, now_ms);
  } else {
    ++counters_.tcp_syn_dropped;
  }
}

bool Stack::tcp_make_room(std::int32_t listener) {
  // A connection completed by a cookie may take the place of the oldest half-open one.
  std::uint32_t pending = 0;
  TcpConnection* oldest_half_open = nullptr;
  for (auto& c : connections_) {
    if (!c.used || c.listener != listener || c.app_owned) continue;
    ++pending;
    if (c.state == TcpState::kSynReceived &&
        (oldest_half_open == nullptr || c.opened_ms < oldest_half_open->opened_ms)) {
      oldest_half_open = &c;
    }
  }
  if (pending >= listeners_[static_cast<std::size_t>(listener)].backlog) {
    if (oldest_half_open == nullptr) return false;
    ++counters_.tcp_syn_queue_evicted;
    oldest_half_open->used = false;
  }
  return true;
}

void Stack::tcp_input_cookie(std::int32_t listener, const Segment& s, std::uint64_t now_ms) {
  const std::uint32_t cookie = s.ack - 1;
  const std::uint32_t client_isn = s.seq - 1;
  const std::uint64_t period_now = now_ms / kCookiePeriodMs;
  bool valid = false;
  for (std::uint64_t age = 0; age < 2 && age <= period_now && !valid; ++age) {
    const std::uint64_t period = period_now - age;
    valid = (cookie >> 27) == (period & 31) &&
            tcp_cookie(s, client_isn, period, (cookie >> 25) & 3) == cookie;
  }
  if (!valid) {
    ++counters_.tcp_dropped_no_connection;
    tcp_send_reset(s, now_ms);
    return;
  }
  TcpConnection* c = tcp_make_room(listener) ? tcp_allocate(listener) : nullptr;
  if (c == nullptr) {
    ++counters_.tcp_syn_dropped;  // the client's retransmission will find a cookie again
    return;
  }
  ++counters_.tcp_syn_cookies_accepted;
  c->remote_ip = s.source;
  c->remote_port = s.source_port;
  c->local_port = s.destination_port;
  c->irs = client_isn;
  c->rcv_nxt = s.seq;
  c->iss = cookie;
  c->syn_acked = true;
  c->snd_una = c->snd_nxt = c->snd_max = cookie + 1;
  c->snd_wnd = s.window;
  c->snd_wl1 = s.seq;
  c->snd_wl2 = s.ack;
  c->mss = kCookieMss[(cookie >> 25) & 3];
  tcp_established(*c);
  tcp_input_synchronized(*c, s, now_ms);  // the ACK may carry data
}

void Stack::tcp_accept_syn(TcpConnection& connection, const Segment& s, std::uint64_t now_ms) {
  TcpConnection* c = &connection;
  c->remote_ip = s.source;
  c->remote_port = s.source_port;
  c->local_port = s.destination_port;
  c->irs = s.seq;
  c->rcv_nxt = s.seq + 1;
  c->iss = tcp_isn(s.source, s.destination_port, s.source_port, now_ms);
  c->snd_una = c->snd_nxt = c->snd_max = c->iss;
  c->snd_wnd = s.window;
  c->snd_wl1 = s.seq;
  c->snd_wl2 = c->iss;
  c->mss = std::clamp<std::uint16_t>(s.mss, 64, kTcpOurMss);
  c->state = TcpState::kSynReceived;
  tcp_output(*c, now_ms);  // SYN-ACK; data on the SYN is not kept and will be sent again
}

void Stack::tcp_input_syn_sent(TcpConnection& c, const Segment& s, std::uint64_t now_ms) {
  const bool has_ack = (s.flags & kAck) != 0;
  if (has_ack && (seq_le(s.ack, c.iss) || seq_gt(s.ack, c.snd_max))) {
    ++counters_.tcp_dropped_bad_ack;
    if ((s.flags & kRst) == 0) tcp_send_reset(s, now_ms);
    return;
  }
  if ((s.flags & kRst) != 0) {
    if (!has_ack) {
      ++counters_.tcp_dropped_invalid;
      return;
    }
    ++counters_.tcp_resets_received;
    tcp_enter_closed(c, NetError::kRefused);
    return;
  }
  if ((s.flags & kSyn) == 0) {
    ++counters_.tcp_dropped_invalid;
    return;
  }
  c.irs = s.seq;
  c.rcv_nxt = s.seq + 1;
  c.mss = std::clamp<std::uint16_t>(s.mss, 64, kTcpOurMss);
  c.snd_wnd = s.window;
  c.snd_wl1 = s.seq;
  c.snd_wl2 = s.ack;
  if (!has_ack) {  // simultaneous open (RFC 9293 3.5, figure 8)
    c.state = TcpState::kSynReceived;
    c.snd_nxt = c.iss;
    c.retransmit_at_ms = 0;
    tcp_output(c, now_ms);
    return;
  }
  c.syn_acked = true;
  c.snd_una = s.ack;
  if (c.timing) {
    tcp_update_rtt(c, static_cast<std::uint32_t>(now_ms - c.timed_at_ms));
    c.timing = false;
  }
  c.retransmit_at_ms = 0;
  c.retries = 0;
  tcp_established(c);
  tcp_send_ack(c, now_ms);
  tcp_output(c, now_ms);
}

bool Stack::tcp_process_ack(TcpConnection& c, const Segment& s, std::uint64_t now_ms) {
  if (seq_gt(s.ack, c.snd_max)) {
    ++counters_.tcp_dropped_bad_ack;
    tcp_send_ack(c, now_ms);
    return false;
  }
  if (c.state == TcpState::kSynReceived) {
    if (seq_le(s.ack, c.snd_una)) {
      ++counters_.tcp_dropped_bad_ack;
      tcp_send_reset(s, now_ms);
      return false;
    }
    tcp_established(c);
  }
  if (seq_gt(s.ack, c.snd_una)) {
    std::uint32_t acked = s.ack - c.snd_una;
    if (!c.syn_acked) {
      c.syn_acked = true;
      --acked;
    }
    const std::size_t data = std::min<std::size_t>(acked, c.send_count);
    c.send_start = (c.send_start + data) % kTcpBufferSize;
    c.send_count -= data;
    c.snd_una = s.ack;
    if (seq_lt(c.snd_nxt, c.snd_una)) c.snd_nxt = c.snd_una;
    if (c.timing && seq_ge(s.ack, c.timed_seq)) {
      tcp_update_rtt(c, static_cast<std::uint32_t>(now_ms - c.timed_at_ms));
      c.timing = false;
    }
    c.retries = 0;
    // RFC 5681: leave fast recovery at a new ACK, else grow the window.
    if (c.in_recovery) {
      c.cwnd = c.ssthresh;
      c.in_recovery = false;
    } else if (acked == 0) {
      // Only our SYN was acknowledged: the initial window already counts it.
    } else if (c.cwnd < c.ssthresh) {
      c.cwnd += std::min<std::uint32_t>(acked, c.mss);
    } else {
      c.cwnd += std::max<std::uint32_t>(1, c.mss * c.mss / c.cwnd);
    }
    c.duplicate_acks = 0;
    c.retransmit_at_ms = c.snd_una == c.snd_max ? 0 : now_ms + c.rto_ms;
  } else if (s.ack == c.snd_una && s.data.empty() && (s.flags & (kSyn | kFin)) == 0 &&
             s.window == c.snd_wnd && c.snd_max != c.snd_una) {
    // A duplicate ACK (RFC 5681 section 2): the third starts fast retransmit.
    ++c.duplicate_acks;
    if (c.duplicate_acks == 3 && !c.in_recovery) {
      const std::uint32_t flight = c.snd_max - c.snd_una;
      c.ssthresh = std::max(flight / 2, 2u * c.mss);
      const std::uint32_t start = data_seq(c);
      const std::size_t length = std::min<std::size_t>(c.mss, c.send_count - (c.snd_una - start));
      if (length > 0) {
        tcp_send_segment(c, c.snd_una, kAck, c.snd_una - start, length, now_ms);
      } else if (c.fin_sent) {
        tcp_send_segment(c, c.snd_una, kFin | kAck, 0, 0, now_ms);
      }
      ++counters_.tcp_fast_retransmits;
      ++counters_.tcp_retransmitted_segments;
      c.cwnd = c.ssthresh + 3u * c.mss;
      c.in_recovery = true;
      c.timing = false;
    } else if (c.in_recovery) {
      c.cwnd += c.mss;
    }
  }
  // The send window, from the newest segment only (RFC 9293 3.10.7.4, fifth check).
  if (seq_ge(s.ack, c.snd_una) &&
      (seq_lt(c.snd_wl1, s.seq) || (c.snd_wl1 == s.seq && seq_le(c.snd_wl2, s.ack)))) {
    c.snd_wnd = s.window;
    c.snd_wl1 = s.seq;
    c.snd_wl2 = s.ack;
    if (c.snd_wnd > 0 && c.persist_at_ms != 0) {
      c.persist_at_ms = 0;
      c.persist_backoff = 0;
      if (c.snd_nxt != c.snd_una && c.retransmit_at_ms == 0) {
        c.retransmit_at_ms = now_ms + c.rto_ms;
      }
    }
  }
  const bool fin_acked = c.fin_sent && seq_gt(c.snd_una, c.fin_seq);
  if (fin_acked) {
    if (c.state == TcpState::kFinWait1) {
      c.state = TcpState::kFinWait2;
      if (c.app_closed) c.time_wait_until_ms = now_ms + kFinWait2TimeoutMs;
    } else if (c.state == TcpState::kClosing) {
      tcp_enter_time_wait(c, now_ms);
    } else if (c.state == TcpState::kLastAck) {
      tcp_enter_closed(c, NetError::kOk);
      return false;
    }
  }
  return true;
}

void Stack::tcp_process_data(TcpConnection& c, const Segment& s) {
  auto data = s.data;
  std::uint32_t seq = s.seq;
  if (seq_lt(seq, c.rcv_nxt)) {
    const std::uint32_t skip = c.rcv_nxt - seq;
    const std::size_t trimmed = std::min<std::size_t>(skip, data.size());
    counters_.tcp_duplicate_bytes += trimmed;
    data = data.subspan(trimmed);
    seq = c.rcv_nxt;
  }
  const std::size_t window = kTcpBufferSize - c.receive_count;
  const std::size_t offset = seq - c.rcv_nxt;
  data = offset >= window ? data.first(0) : data.first(std::min(data.size(), window - offset));
  const std::size_t base = c.receive_start + c.receive_count + offset;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const std::size_t index = (base + i) % kTcpBufferSize;
    c.receive_buffer[index] = data[i];
    c.out_of_order.set(index);
  }
  if (offset > 0 && !data.empty()) ++counters_.tcp_out_of_order_kept;
  while (c.receive_count < kTcpBufferSize) {
    const std::size_t index = (c.receive_start + c.receive_count) % kTcpBufferSize;
    if (!c.out_of_order.test(index)) break;
    c.out_of_order.reset(index);
    ++c.receive_count;
    ++c.rcv_nxt;
  }
  if ((s.flags & kFin) != 0) {
    const std::uint32_t fin_seq = s.seq + static_cast<std::uint32_t>(s.data.size());
    if (seq_ge(fin_seq, c.rcv_nxt) && fin_seq - c.rcv_nxt <= window) {
      c.out_of_order_fin = true;
      c.out_of_order_fin_seq = fin_seq;
    }
  }
}

void Stack::tcp_input_synchronized(TcpConnection& c, const Segment& s, std::uint64_t now_ms) {
  if (c.state == TcpState::kSynReceived && (s.flags & kSyn) != 0 && s.seq == c.irs) {
    c.snd_nxt = c.iss;  // our SYN-ACK was lost: send it again
    tcp_output(c, now_ms);
    return;
  }
  const std::uint32_t length = s.length();
  const std::uint32_t window = tcp_receive_window(c);
  const auto in_window = [&](std::uint32_t seq) {
    return seq_ge(seq, c.rcv_nxt) && seq_lt(seq, c.rcv_nxt + window);
  };
  bool acceptable;
  if (length == 0) {
    acceptable = window == 0 ? s.seq == c.rcv_nxt : in_window(s.seq);
  } else {
    acceptable = window != 0 && (in_window(s.seq) || in_window(s.seq + length - 1));
  }
  if (!acceptable) {
    ++counters_.tcp_dropped_out_of_window;
    if ((s.flags & kRst) != 0) return;
    // A zero window still takes the ACK of a segment at rcv_nxt (RFC 9293 3.10.7.4).
    if (window == 0 && s.seq == c.rcv_nxt && (s.flags & kAck) != 0 && (s.flags & kSyn) == 0 &&
        !tcp_process_ack(c, s, now_ms)) {
      return;
    }
    if (c.state == TcpState::kTimeWait && (s.flags & kFin) != 0) {
      c.time_wait_until_ms = now_ms + kTcpTimeWaitMs;
    }
    tcp_send_ack(c, now_ms);
    tcp_output(c, now_ms);
    return;
  }
  if ((s.flags & kRst) != 0) {
    if (s.seq != c.rcv_nxt) {  // RFC 5961 3.2: in the window but not exact: challenge
      ++counters_.tcp_dropped_invalid;
      tcp_send_ack(c, now_ms);
      return;
    }
    ++counters_.tcp_resets_received;
    if (c.state == TcpState::kSynReceived && !c.app_owned) {
      c.used = false;  // back to LISTEN: the passive open is forgotten
      return;
    }
    tcp_enter_closed(c, NetError::kReset);
    return;
  }
  if ((s.flags & kSyn) != 0) {  // RFC 5961 4.2: a SYN in a synchronized state: challenge ACK
    ++counters_.tcp_dropped_invalid;
    tcp_send_ack(c, now_ms);
    return;
  }
  if ((s.flags & kAck) == 0) {
    ++counters_.tcp_dropped_invalid;
    return;
  }
  if (!tcp_process_ack(c, s, now_ms)) return;
  if (receives_data(c.state)) tcp_process_data(c, s);
  if (c.out_of_order_fin && !c.fin_received && c.rcv_nxt == c.out_of_order_fin_seq) {
    c.fin_received = true;
    ++c.rcv_nxt;
    switch (c.state) {
      case TcpState::kEstablished:
        c.state = TcpState::kCloseWait;
        break;
      case TcpState::kFinWait1:
        c.state = TcpState::kClosing;
        break;
      case TcpState::kFinWait2:
        tcp_enter_time_wait(c, now_ms);
        break;
      default:
        break;
    }
  }
  if (length > 0) tcp_send_ack(c, now_ms);
  tcp_output(c, now_ms);
}

}  // namespace ukernel::net
