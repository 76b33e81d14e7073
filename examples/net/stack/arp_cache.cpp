// The ARP cache and the resolution queue (arp_cache.hpp).
#include "stack/arp_cache.hpp"

#include <algorithm>

namespace ukernel::net {

std::optional<MacAddress> ArpCache::lookup(Ipv4Address ip, std::uint64_t now_ms) const {
  for (const auto& entry : entries_) {
    if (entry.used && entry.ip == ip && now_ms < entry.heard_ms + kArpEntryLifetimeMs) {
      return entry.mac;
    }
  }
  return std::nullopt;
}

bool ArpCache::knows(Ipv4Address ip) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [ip](const Entry& entry) { return entry.used && entry.ip == ip; });
}

void ArpCache::learn(Ipv4Address ip, const MacAddress& mac, std::uint64_t now_ms) {
  Entry* slot = nullptr;
  for (auto& entry : entries_) {
    if (entry.used && entry.ip == ip) {
      slot = &entry;
      break;
    }
  }
  if (slot == nullptr) {
    for (auto& entry : entries_) {
      if (!entry.used) {
        slot = &entry;
        break;
      }
    }
  }
  if (slot == nullptr) {
    slot = &*std::min_element(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
      return a.heard_ms < b.heard_ms;
    });
  }
  *slot = Entry{true, ip, mac, now_ms};
  for (auto& pending : pending_) {
    if (pending.used && pending.ip == ip) pending.used = false;
  }
}

void ArpCache::start_resolving(Ipv4Address ip) {
  for (const auto& pending : pending_) {
    if (pending.used && pending.ip == ip) return;
  }
  for (auto& pending : pending_) {
    if (!pending.used) {
      pending = Pending{true, ip, 0, 0};
      return;
    }
  }
  // No free resolution slot: every slot has a packet queued (kArpQueueLength each), and
  // enqueue refused this packet before getting here.
}

bool ArpCache::enqueue(Ipv4Address next_hop, std::span<const std::byte> packet) {
  if (packet.size() > kMtu) return false;
  for (auto& waiting : queue_) {
    if (!waiting.used) {
      waiting.used = true;
      waiting.next_hop = next_hop;
      waiting.length = packet.size();
      std::copy(packet.begin(), packet.end(), waiting.packet.begin());
      start_resolving(next_hop);
      return true;
    }
  }
  return false;
}

std::size_t ArpCache::drop_queued(Ipv4Address next_hop) {
  std::size_t dropped = 0;
  for (auto& waiting : queue_) {
    if (waiting.used && waiting.next_hop == next_hop) {
      waiting.used = false;
      ++dropped;
    }
  }
  return dropped;
}

std::size_t ArpCache::expire(std::uint64_t now_ms) {
  std::size_t expired = 0;
  for (auto& entry : entries_) {
    if (entry.used && now_ms >= entry.heard_ms + kArpEntryLifetimeMs) {
      entry.used = false;
      ++expired;
    }
  }
  return expired;
}

std::uint64_t ArpCache::next_deadline() const {
  std::uint64_t deadline = 0;
  for (const auto& pending : pending_) {
    if (pending.used && (deadline == 0 || pending.next_request_ms < deadline)) {
      deadline = std::max<std::uint64_t>(pending.next_request_ms, 1);
    }
  }
  return deadline;
}

std::size_t ArpCache::queued() const {
  return static_cast<std::size_t>(
      std::count_if(queue_.begin(), queue_.end(), [](const Waiting& w) { return w.used; }));
}

std::size_t ArpCache::cached() const {
  return static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return e.used; }));
}

}  // namespace ukernel::net
