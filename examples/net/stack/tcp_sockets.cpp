// TCP's socket calls (stack.hpp): listen, accept, connect, send, receive, close, abort, and the
// invariant check; the protocol itself is in tcp.cpp.
#include <algorithm>

#include "stack/stack.hpp"
#include "stack/tcp_flags.hpp"

namespace ukernel::net {

using namespace tcp_flags;

Result<TcpListener> Stack::tcp_listen(std::uint16_t port, std::uint32_t backlog) {
  if (port == 0 || backlog == 0) return {{}, NetError::kInvalidArgument};
  if (tcp_port_in_use(port)) return {{}, NetError::kPortInUse};
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    auto& l = listeners_[i];
    if (l.used) continue;
    l.used = true;
    l.generation = static_cast<std::uint16_t>(l.generation + 1);
    l.port = port;
    l.backlog = std::min(backlog, kTcpMaxBacklog);
    return {TcpListener{(std::uint32_t{l.generation} << 16) | static_cast<std::uint32_t>(i)},
            NetError::kOk};
  }
  return {{}, NetError::kNoResources};
}

Result<TcpSocket> Stack::tcp_accept(TcpListener listener) {
  const std::size_t index = listener.id & 0xffff;
  if (index >= listeners_.size() || !listeners_[index].used ||
      listeners_[index].generation != (listener.id >> 16)) {
    return {{}, NetError::kBadSocket};
  }
  TcpConnection* found = nullptr;
  for (auto& c : connections_) {
    if (c.used && !c.app_owned && c.listener == static_cast<std::int32_t>(index) &&
        c.state != TcpState::kSynReceived && c.state != TcpState::kClosed &&
        (found == nullptr || c.opened_ms < found->opened_ms)) {
      found = &c;
    }
  }
  if (found == nullptr) return {{}, NetError::kWouldBlock};
  found->app_owned = true;
  return {tcp_handle(*found), NetError::kOk};
}

NetError Stack::tcp_close_listener(TcpListener listener) {
  const std::size_t index = listener.id & 0xffff;
  if (index >= listeners_.size() || !listeners_[index].used ||
      listeners_[index].generation != (listener.id >> 16)) {
    return NetError::kBadSocket;
  }
  listeners_[index].used = false;
  for (auto& c : connections_) {
    if (c.used && !c.app_owned && c.listener == static_cast<std::int32_t>(index)) {
      if (c.state != TcpState::kSynReceived) {
        tcp_send_segment(c, c.snd_max, kRst | kAck, 0, 0, now_ms_);
        ++counters_.tcp_resets_sent;
      }
      c.used = false;
    }
  }
  return NetError::kOk;
}

Result<TcpSocket> Stack::tcp_connect(Ipv4Address to, std::uint16_t port, std::uint64_t now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  if (to == 0 || port == 0) return {{}, NetError::kInvalidArgument};
  std::uint16_t local_port = 0;
  for (std::uint32_t tries = 0; tries < 16384; ++tries) {
    const std::uint16_t candidate = next_ephemeral_port_;
    next_ephemeral_port_ = next_ephemeral_port_ == 65535
                               ? 49152
                               : static_cast<std::uint16_t>(next_ephemeral_port_ + 1);
    if (!tcp_port_in_use(candidate)) {
      local_port = candidate;
      break;
    }
  }
  if (local_port == 0) return {{}, NetError::kNoResources};
  TcpConnection* c = tcp_allocate(-1);
  if (c == nullptr) return {{}, NetError::kNoResources};
  c->app_owned = true;
  c->remote_ip = to;
  c->remote_port = port;
  c->local_port = local_port;
  c->iss = tcp_isn(to, local_port, port, now_ms);
  c->snd_una = c->snd_nxt = c->snd_max = c->iss;
  c->mss = kTcpOurMss;
  c->state = TcpState::kSynSent;
  tcp_output(*c, now_ms);
  return {tcp_handle(*c), NetError::kOk};
}

Result<std::size_t> Stack::tcp_send(TcpSocket socket, std::span<const std::byte> data,
                                    std::uint64_t now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  TcpConnection* c = tcp_lookup(socket);
  if (c == nullptr) return {0, NetError::kBadSocket};
  if (c->state == TcpState::kClosed) {
    return {0, c->error != NetError::kOk ? c->error : NetError::kNotConnected};
  }
  if (c->state == TcpState::kSynSent || c->state == TcpState::kSynReceived) {
    return {0, NetError::kNotConnected};
  }
  if (c->fin_queued || (c->state != TcpState::kEstablished && c->state != TcpState::kCloseWait)) {
    return {0, NetError::kClosing};
  }
  const std::size_t room = kTcpBufferSize - c->send_count;
  if (room == 0) return {0, NetError::kWouldBlock};
  const std::size_t count = std::min(room, data.size());
  for (std::size_t i = 0; i < count; ++i) {
    c->send_buffer[(c->send_start + c->send_count + i) % kTcpBufferSize] = data[i];
  }
  c->send_count += count;
  tcp_output(*c, now_ms);
  return {count, NetError::kOk};
}

Result<std::size_t> Stack::tcp_receive(TcpSocket socket, std::span<std::byte> buffer,
                                       std::uint64_t now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  TcpConnection* c = tcp_lookup(socket);
  if (c == nullptr) return {0, NetError::kBadSocket};
  if (c->receive_count > 0) {
    const std::size_t count = std::min(buffer.size(), c->receive_count);
    for (std::size_t i = 0; i < count; ++i) {
      buffer[i] = c->receive_buffer[(c->receive_start + i) % kTcpBufferSize];
    }
    c->receive_start = (c->receive_start + count) % kTcpBufferSize;
    c->receive_count -= count;
    // Tell a sender we had stopped (or nearly) that the window opened (RFC 9293 3.8.6.2.2).
    if (c->advertised_window < c->mss && tcp_receive_window(*c) >= c->mss &&
        c->state != TcpState::kClosed) {
      tcp_send_ack(*c, now_ms);
    }
    return {count, NetError::kOk};
  }
  if (c->fin_received) return {0, NetError::kOk};
  if (c->state == TcpState::kClosed) {
    return {0, c->error != NetError::kOk ? c->error : NetError::kNotConnected};
  }
  if (c->state == TcpState::kSynSent || c->state == TcpState::kSynReceived) {
    return {0, NetError::kNotConnected};
  }
  return {0, NetError::kWouldBlock};
}

NetError Stack::tcp_close(TcpSocket socket, std::uint64_t now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  TcpConnection* c = tcp_lookup(socket);
  if (c == nullptr) return NetError::kBadSocket;
  c->app_closed = true;
  switch (c->state) {
    case TcpState::kClosed:
      tcp_release_if_done(*c);
      break;
    case TcpState::kSynSent:
      tcp_enter_closed(*c, NetError::kOk);
      break;
    case TcpState::kSynReceived:
      tcp_send_segment(*c, c->snd_max, kRst | kAck, 0, 0, now_ms);
      ++counters_.tcp_resets_sent;
      tcp_enter_closed(*c, NetError::kOk);
      break;
    case TcpState::kEstablished:
      c->fin_queued = true;
      c->state = TcpState::kFinWait1;
      tcp_output(*c, now_ms);
      break;
    case TcpState::kCloseWait:
      c->fin_queued = true;
      c->state = TcpState::kLastAck;
      tcp_output(*c, now_ms);
      break;
    case TcpState::kFinWait2:
      c->time_wait_until_ms = now_ms + kFinWait2TimeoutMs;
      break;
    default:
      break;
  }
  return NetError::kOk;
}

NetError Stack::tcp_abort(TcpSocket socket) {
  TcpConnection* c = tcp_lookup(socket);
  if (c == nullptr) return NetError::kBadSocket;
  c->app_closed = true;
  if (c->state != TcpState::kClosed && c->state != TcpState::kSynSent &&
      c->state != TcpState::kTimeWait) {
    tcp_send_segment(*c, c->snd_max, kRst | kAck, 0, 0, now_ms_);
    ++counters_.tcp_resets_sent;
  }
  tcp_enter_closed(*c, NetError::kOk);
  return NetError::kOk;
}

Result<TcpState> Stack::tcp_state(TcpSocket socket) const {
  const TcpConnection* c = tcp_lookup(socket);
  if (c == nullptr) return {TcpState::kClosed, NetError::kBadSocket};
  return {c->state, NetError::kOk};
}

Result<std::size_t> Stack::tcp_unacknowledged(TcpSocket socket) const {
  const TcpConnection* c = tcp_lookup(socket);
  if (c == nullptr) return {0, NetError::kBadSocket};
  return {c->send_count, NetError::kOk};
}

const char* Stack::check_invariants() const {
  for (std::size_t i = 0; i < connections_.size(); ++i) {
    const auto& c = connections_[i];
    if (!c.used) continue;
    if (c.send_count > kTcpBufferSize || c.receive_count > kTcpBufferSize ||
        c.send_start >= kTcpBufferSize || c.receive_start >= kTcpBufferSize) {
      return "a TCP buffer count or start is out of bounds";
    }
    if (!seq_le(c.snd_una, c.snd_nxt) || !seq_le(c.snd_nxt, c.snd_max)) {
      return "TCP send sequence numbers out of order (snd_una <= snd_nxt <= snd_max)";
    }
    if (c.syn_acked && c.snd_max - c.snd_una > c.send_count + 1) {
      return "TCP has more in flight than its send buffer holds";
    }
    if (c.rto_ms < kTcpMinRtoMs || c.rto_ms > kTcpMaxRtoMs) return "TCP RTO outside its bounds";
    if (c.mss == 0 || c.mss > kTcpOurMss) return "TCP MSS outside its bounds";
    if (c.out_of_order.count() > kTcpBufferSize - c.receive_count) {
      return "TCP out-of-order bytes exceed the free receive space";
    }
    if (c.receive_count < kTcpBufferSize &&
        c.out_of_order.test((c.receive_start + c.receive_count) % kTcpBufferSize)) {
      return "TCP holds an in-order byte it did not deliver";
    }
    if (c.listener >= static_cast<std::int32_t>(kTcpListeners)) return "TCP listener index";
    for (std::size_t j = i + 1; j < connections_.size(); ++j) {
      const auto& d = connections_[j];
      if (d.used && d.state != TcpState::kClosed && c.state != TcpState::kClosed &&
          d.remote_ip == c.remote_ip && d.remote_port == c.remote_port &&
          d.local_port == c.local_port) {
        return "two TCP connections share a 4-tuple";
      }
    }
  }
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    for (std::size_t j = i + 1; j < listeners_.size(); ++j) {
      if (listeners_[i].used && listeners_[j].used && listeners_[i].port == listeners_[j].port) {
        return "two listeners share a port";
      }
    }
    if (listeners_[i].used) {
      std::uint32_t pending = 0;
      for (const auto& c : connections_) {
        if (c.used && !c.app_owned && c.listener == static_cast<std::int32_t>(i)) ++pending;
      }
      if (pending > listeners_[i].backlog) return "a listener holds more than its backlog";
    }
  }
  for (const auto& socket : udp_) {
    if (socket.count > kUdpQueueLength || socket.head >= kUdpQueueLength) return "UDP queue bounds";
  }
  if (arp_.queued() > kArpQueueLength || echo_count_ > kEchoRepliesKept) {
    return "ARP or echo queue bounds";
  }
  return nullptr;
}

}  // namespace ukernel::net
