// The DHCP client (see dhcp.hpp).
#include "stack/dhcp.hpp"

#include <algorithm>
#include <array>

namespace ukernel::net {

namespace {

constexpr std::uint8_t kBootRequest = 1;
constexpr std::uint8_t kBootReply = 2;
constexpr std::uint16_t kFlagBroadcast = 0x8000;
constexpr std::size_t kOptionsStart = kDhcpFixedBytes + 4;
constexpr std::size_t kChaddr = 28;
constexpr std::size_t kMessageBytes = 300;  // the BOOTP minimum some servers insist on

enum Option : std::uint8_t {
  kPad = 0,
  kSubnetMask = 1,
  kRouter = 3,
  kDns = 6,
  kRequestedAddress = 50,
  kLeaseTime = 51,
  kMessageType = 53,
  kServerId = 54,
  kParameterList = 55,
  kRenewTime = 58,
  kRebindTime = 59,
  kEnd = 255,
};

bool usable_address(Ipv4Address a) {
  return a != 0 && a != 0xffffffff && (a >> 28) != 0xe && (a >> 24) != 127;
}

// The classful netmask, for a lease without option 1.
Ipv4Address default_netmask(Ipv4Address a) {
  if ((a >> 31) == 0) return 0xff000000;
  if ((a >> 30) == 2) return 0xffff0000;
  return 0xffffff00;
}

}  // namespace

DhcpDrop parse_dhcp_reply(std::span<const std::byte> packet, std::uint32_t xid,
                          const MacAddress& mac, DhcpReply* out) {
  if (packet.size() < kOptionsStart) return DhcpDrop::kTruncated;
  if (std::to_integer<std::uint8_t>(packet[0]) != kBootReply) return DhcpDrop::kNotReply;
  if (std::to_integer<std::uint8_t>(packet[1]) != 1 ||
      std::to_integer<std::uint8_t>(packet[2]) != 6 || load_mac(packet, kChaddr) != mac)
    return DhcpDrop::kHardware;
  if (load32(packet, 4) != xid) return DhcpDrop::kXid;
  if (load32(packet, kDhcpFixedBytes) != kDhcpMagicCookie) return DhcpDrop::kNoCookie;

  DhcpReply reply;
  reply.your_address = load32(packet, 16);
  bool have_type = false, have_lease = false, end = false;
  std::size_t at = kOptionsStart;
  while (at < packet.size()) {
    const auto code = std::to_integer<std::uint8_t>(packet[at]);
    if (code == kPad) {
      ++at;
      continue;
    }
    if (code == kEnd) {
      end = true;
      break;
    }
    if (at + 2 > packet.size()) return DhcpDrop::kOptionsLength;
    const std::size_t length = std::to_integer<std::size_t>(packet[at + 1]);
    if (at + 2 + length > packet.size()) return DhcpDrop::kOptionsLength;
    const auto data = packet.subspan(at + 2, length);
    switch (code) {
      case kMessageType:
        if (length != 1) return DhcpDrop::kOptionsLength;
        reply.type = static_cast<DhcpMessageType>(data[0]);
        have_type = true;
        break;
      case kSubnetMask:
      case kServerId:
      case kLeaseTime:
      case kRenewTime:
      case kRebindTime: {
        if (length != 4) return DhcpDrop::kOptionsLength;
        const std::uint32_t value = load32(data, 0);
        if (code == kSubnetMask) reply.netmask = value;
        if (code == kServerId) reply.server = value;
        if (code == kLeaseTime) {
          reply.lease_seconds = value;
          have_lease = true;
        }
        if (code == kRenewTime) reply.renew_seconds = value;
        if (code == kRebindTime) reply.rebind_seconds = value;
        break;
      }
      case kRouter:
      case kDns:
        if (length == 0 || length % 4 != 0) return DhcpDrop::kOptionsLength;
        (code == kRouter ? reply.router : reply.dns) = load32(data, 0);
        break;
      default:
        break;  // options this client does not use
    }
    at += 2 + length;
  }
  if (!end) return DhcpDrop::kOptionsLength;
  if (!have_type) return DhcpDrop::kNoMessageType;
  switch (reply.type) {
    case DhcpMessageType::kOffer:
    case DhcpMessageType::kAck:
      if (!usable_address(reply.your_address) || reply.server == 0 || !have_lease)
        return DhcpDrop::kBadOffer;
      break;
    case DhcpMessageType::kNak:
      break;
    default:
      return DhcpDrop::kUnexpected;
  }
  *out = reply;
  return DhcpDrop::kNone;
}

DhcpClient::DhcpClient(Stack& stack, std::uint64_t xid_seed)
    : stack_(stack), random_(xid_seed | 1) {}

void DhcpClient::new_transaction() {
  // xorshift64: the transaction identifiers only have to differ, not be secret.
  random_ ^= random_ << 13;
  random_ ^= random_ >> 7;
  random_ ^= random_ << 17;
  xid_ = static_cast<std::uint32_t>(random_ >> 16);
}

NetError DhcpClient::start(std::uint64_t now_ms) {
  if (state_ != DhcpState::kStopped) return NetError::kInvalidArgument;
  const auto socket = stack_.udp_bind(kDhcpClientPort);
  if (!socket.ok()) return socket.error;
  socket_ = socket.value;
  discover(now_ms);
  return NetError::kOk;
}

void DhcpClient::discover(std::uint64_t now_ms) {
  state_ = DhcpState::kSelecting;
  new_transaction();
  retry_ms_ = kDhcpFirstRetryMs;
  attempts_ = 0;
  send(DhcpMessageType::kDiscover, now_ms);
  retry_later(now_ms);
}

void DhcpClient::retry_later(std::uint64_t now_ms) {
  deadline_ms_ = now_ms + retry_ms_;
  retry_ms_ = std::min(retry_ms_ * 2, kDhcpMaxRetryMs);
  // A bound client's retries never pass the next phase.
  if (state_ == DhcpState::kRenewing) deadline_ms_ = std::min(deadline_ms_, rebind_ms_);
  if (state_ == DhcpState::kRebinding) deadline_ms_ = std::min(deadline_ms_, expire_ms_);
}

void DhcpClient::send(DhcpMessageType type, std::uint64_t now_ms) {
  std::array<std::byte, kMessageBytes> m{};
  m[0] = std::byte{kBootRequest};
  m[1] = std::byte{1};  // Ethernet
  m[2] = std::byte{6};
  store32(m, 4, xid_);
  store16(m, 10, kFlagBroadcast);
  const bool renewing = state_ == DhcpState::kRenewing || state_ == DhcpState::kRebinding;
  if (renewing) store32(m, 12, lease_.address);  // ciaddr
  store_mac(m, kChaddr, stack_.config().mac);
  store32(m, kDhcpFixedBytes, kDhcpMagicCookie);
  std::size_t at = kOptionsStart;
  const auto option = [&](std::uint8_t code, std::span<const std::byte> data) {
    m[at] = std::byte{code};
    m[at + 1] = static_cast<std::byte>(data.size());
    std::copy(data.begin(), data.end(), m.begin() + static_cast<std::ptrdiff_t>(at + 2));
    at += 2 + data.size();
  };
  const auto address_option = [&](std::uint8_t code, Ipv4Address address) {
    std::array<std::byte, 4> data{};
    store32(data, 0, address);
    option(code, data);
  };
  const std::byte message_type[] = {static_cast<std::byte>(type)};
  option(kMessageType, message_type);
  if (state_ == DhcpState::kRequesting) {  // SELECTING's REQUEST names the offer it takes
    address_option(kRequestedAddress, offer_.your_address);
    address_option(kServerId, offer_.server);
  }
  const std::byte wanted[] = {std::byte{kSubnetMask}, std::byte{kRouter},
                              std::byte{kDns},        std::byte{kLeaseTime},
                              std::byte{kRenewTime},  std::byte{kRebindTime}};
  option(kParameterList, wanted);
  m[at] = std::byte{kEnd};

  const Ipv4Address to = state_ == DhcpState::kRenewing ? lease_.server : 0xffffffff;
  if (stack_.udp_send_to(socket_, to, kDhcpServerPort, m, now_ms) != NetError::kOk) {
    ++counters_.send_failed;
    return;
  }
  if (type == DhcpMessageType::kDiscover) {
    ++counters_.discovers_sent;
  } else {
    ++counters_.requests_sent;
  }
}

void DhcpClient::count_drop(DhcpDrop drop) {
  switch (drop) {
    case DhcpDrop::kNone:
      break;
    case DhcpDrop::kTruncated:
      ++counters_.dropped_truncated;
      break;
    case DhcpDrop::kNotReply:
      ++counters_.dropped_not_reply;
      break;
    case DhcpDrop::kHardware:
      ++counters_.dropped_hardware;
      break;
    case DhcpDrop::kXid:
      ++counters_.dropped_xid;
      break;
    case DhcpDrop::kNoCookie:
      ++counters_.dropped_no_cookie;
      break;
    case DhcpDrop::kOptionsLength:
      ++counters_.dropped_options_length;
      break;
    case DhcpDrop::kNoMessageType:
      ++counters_.dropped_no_message_type;
      break;
    case DhcpDrop::kUnexpected:
      ++counters_.dropped_unexpected;
      break;
    case DhcpDrop::kBadOffer:
      ++counters_.dropped_bad_offer;
      break;
  }
}

void DhcpClient::poll(std::uint64_t now_ms) {
  if (state_ == DhcpState::kStopped) return;
  std::array<std::byte, kUdpMaxPayload> buffer{};
  for (;;) {
    const auto datagram = stack_.udp_receive_from(socket_, buffer);
    if (!datagram.ok()) break;
    if (datagram.value.from_port != kDhcpServerPort) {
      ++counters_.dropped_unexpected;  // port 68 is ours, but this is not from a server
      continue;
    }
    handle(std::span(buffer).first(datagram.value.length), now_ms);
  }
  if (deadline_ms_ == 0 || now_ms < deadline_ms_) return;
  switch (state_) {
    case DhcpState::kStopped:
      break;
    case DhcpState::kSelecting:
      send(DhcpMessageType::kDiscover, now_ms);
      retry_later(now_ms);
      break;
    case DhcpState::kRequesting:
      if (++attempts_ >= kDhcpRequestAttempts) {
        discover(now_ms);
        break;
      }
      send(DhcpMessageType::kRequest, now_ms);
      retry_later(now_ms);
      break;
    case DhcpState::kBound:
    case DhcpState::kRenewing:
    case DhcpState::kRebinding:
      if (now_ms >= expire_ms_) {
        ++counters_.leases_expired;
        lose_lease();
        discover(now_ms);
        break;
      }
      if (state_ != DhcpState::kRebinding && now_ms >= rebind_ms_) {
        state_ = DhcpState::kRebinding;
        new_transaction();
        retry_ms_ = kDhcpFirstRetryMs;
      } else if (state_ == DhcpState::kBound) {
        state_ = DhcpState::kRenewing;
        new_transaction();
        retry_ms_ = kDhcpFirstRetryMs;
      }
      send(DhcpMessageType::kRequest, now_ms);
      retry_later(now_ms);
      break;
  }
}

void DhcpClient::handle(std::span<const std::byte> packet, std::uint64_t now_ms) {
  DhcpReply reply;
  const DhcpDrop drop = parse_dhcp_reply(packet, xid_, stack_.config().mac, &reply);
  if (drop != DhcpDrop::kNone) {
    count_drop(drop);
    return;
  }
  const bool nak = reply.type == DhcpMessageType::kNak;
  const bool ack = reply.type == DhcpMessageType::kAck;
  switch (state_) {
    case DhcpState::kSelecting:
      if (reply.type != DhcpMessageType::kOffer) break;
      ++counters_.offers_received;
      offer_ = reply;
      state_ = DhcpState::kRequesting;
      retry_ms_ = kDhcpFirstRetryMs;
      attempts_ = 0;
      send(DhcpMessageType::kRequest, now_ms);
      retry_later(now_ms);
      return;
    case DhcpState::kRequesting:
    case DhcpState::kRenewing:
    case DhcpState::kRebinding: {
      // In REQUESTING only the server whose offer we took may answer.
      const Ipv4Address expected = state_ == DhcpState::kRequesting ? offer_.server
                                   : state_ == DhcpState::kRenewing ? lease_.server
                                                                    : 0;
      if (expected != 0 && reply.server != 0 && reply.server != expected) break;
      if (nak) {
        ++counters_.naks_received;
        lose_lease();
        discover(now_ms);
        return;
      }
      if (ack) {
        ++counters_.acks_received;
        bind(reply, now_ms);
        return;
      }
      break;
    }
    case DhcpState::kBound:
    case DhcpState::kStopped:
      break;
  }
  ++counters_.dropped_unexpected;
}

void DhcpClient::bind(const DhcpReply& ack, std::uint64_t now_ms) {
  lease_.address = ack.your_address;
  lease_.netmask = ack.netmask != 0 ? ack.netmask : default_netmask(ack.your_address);
  lease_.router = ack.router;
  lease_.dns = ack.dns;
  lease_.server = ack.server;
  lease_.lease_seconds = std::max(ack.lease_seconds, kDhcpMinLeaseSeconds);
  lease_.obtained_ms = now_ms;
  stack_.set_address(lease_.address, lease_.netmask, lease_.router);
  state_ = DhcpState::kBound;
  attempts_ = 0;
  retry_ms_ = kDhcpFirstRetryMs;
  if (lease_.lease_seconds == 0xffffffff) {  // infinite: nothing to renew
    deadline_ms_ = 0;
    return;
  }
  const std::uint64_t lease_ms = std::uint64_t{lease_.lease_seconds} * 1000;
  std::uint64_t renew = std::uint64_t{ack.renew_seconds} * 1000;
  std::uint64_t rebind = std::uint64_t{ack.rebind_seconds} * 1000;
  if (rebind == 0 || rebind >= lease_ms) rebind = lease_ms / 8 * 7;
  if (renew == 0 || renew >= rebind) renew = std::min(lease_ms / 2, rebind);
  renew_ms_ = now_ms + renew;
  rebind_ms_ = now_ms + rebind;
  expire_ms_ = now_ms + lease_ms;
  deadline_ms_ = renew_ms_;
}

void DhcpClient::lose_lease() {
  if (bound()) stack_.set_address(0, 0, 0);
  lease_ = DhcpLease{};
}

}  // namespace ukernel::net
