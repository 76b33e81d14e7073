// The ARP cache (RFC 826) and the queue of IPv4 packets waiting for a next hop to resolve.
//
// Entries live kArpEntryLifetimeMs after the last time the neighbour's mapping was heard, then
// are forgotten, so a neighbour whose MAC changes is relearned. A next hop being resolved is
// asked again every kArpRetryMs, at most kArpMaxRequests times; after that the packets waiting
// for it are dropped and counted. The waiting queue holds at most kArpQueueLength packets across
// all next hops; a packet that finds it full is dropped and counted (TCP retransmits it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire_format.hpp"

namespace ukernel::net {

inline constexpr std::size_t kArpEntries = 32;
inline constexpr std::size_t kArpQueueLength = 16;
inline constexpr std::uint64_t kArpEntryLifetimeMs = 60'000;
inline constexpr std::uint64_t kArpRetryMs = 1'000;
inline constexpr std::uint32_t kArpMaxRequests = 3;

class ArpCache {
 public:
  // The MAC of ip if it is known and fresh.
  [[nodiscard]] std::optional<MacAddress> lookup(Ipv4Address ip, std::uint64_t now_ms) const;
  // Record (or refresh) a mapping heard on the wire. A full cache replaces its oldest entry.
  void learn(Ipv4Address ip, const MacAddress& mac, std::uint64_t now_ms);
  // Whether a mapping for ip is cached (fresh or not): RFC 826 refreshes only those.
  [[nodiscard]] bool knows(Ipv4Address ip) const;

  // Queue an IPv4 packet (no Ethernet header) for next_hop; false if the queue is full.
  [[nodiscard]] bool enqueue(Ipv4Address next_hop, std::span<const std::byte> packet);
  // Call send(packet) for, and remove, every queued packet for next_hop, in queue order.
  template <typename Send>
  void release(Ipv4Address next_hop, Send&& send) {
    for (auto& waiting : queue_) {
      if (waiting.used && waiting.next_hop == next_hop) {
        send(std::span<const std::byte>(waiting.packet.data(), waiting.length));
        waiting.used = false;
      }
    }
  }

  // Which next hops need a request now (first ask, or a retry). Calls ask(ip) for each; returns
  // the number of queued packets dropped because their next hop never answered.
  template <typename Ask>
  std::size_t poll(std::uint64_t now_ms, Ask&& ask) {
    std::size_t dropped = 0;
    for (auto& pending : pending_) {
      if (!pending.used || now_ms < pending.next_request_ms) continue;
      if (pending.requests == kArpMaxRequests) {
        dropped += drop_queued(pending.ip);
        pending.used = false;
        continue;
      }
      ++pending.requests;
      pending.next_request_ms = now_ms + kArpRetryMs;
      ask(pending.ip);
    }
    return dropped;
  }
  // Forget entries older than their lifetime; returns how many expired.
  std::size_t expire(std::uint64_t now_ms);

  // The earliest time a request is due (0: none).
  [[nodiscard]] std::uint64_t next_deadline() const;
  [[nodiscard]] std::size_t queued() const;
  [[nodiscard]] std::size_t cached() const;

 private:
  std::size_t drop_queued(Ipv4Address next_hop);
  void start_resolving(Ipv4Address ip);

  struct Entry {
    bool used = false;
    Ipv4Address ip = 0;
    MacAddress mac{};
    std::uint64_t heard_ms = 0;
  };
  struct Pending {  // a next hop being resolved
    bool used = false;
    Ipv4Address ip = 0;
    std::uint32_t requests = 0;
    std::uint64_t next_request_ms = 0;
  };
  struct Waiting {
    bool used = false;
    Ipv4Address next_hop = 0;
    std::size_t length = 0;
    std::array<std::byte, kMtu> packet{};
  };
  std::array<Entry, kArpEntries> entries_{};
  std::array<Pending, kArpQueueLength> pending_{};
  std::array<Waiting, kArpQueueLength> queue_{};
};

}  // namespace ukernel::net
