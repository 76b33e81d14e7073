// Test kit for the TCP/IP stack: a simulated wire between two stacks with seeded loss,
// duplication and reordering (and a hash of every frame it carried, to compare runs), a
// two-stack harness with a virtual clock, and builders for hand-made frames.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "stack/stack.hpp"

namespace ukernel::net::test {

using Bytes = std::vector<std::byte>;

struct WireFaults {
  unsigned loss_percent = 0;
  unsigned duplicate_percent = 0;
  unsigned reorder_percent = 0;  // delayed by up to 8 ms more than the others
};

class Wire {
 public:
  struct End {
    Wire* wire;
    int side;
    bool transmit(std::span<const std::byte> frame) {
      wire->carry(side, frame);
      return true;
    }
  };

  Wire(std::uint64_t seed, WireFaults faults) : random_(seed), faults_(faults) {}

  End& end(int side) { return ends_[static_cast<std::size_t>(side)]; }

  void carry(int from, std::span<const std::byte> frame) {
    ++frames_;
    trace_ = mix(trace_, static_cast<std::uint64_t>(from) + now_ * 2);
    for (auto b : frame)
      trace_ = mix(trace_, std::to_integer<std::uint64_t>(b));
    if (tap) tap(from, frame);
    if (roll(faults_.loss_percent)) {
      ++lost_;
      return;
    }
    const int copies = roll(faults_.duplicate_percent) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      std::uint64_t delay = 1;
      if (roll(faults_.reorder_percent)) delay += 1 + random_() % 8;
      queue_.push_back({now_ + delay, sequence_++, 1 - from, Bytes(frame.begin(), frame.end())});
    }
  }

  // Deliver every frame due by now to stacks[side].
  void deliver(std::uint64_t now, Stack* stacks[2]) {
    now_ = now;
    for (;;) {
      auto due = std::min_element(queue_.begin(), queue_.end(), [](const auto& a, const auto& b) {
        return a.at != b.at ? a.at < b.at : a.order < b.order;
      });
      if (due == queue_.end() || due->at > now) return;
      auto frame = std::move(*due);
      queue_.erase(due);
      if (stacks[frame.to] != nullptr) stacks[frame.to]->input(frame.bytes, now);
    }
  }
  void set_now(std::uint64_t now) { now_ = now; }
  [[nodiscard]] std::uint64_t next_time() const {
    std::uint64_t next = 0;
    for (const auto& f : queue_) {
      if (next == 0 || f.at < next) next = f.at;
    }
    return next;
  }
  [[nodiscard]] std::uint64_t trace() const { return trace_; }
  [[nodiscard]] std::uint64_t frames() const { return frames_; }
  [[nodiscard]] std::uint64_t lost() const { return lost_; }

  std::function<void(int, std::span<const std::byte>)> tap;

 private:
  struct InFlight {
    std::uint64_t at;
    std::uint64_t order;
    int to;
    Bytes bytes;
  };
  static std::uint64_t mix(std::uint64_t hash, std::uint64_t value) {
    return (hash ^ value) * 0x100000001b3ULL;
  }
  bool roll(unsigned percent) { return percent != 0 && random_() % 100 < percent; }

  std::mt19937_64 random_;
  WireFaults faults_;
  End ends_[2]{{this, 0}, {this, 1}};
  std::vector<InFlight> queue_;
  std::uint64_t now_ = 0, sequence_ = 0, trace_ = 0xcbf29ce484222325ULL, frames_ = 0, lost_ = 0;
};

inline constexpr Ipv4Address kAddressA = ipv4(10, 0, 2, 15);
inline constexpr Ipv4Address kAddressB = ipv4(10, 0, 2, 2);
inline constexpr MacAddress kMacA{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
inline constexpr MacAddress kMacB{0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};

inline StackConfig config_for(int side) {
  StackConfig config;
  config.mac = side == 0 ? kMacA : kMacB;
  config.address = side == 0 ? kAddressA : kAddressB;
  config.netmask = ipv4(255, 255, 255, 0);
  config.gateway = side == 0 ? kAddressB : 0;
  for (std::size_t i = 0; i < config.isn_key.size(); ++i) {
    config.isn_key[i] = static_cast<std::uint8_t>(i * 7 + static_cast<std::size_t>(side));
  }
  return config;
}

// Two stacks (A = side 0, B = side 1) over one wire, with a virtual clock.
class TwoStacks {
 public:
  explicit TwoStacks(std::uint64_t seed = 1, WireFaults faults = {}, std::size_t pool_a = 8,
                     std::size_t pool_b = 8)
      : wire(seed, faults),
        pool_a_(std::make_unique<TcpConnection[]>(pool_a)),
        pool_b_(std::make_unique<TcpConnection[]>(pool_b)),
        a(config_for(0), LinkRef(wire.end(0)), std::span(pool_a_.get(), pool_a)),
        b(config_for(1), LinkRef(wire.end(1)), std::span(pool_b_.get(), pool_b)) {}

  // Advance to the next event (a frame due or a timer), at least one millisecond.
  void step() {
    std::uint64_t earliest = 0;
    for (std::uint64_t t : {wire.next_time(), a.next_deadline(), b.next_deadline()}) {
      if (t != 0 && (earliest == 0 || t < earliest)) earliest = t;
    }
    std::uint64_t next = earliest == 0 ? now + 1000 : std::max(now + 1, earliest);
    if (max_step != 0) next = std::min(next, now + max_step);
    now = next;
    Stack* stacks[2] = {&a, &b};
    wire.deliver(now, stacks);
    a.poll(now);
    b.poll(now);
    wire.set_now(now);
  }
  // Step until done() or the virtual deadline; returns whether done() became true.
  bool run_until(const std::function<bool()>& done, std::uint64_t limit_ms) {
    const std::uint64_t end = now + limit_ms;
    while (!done()) {
      if (now >= end) return false;
      step();
    }
    return true;
  }

  Wire wire;
  std::uint64_t now = 0;
  std::uint64_t max_step = 0;  // 0: jump straight to the next event

 private:
  std::unique_ptr<TcpConnection[]> pool_a_, pool_b_;

 public:
  Stack a, b;
};

// ---- hand-made frames ----

inline void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  store16(b, at, v);
}
inline void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  store32(b, at, v);
}

inline Bytes ethernet(const MacAddress& to, const MacAddress& from, std::uint16_t type,
                      std::span<const std::byte> payload) {
  Bytes f(kEthernetHeader);
  store_mac(f, 0, to);
  store_mac(f, 6, from);
  put16(f, 12, type);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

inline Bytes ipv4_packet(Ipv4Address from, Ipv4Address to, std::uint8_t protocol,
                         std::span<const std::byte> payload, const Bytes& options = {},
                         std::uint16_t flags_offset = 0x4000) {
  Bytes p(kIpv4Header);
  p.insert(p.end(), options.begin(), options.end());
  const std::size_t header = p.size();
  p[0] = static_cast<std::byte>(0x40 | (header / 4));
  put16(p, 2, static_cast<std::uint16_t>(header + payload.size()));
  put16(p, 6, flags_offset);
  p[8] = std::byte{64};
  p[9] = std::byte{protocol};
  put32(p, 12, from);
  put32(p, 16, to);
  put16(p, 10, checksum_finish(checksum_add(0, std::span(p).first(header))));
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

inline Bytes tcp_segment(Ipv4Address from, Ipv4Address to, std::uint16_t from_port,
                         std::uint16_t to_port, std::uint32_t seq, std::uint32_t ack,
                         std::uint8_t flags, std::uint16_t window, std::span<const std::byte> data,
                         const Bytes& options = {}) {
  Bytes s(kTcpHeader);
  s.insert(s.end(), options.begin(), options.end());
  const std::size_t header = s.size();
  put16(s, 0, from_port);
  put16(s, 2, to_port);
  put32(s, 4, seq);
  put32(s, 8, ack);
  s[12] = static_cast<std::byte>((header / 4) << 4);
  s[13] = static_cast<std::byte>(flags);
  put16(s, 14, window);
  s.insert(s.end(), data.begin(), data.end());
  put16(s, 16,
        checksum_finish(checksum_add(pseudo_header_sum(from, to, kProtocolTcp, s.size()), s)));
  return s;
}

inline Bytes udp_datagram(Ipv4Address from, Ipv4Address to, std::uint16_t from_port,
                          std::uint16_t to_port, std::span<const std::byte> data) {
  Bytes d(kUdpHeader);
  put16(d, 0, from_port);
  put16(d, 2, to_port);
  put16(d, 4, static_cast<std::uint16_t>(kUdpHeader + data.size()));
  d.insert(d.end(), data.begin(), data.end());
  put16(d, 6,
        checksum_finish(checksum_add(pseudo_header_sum(from, to, kProtocolUdp, d.size()), d)));
  return d;
}

inline Bytes icmp_echo_request(std::uint16_t id, std::uint16_t seq, std::size_t length) {
  Bytes m(kIcmpHeader + length);
  m[0] = std::byte{8};
  put16(m, 4, id);
  put16(m, 6, seq);
  for (std::size_t i = 0; i < length; ++i)
    m[kIcmpHeader + i] = static_cast<std::byte>(i * 3);
  put16(m, 2, checksum_finish(checksum_add(0, m)));
  return m;
}

// A frame from B's MAC to A's carrying an IPv4 packet.
inline Bytes to_a(const Bytes& ip_packet) {
  return ethernet(kMacA, kMacB, kEtherTypeIpv4, ip_packet);
}

inline Bytes pattern(std::size_t length, std::uint32_t seed) {
  Bytes data(length);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : data) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::byte>(x >> 24);
  }
  return data;
}

// A frame sink for one stack under test (captures what it sends).
struct Capture {
  std::vector<Bytes> frames;
  bool transmit(std::span<const std::byte> frame) {
    frames.emplace_back(frame.begin(), frame.end());
    return true;
  }
};

}  // namespace ukernel::net::test
