// Ethernet, ARP, IPv4, ICMP echo and UDP (stack.hpp). TCP is in tcp.cpp.
//
// IPv4 policy (RFC 791, RFC 1122 3.2.1): a header must be version 4, 20 to 60 bytes, inside the
// frame, with a correct checksum and an option list that parses (each option is END, NOP or a
// type-length pair whose length is at least 2 and fits); well-formed options are then ignored.
// Fragments (MF set or a non-zero offset) are dropped and counted: the stack reassembles
// nothing, and sends nothing larger than the MTU, so its own traffic never fragments. Ethernet
// padding after the IP total length is ignored.
#include "stack/stack.hpp"

#include <algorithm>

namespace ukernel::net {
namespace {

constexpr std::uint16_t kArpRequest = 1;
constexpr std::uint16_t kArpReply = 2;
constexpr std::size_t kArpPacket = 28;
constexpr std::uint8_t kIcmpEchoReply = 0;
constexpr std::uint8_t kIcmpEchoRequest = 8;

std::span<const std::byte> as_const(std::span<std::byte> bytes) {
  return bytes;
}

}  // namespace

Stack::Stack(const StackConfig& config, LinkRef link, std::span<TcpConnection> connections)
    : config_(config), link_(link), connections_(connections) {
  for (auto& c : connections_)
    c = TcpConnection{};
}

bool Stack::is_local(Ipv4Address address) const {
  return (address & config_.netmask) == (config_.address & config_.netmask);
}

void Stack::input(std::span<const std::byte> frame, std::uint64_t now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  ++counters_.frames_received;
  if (frame.size() < kEthernetHeader) {
    ++counters_.eth_dropped_short;
    return;
  }
  const MacAddress destination = load_mac(frame, 0);
  if (destination != config_.mac && destination != kBroadcastMac) {
    ++counters_.eth_dropped_not_for_us;
    return;
  }
  const std::uint16_t ether_type = load16(frame, 12);
  const auto payload = frame.subspan(kEthernetHeader);
  if (ether_type == kEtherTypeArp) {
    arp_input(payload, now_ms);
  } else if (ether_type == kEtherTypeIpv4) {
    ip_input(payload, now_ms);
  } else {
    ++counters_.eth_dropped_ethertype;
  }
}

void Stack::arp_input(std::span<const std::byte> packet, std::uint64_t now_ms) {
  // RFC 826: hardware type 1 (Ethernet), protocol 0x0800, lengths 6 and 4, request or reply.
  if (packet.size() < kArpPacket || load16(packet, 0) != 1 || load16(packet, 2) != kEtherTypeIpv4 ||
      std::to_integer<unsigned>(packet[4]) != 6 || std::to_integer<unsigned>(packet[5]) != 4) {
    ++counters_.arp_dropped_malformed;
    return;
  }
  const std::uint16_t operation = load16(packet, 6);
  const MacAddress sender_mac = load_mac(packet, 8);
  const Ipv4Address sender_ip = load32(packet, 14);
  const Ipv4Address target_ip = load32(packet, 24);
  if ((operation != kArpRequest && operation != kArpReply) || sender_ip == 0 ||
      sender_ip == config_.address || (sender_mac[0] & 1) != 0) {
    ++counters_.arp_dropped_malformed;
    return;
  }
  // RFC 826's merge: refresh a mapping we hold; learn a new one only if the packet is for us.
  const bool for_us = config_.address != 0 && target_ip == config_.address;  // 0: none yet
  if (for_us || arp_.knows(sender_ip)) {
    arp_.learn(sender_ip, sender_mac, now_ms);
    arp_.release(sender_ip, [&](std::span<const std::byte> waiting) {
      std::copy(waiting.begin(), waiting.end(), tx_frame_.begin() + kEthernetHeader);
      send_frame(sender_mac, kEtherTypeIpv4, waiting.size());
    });
  }
  if (for_us && operation == kArpRequest) {
    send_arp(kArpReply, sender_mac, sender_ip);
    ++counters_.arp_replies_sent;
  }
}

void Stack::send_arp(std::uint16_t operation, const MacAddress& target_mac, Ipv4Address target_ip) {
  auto packet = std::span(tx_frame_).subspan(kEthernetHeader, kArpPacket);
  store16(packet, 0, 1);
  store16(packet, 2, kEtherTypeIpv4);
  packet[4] = std::byte{6};
  packet[5] = std::byte{4};
  store16(packet, 6, operation);
  store_mac(packet, 8, config_.mac);
  store32(packet, 14, config_.address);
  store_mac(packet, 18, operation == kArpRequest ? MacAddress{} : target_mac);
  store32(packet, 24, target_ip);
  send_frame(operation == kArpRequest ? kBroadcastMac : target_mac, kEtherTypeArp, kArpPacket);
}

void Stack::send_frame(const MacAddress& destination, std::uint16_t ether_type,
                       std::size_t length) {
  auto frame = std::span(tx_frame_);
  store_mac(frame, 0, destination);
  store_mac(frame, 6, config_.mac);
  store16(frame, 12, ether_type);
  if (link_.transmit(as_const(frame.first(kEthernetHeader + length)))) {
    ++counters_.frames_sent;
  } else {
    ++counters_.frames_send_failed;
  }
}

bool Stack::ip_send(Ipv4Address destination, std::uint8_t protocol, std::size_t length,
                    std::uint64_t now_ms) {
  const std::size_t total = kIpv4Header + length;
  auto header = std::span(tx_frame_).subspan(kEthernetHeader, kIpv4Header);
  header[0] = std::byte{0x45};
  header[1] = std::byte{0};
  store16(header, 2, static_cast<std::uint16_t>(total));
  store16(header, 4, ip_identification_++);
  store16(header, 6, 0x4000);  // DF: this stack never sends more than the MTU
  header[8] = std::byte{kIpTtl};
  header[9] = std::byte{protocol};
  store16(header, 10, 0);
  store32(header, 12, config_.address);
  store32(header, 16, destination);
  store16(header, 10, checksum_finish(checksum_add(0, as_const(header))));

  if (destination == 0xffffffff) {
    send_frame(kBroadcastMac, kEtherTypeIpv4, total);
    return true;
  }
  Ipv4Address next_hop = destination;
  if (!is_local(destination)) {
    if (config_.gateway == 0) return false;
    next_hop = config_.gateway;
  }
  if (auto mac = arp_.lookup(next_hop, now_ms)) {
    send_frame(*mac, kEtherTypeIpv4, total);
    return true;
  }
  if (!arp_.enqueue(next_hop, as_const(std::span(tx_frame_).subspan(kEthernetHeader, total)))) {
    ++counters_.arp_queue_dropped;
    return false;
  }
  // Ask at once rather than at the next poll: the first request goes out with the first packet.
  counters_.arp_queue_dropped += arp_.poll(now_ms, [&](Ipv4Address ip) {
    send_arp(kArpRequest, MacAddress{}, ip);
    ++counters_.arp_requests_sent;
  });
  return true;
}

void Stack::ip_input(std::span<const std::byte> packet, std::uint64_t now_ms) {
  if (packet.size() < kIpv4Header) {
    ++counters_.ip_dropped_short;
    return;
  }
  const unsigned version_ihl = std::to_integer<unsigned>(packet[0]);
  if ((version_ihl >> 4) != 4) {
    ++counters_.ip_dropped_version;
    return;
  }
  const std::size_t header_length = (version_ihl & 0xf) * 4u;
  if (header_length < kIpv4Header || header_length > packet.size()) {
    ++counters_.ip_dropped_header_length;
    return;
  }
  const std::size_t total = load16(packet, 2);
  if (total < header_length || total > packet.size()) {
    ++counters_.ip_dropped_total_length;
    return;
  }
  const auto header = packet.first(header_length);
  if (checksum_finish(checksum_add(0, header)) != 0) {
    ++counters_.ip_dropped_checksum;
    return;
  }
  for (std::size_t at = kIpv4Header; at < header_length;) {
    const unsigned type = std::to_integer<unsigned>(header[at]);
    if (type == 0) break;  // end of option list
    if (type == 1) {       // no-operation
      ++at;
      continue;
    }
    if (at + 1 >= header_length) {
      ++counters_.ip_dropped_options;
      return;
    }
    const std::size_t length = std::to_integer<std::size_t>(header[at + 1]);
    if (length < 2 || at + length > header_length) {
      ++counters_.ip_dropped_options;
      return;
    }
    at += length;
  }
  const std::uint16_t flags_offset = load16(packet, 6);
  if ((flags_offset & 0x2000) != 0 || (flags_offset & 0x1fff) != 0) {
    ++counters_.ip_dropped_fragment;
    return;
  }
  IpPacket ip;
  ip.source = load32(packet, 12);
  ip.destination = load32(packet, 16);
  ip.protocol = std::to_integer<std::uint8_t>(packet[9]);
  ip.header = header;
  ip.payload = packet.subspan(header_length, total - header_length);
  const Ipv4Address subnet_broadcast = config_.address | ~config_.netmask;
  // Without an address yet (DHCP in progress) only the limited broadcast is for us.
  const bool ours = config_.address == 0
                        ? ip.destination == 0xffffffff
                        : ip.destination == config_.address || ip.destination == 0xffffffff ||
                              ip.destination == subnet_broadcast;
  if (!ours) {
    ++counters_.ip_dropped_not_for_us;
    return;
  }
  // 0.0.0.0 is a source only for a host that has no address yet, broadcasting UDP (a DHCP
  // client's DISCOVER and REQUEST, RFC 1122 3.2.1.3 and RFC 2131 4.1).
  const bool unconfigured_sender =
      ip.source == 0 && ip.destination == 0xffffffff && ip.protocol == kProtocolUdp;
  if ((ip.source == 0 && !unconfigured_sender) || ip.source == 0xffffffff ||
      ip.source == config_.address || (ip.source >> 28) == 0xe ||
      (is_local(ip.source) && ip.source == subnet_broadcast)) {
    ++counters_.ip_dropped_bad_source;
    return;
  }
  ++counters_.ip_received;
  switch (ip.protocol) {
    case kProtocolIcmp:
      icmp_input(ip, now_ms);
      break;
    case kProtocolUdp:
      udp_input(ip);
      break;
    case kProtocolTcp:
      if (ip.destination != config_.address) {
        ++counters_.tcp_dropped_bad_address;  // TCP is unicast only
        return;
      }
      tcp_input(ip, now_ms);
      break;
    default:
      ++counters_.ip_dropped_protocol;
  }
}

void Stack::icmp_input(const IpPacket& packet, std::uint64_t now_ms) {
  const auto message = packet.payload;
  if (message.size() < kIcmpHeader || checksum_finish(checksum_add(0, message)) != 0) {
    ++counters_.icmp_dropped_malformed;
    return;
  }
  const unsigned type = std::to_integer<unsigned>(message[0]);
  if (type == kIcmpEchoRequest && packet.destination == config_.address) {
    ++counters_.icmp_echo_requests_received;
    if (message.size() > kMtu - kIpv4Header) return;  // cannot be: the frame held it
    auto reply = ip_payload().first(message.size());
    std::copy(message.begin(), message.end(), reply.begin());
    reply[0] = std::byte{kIcmpEchoReply};
    reply[1] = std::byte{0};
    store16(reply, 2, 0);
    store16(reply, 2, checksum_finish(checksum_add(0, as_const(reply))));
    if (ip_send(packet.source, kProtocolIcmp, reply.size(), now_ms))
      ++counters_.icmp_echo_replies_sent;
  } else if (type == kIcmpEchoReply) {
    ++counters_.icmp_echo_replies_received;
    echo_replies_[(echo_head_ + echo_count_) % kEchoRepliesKept] =
        EchoReply{packet.source, load16(message, 4), load16(message, 6)};
    if (echo_count_ < kEchoRepliesKept) {
      ++echo_count_;
    } else {
      echo_head_ = (echo_head_ + 1) % kEchoRepliesKept;
    }
  } else {
    ++counters_.icmp_other_ignored;
  }
}

NetError Stack::ping(Ipv4Address to, std::uint16_t identifier, std::uint16_t sequence,
                     std::size_t length, std::uint64_t now_ms) {
  if (length > kMtu - kIpv4Header - kIcmpHeader) return NetError::kInvalidArgument;
  auto request = ip_payload().first(kIcmpHeader + length);
  request[0] = std::byte{kIcmpEchoRequest};
  request[1] = std::byte{0};
  store16(request, 2, 0);
  store16(request, 4, identifier);
  store16(request, 6, sequence);
  for (std::size_t i = 0; i < length; ++i)
    request[kIcmpHeader + i] = static_cast<std::byte>(i);
  store16(request, 2, checksum_finish(checksum_add(0, as_const(request))));
  return ip_send(to, kProtocolIcmp, request.size(), now_ms) ? NetError::kOk : NetError::kWouldBlock;
}

Result<EchoReply> Stack::take_echo_reply() {
  if (echo_count_ == 0) return {{}, NetError::kWouldBlock};
  const EchoReply reply = echo_replies_[echo_head_];
  echo_head_ = (echo_head_ + 1) % kEchoRepliesKept;
  --echo_count_;
  return {reply, NetError::kOk};
}

void Stack::udp_input(const IpPacket& packet) {
  const auto datagram = packet.payload;
  if (datagram.size() < kUdpHeader) {
    ++counters_.udp_dropped_short;
    return;
  }
  const std::size_t length = load16(datagram, 4);
  if (length < kUdpHeader || length > datagram.size()) {
    ++counters_.udp_dropped_length;
    return;
  }
  const auto body = datagram.first(length);
  // A zero checksum means the sender did not compute one (RFC 768).
  if (load16(body, 6) != 0 &&
      checksum_finish(checksum_add(
          pseudo_header_sum(packet.source, packet.destination, kProtocolUdp, length), body)) != 0) {
    ++counters_.udp_dropped_checksum;
    return;
  }
  const std::uint16_t port = load16(body, 2);
  for (auto& socket : udp_) {
    if (!socket.used || socket.port != port) continue;
    if (socket.count == kUdpQueueLength) {
      ++counters_.udp_dropped_queue_full;
      return;
    }
    auto& slot = socket.queue[(socket.head + socket.count) % kUdpQueueLength];
    slot.from = packet.source;
    slot.from_port = load16(body, 0);
    slot.length = length - kUdpHeader;
    std::copy(body.begin() + kUdpHeader, body.end(), slot.data.begin());
    ++socket.count;
    ++counters_.udp_received;
    return;
  }
  ++counters_.udp_dropped_no_socket;
}

Stack::UdpEntry* Stack::udp_lookup(UdpSocket socket) {
  const std::uint32_t index = socket.id & 0xffff;
  if (index >= udp_.size()) return nullptr;
  auto& entry = udp_[index];
  if (!entry.used || entry.generation != (socket.id >> 16)) return nullptr;
  return &entry;
}

Result<UdpSocket> Stack::udp_bind(std::uint16_t port) {
  if (port == 0) return {{}, NetError::kInvalidArgument};
  for (const auto& entry : udp_) {
    if (entry.used && entry.port == port) return {{}, NetError::kPortInUse};
  }
  for (std::size_t i = 0; i < udp_.size(); ++i) {
    auto& entry = udp_[i];
    if (entry.used) continue;
    const std::uint16_t generation = static_cast<std::uint16_t>(entry.generation + 1);
    entry = UdpEntry{};
    entry.used = true;
    entry.generation = generation;
    entry.port = port;
    return {UdpSocket{(std::uint32_t{generation} << 16) | static_cast<std::uint32_t>(i)},
            NetError::kOk};
  }
  return {{}, NetError::kNoResources};
}

NetError Stack::udp_close(UdpSocket socket) {
  auto* entry = udp_lookup(socket);
  if (entry == nullptr) return NetError::kBadSocket;
  entry->used = false;
  return NetError::kOk;
}

NetError Stack::udp_send_to(UdpSocket socket, Ipv4Address to, std::uint16_t port,
                            std::span<const std::byte> data, std::uint64_t now_ms) {
  const auto* entry = udp_lookup(socket);
  if (entry == nullptr) return NetError::kBadSocket;
  if (port == 0 || to == 0 || data.size() > kUdpMaxPayload) return NetError::kInvalidArgument;
  const std::size_t length = kUdpHeader + data.size();
  auto datagram = ip_payload().first(length);
  store16(datagram, 0, entry->port);
  store16(datagram, 2, port);
  store16(datagram, 4, static_cast<std::uint16_t>(length));
  store16(datagram, 6, 0);
  std::copy(data.begin(), data.end(), datagram.begin() + kUdpHeader);
  std::uint16_t sum = checksum_finish(checksum_add(
      pseudo_header_sum(config_.address, to, kProtocolUdp, length), as_const(datagram)));
  store16(datagram, 6, sum == 0 ? 0xffff : sum);
  return ip_send(to, kProtocolUdp, length, now_ms) ? NetError::kOk : NetError::kWouldBlock;
}

Result<Datagram> Stack::udp_receive_from(UdpSocket socket, std::span<std::byte> buffer) {
  auto* entry = udp_lookup(socket);
  if (entry == nullptr) return {{}, NetError::kBadSocket};
  if (entry->count == 0) return {{}, NetError::kWouldBlock};
  const auto& slot = entry->queue[entry->head];
  const std::size_t copied = std::min(buffer.size(), slot.length);
  std::copy_n(slot.data.begin(), copied, buffer.begin());
  const Datagram datagram{copied, slot.from, slot.from_port};
  entry->head = (entry->head + 1) % kUdpQueueLength;
  --entry->count;
  return {datagram, NetError::kOk};
}

void Stack::poll(std::uint64_t now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  counters_.arp_entries_expired += arp_.expire(now_ms);
  counters_.arp_queue_dropped += arp_.poll(now_ms, [&](Ipv4Address ip) {
    send_arp(kArpRequest, MacAddress{}, ip);
    ++counters_.arp_requests_sent;
  });
  for (auto& c : connections_) {
    if (c.used) tcp_timers(c, now_ms);
  }
}

}  // namespace ukernel::net
