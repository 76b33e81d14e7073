// The DHCP client (stack/dhcp.hpp) against a scripted server: stack B of a TwoStacks on UDP
// port 67, answering as each test says, and hand-made hostile replies fed straight into A.
#include <catch2/catch.hpp>

#include "net/wire.hpp"
#include "stack/dhcp.hpp"

using namespace ukernel::net;
using namespace ukernel::net::test;

namespace {

constexpr Ipv4Address kLeased = ipv4(10, 0, 2, 15);
constexpr Ipv4Address kDns = ipv4(10, 0, 2, 3);

// The parts of a reply a test may change.
struct ReplySpec {
  std::uint8_t op = 2;
  std::uint32_t xid = 0;
  MacAddress chaddr = kMacA;
  Ipv4Address yiaddr = kLeased;
  int type = 2;                                         // option 53; -1: left out
  Ipv4Address server = kAddressB;                       // option 54; 0: left out
  std::uint32_t lease_seconds = 3600;                   // option 51; 0: left out
  std::uint32_t renew_seconds = 0, rebind_seconds = 0;  // 0: left out
  bool cookie = true;
  bool end = true;
  Bytes extra_options{};  // put before the end option
};

Bytes dhcp_reply(const ReplySpec& spec) {
  Bytes m(kDhcpFixedBytes + 4);
  m[0] = std::byte{spec.op};
  m[1] = std::byte{1};
  m[2] = std::byte{6};
  put32(m, 4, spec.xid);
  put32(m, 16, spec.yiaddr);
  store_mac(m, 28, spec.chaddr);
  if (spec.cookie) put32(m, kDhcpFixedBytes, kDhcpMagicCookie);
  const auto option32 = [&](std::uint8_t code, std::uint32_t value) {
    m.push_back(std::byte{code});
    m.push_back(std::byte{4});
    m.resize(m.size() + 4);
    put32(m, m.size() - 4, value);
  };
  if (spec.type >= 0) {
    m.push_back(std::byte{53});
    m.push_back(std::byte{1});
    m.push_back(static_cast<std::byte>(spec.type));
  }
  if (spec.server != 0) option32(54, spec.server);
  if (spec.lease_seconds != 0) option32(51, spec.lease_seconds);
  if (spec.renew_seconds != 0) option32(58, spec.renew_seconds);
  if (spec.rebind_seconds != 0) option32(59, spec.rebind_seconds);
  option32(1, ipv4(255, 255, 255, 0));
  option32(3, kAddressB);
  option32(6, kDns);
  m.insert(m.end(), spec.extra_options.begin(), spec.extra_options.end());
  if (spec.end) m.push_back(std::byte{255});
  return m;
}

// A reply as B would broadcast it, for feeding into A directly.
Bytes reply_frame(std::span<const std::byte> payload, std::uint16_t from_port = kDhcpServerPort) {
  return ethernet(
      kBroadcastMac, kMacB, kEtherTypeIpv4,
      ipv4_packet(kAddressB, 0xffffffff, kProtocolUdp,
                  udp_datagram(kAddressB, 0xffffffff, from_port, kDhcpClientPort, payload)));
}

// What a client's request said.
struct Request {
  int type = 0;
  std::uint32_t xid = 0;
  Ipv4Address ciaddr = 0, requested = 0, server = 0;
  std::uint64_t at_ms = 0;
};

Request parse_request(std::span<const std::byte> m) {
  Request r;
  REQUIRE(m.size() >= 300);  // the BOOTP minimum
  REQUIRE(std::to_integer<int>(m[0]) == 1);
  REQUIRE(load16(m, 10) == 0x8000);  // BROADCAST flag
  REQUIRE(load_mac(m, 28) == kMacA);
  REQUIRE(load32(m, kDhcpFixedBytes) == kDhcpMagicCookie);
  r.xid = load32(m, 4);
  r.ciaddr = load32(m, 12);
  std::size_t at = kDhcpFixedBytes + 4;
  while (at < m.size() && std::to_integer<int>(m[at]) != 255) {
    const int code = std::to_integer<int>(m[at]);
    const std::size_t length = std::to_integer<std::size_t>(m[at + 1]);
    if (code == 53) r.type = std::to_integer<int>(m[at + 2]);
    if (code == 50) r.requested = load32(m, at + 2);
    if (code == 54) r.server = load32(m, at + 2);
    at += 2 + length;
  }
  REQUIRE(at < m.size());  // an end option
  return r;
}

// Stack B as a DHCP server whose answers the test scripts: answer(request) returns the reply
// to broadcast, or nothing to stay silent.
struct ScriptedServer {
  TwoStacks& net;
  UdpSocket socket{};
  std::vector<Request> requests;
  std::function<std::optional<ReplySpec>(const Request&)> answer;

  explicit ScriptedServer(TwoStacks& n) : net(n) {
    auto bound = net.b.udp_bind(kDhcpServerPort);
    REQUIRE(bound.ok());
    socket = bound.value;
    answer = [](const Request& r) -> std::optional<ReplySpec> {
      ReplySpec spec;
      spec.xid = r.xid;
      spec.type = r.type == 1 ? 2 : 5;  // DISCOVER -> OFFER, REQUEST -> ACK
      return spec;
    };
  }
  void serve() {
    std::array<std::byte, kUdpMaxPayload> buffer{};
    for (;;) {
      auto got = net.b.udp_receive_from(socket, buffer);
      if (!got.ok()) return;
      Request r = parse_request(std::span(buffer).first(got.value.length));
      r.at_ms = net.now;
      requests.push_back(r);
      if (auto spec = answer(r)) {
        const Bytes reply = dhcp_reply(*spec);
        REQUIRE(net.b.udp_send_to(socket, 0xffffffff, kDhcpClientPort, reply, net.now) ==
                NetError::kOk);
      }
    }
  }
};

// A TwoStacks whose A has no address yet, with a DHCP client on A and a scripted server on B.
struct DhcpNet {
  TwoStacks net;
  ScriptedServer server{net};
  DhcpClient client{net.a, 0x1234};

  DhcpNet() { net.a.set_address(0, 0, 0); }
  bool run_until(const std::function<bool()>& done, std::uint64_t limit_ms) {
    return net.run_until(
        [&] {
          server.serve();
          client.poll(net.now);
          return done();
        },
        limit_ms);
  }
};

}  // namespace

TEST_CASE("dhcp: DISCOVER, OFFER, REQUEST and ACK give the stack its lease", "[net][dhcp]") {
  DhcpNet d;
  REQUIRE(d.client.start(d.net.now) == NetError::kOk);
  CHECK(d.client.state() == DhcpState::kSelecting);
  CHECK(d.client.start(d.net.now) == NetError::kInvalidArgument);
  REQUIRE(d.run_until([&] { return d.client.bound(); }, 10'000));

  REQUIRE(d.server.requests.size() == 2);
  CHECK(d.server.requests[0].type == 1);
  CHECK(d.server.requests[1].type == 3);
  CHECK(d.server.requests[1].requested == kLeased);
  CHECK(d.server.requests[1].server == kAddressB);
  CHECK(d.server.requests[1].xid == d.server.requests[0].xid);
  const DhcpLease& lease = d.client.lease();
  CHECK(lease.address == kLeased);
  CHECK(lease.netmask == ipv4(255, 255, 255, 0));
  CHECK(lease.router == kAddressB);
  CHECK(lease.dns == kDns);
  CHECK(lease.server == kAddressB);
  CHECK(lease.lease_seconds == 3600);
  CHECK(d.net.a.config().address == kLeased);
  CHECK(d.net.a.config().gateway == kAddressB);
  CHECK(d.client.counters().offers_received == 1);
  CHECK(d.client.counters().acks_received == 1);
  CHECK(d.client.next_deadline() == lease.obtained_ms + 1'800'000);  // T1: half the lease

  // The address works: B's ping to it is answered.
  REQUIRE(d.net.b.ping(kLeased, 3, 1, 32, d.net.now) == NetError::kOk);
  REQUIRE(d.run_until([&] { return d.net.b.take_echo_reply().ok(); }, 5'000));
}

TEST_CASE("dhcp: 0.0.0.0 is a source only for broadcast UDP", "[net][dhcp]") {
  TwoStacks net;
  auto server = net.a.udp_bind(kDhcpServerPort);
  REQUIRE(server.ok());
  const Bytes data(4);
  net.a.input(
      ethernet(kBroadcastMac, kMacB, kEtherTypeIpv4,
               ipv4_packet(0, 0xffffffff, kProtocolUdp, udp_datagram(0, 0xffffffff, 68, 67, data))),
      net.now);
  CHECK(net.a.counters().udp_received == 1);
  net.a.input(
      to_a(ipv4_packet(0, kAddressA, kProtocolUdp, udp_datagram(0, kAddressA, 68, 67, data))),
      net.now);
  net.a.input(ethernet(kBroadcastMac, kMacB, kEtherTypeIpv4,
                       ipv4_packet(0, 0xffffffff, kProtocolIcmp, icmp_echo_request(1, 1, 8))),
              net.now);
  CHECK(net.a.counters().ip_dropped_bad_source == 2);
}

TEST_CASE("dhcp: a stack without an address takes only broadcast IP", "[net][dhcp]") {
  TwoStacks net;
  net.a.set_address(0, 0, 0);
  const Bytes data(4);
  net.a.input(
      to_a(ipv4_packet(kAddressB, 0, kProtocolUdp, udp_datagram(kAddressB, 0, 67, 68, data))),
      net.now);
  CHECK(net.a.counters().ip_dropped_not_for_us == 1);
  CHECK(net.a.counters().udp_received == 0);
}

TEST_CASE("dhcp: malformed and hostile replies are dropped and counted", "[net][dhcp]") {
  DhcpNet d;
  d.server.answer = [](const Request&) { return std::nullopt; };  // B stays silent
  REQUIRE(d.client.start(d.net.now) == NetError::kOk);
  REQUIRE(d.run_until([&] { return !d.server.requests.empty(); }, 1'000));
  const std::uint32_t xid = d.client.xid();
  ReplySpec good;
  good.xid = xid;

  const auto feed = [&](const Bytes& payload, std::uint16_t from_port = kDhcpServerPort) {
    d.net.a.input(reply_frame(payload, from_port), d.net.now);
    d.client.poll(d.net.now);
    CHECK(d.client.state() == DhcpState::kSelecting);  // nothing acted on
    CHECK(d.net.a.config().address == 0);
    CHECK(d.client.counters().offers_received == 0);
  };
  const DhcpCounters& c = d.client.counters();

  SECTION("truncated") {
    Bytes payload = dhcp_reply(good);
    payload.resize(kDhcpFixedBytes + 2);  // the cookie cut in half
    feed(payload);
    CHECK(c.dropped_truncated == 1);
  }
  SECTION("not a BOOTREPLY") {
    ReplySpec spec = good;
    spec.op = 1;
    feed(dhcp_reply(spec));
    CHECK(c.dropped_not_reply == 1);
  }
  SECTION("wrong xid") {
    ReplySpec spec = good;
    spec.xid = xid + 1;
    feed(dhcp_reply(spec));
    CHECK(c.dropped_xid == 1);
  }
  SECTION("someone else's hardware address") {
    ReplySpec spec = good;
    spec.chaddr = kMacB;
    feed(dhcp_reply(spec));
    CHECK(c.dropped_hardware == 1);
  }
  SECTION("no magic cookie") {
    ReplySpec spec = good;
    spec.cookie = false;
    feed(dhcp_reply(spec));
    CHECK(c.dropped_no_cookie == 1);
  }
  SECTION("an option's length runs past the packet") {
    ReplySpec spec = good;
    spec.end = false;
    spec.extra_options = {std::byte{12}, std::byte{200}, std::byte{'x'}};
    feed(dhcp_reply(spec));
    CHECK(c.dropped_options_length == 1);
  }
  SECTION("an option code with no length byte") {
    ReplySpec spec = good;
    spec.end = false;
    spec.extra_options = {std::byte{12}};
    feed(dhcp_reply(spec));
    CHECK(c.dropped_options_length == 1);
  }
  SECTION("a message type of two bytes") {
    ReplySpec spec = good;
    spec.type = -1;
    spec.extra_options = {std::byte{53}, std::byte{2}, std::byte{2}, std::byte{2}};
    feed(dhcp_reply(spec));
    CHECK(c.dropped_options_length == 1);
  }
  SECTION("a router option of five bytes") {
    ReplySpec spec = good;
    spec.extra_options = {std::byte{3}, std::byte{5}, std::byte{10}, std::byte{0},
                          std::byte{2}, std::byte{2}, std::byte{0}};
    feed(dhcp_reply(spec));
    CHECK(c.dropped_options_length == 1);
  }
  SECTION("no end option") {
    ReplySpec spec = good;
    spec.end = false;
    feed(dhcp_reply(spec));
    CHECK(c.dropped_options_length == 1);
  }
  SECTION("no message type") {
    ReplySpec spec = good;
    spec.type = -1;
    feed(dhcp_reply(spec));
    CHECK(c.dropped_no_message_type == 1);
  }
  SECTION("an ACK while selecting") {
    ReplySpec spec = good;
    spec.type = 5;
    feed(dhcp_reply(spec));
    CHECK(c.dropped_unexpected == 1);
  }
  SECTION("a DISCOVER sent as a reply") {
    ReplySpec spec = good;
    spec.type = 1;
    feed(dhcp_reply(spec));
    CHECK(c.dropped_unexpected == 1);
  }
  SECTION("not from the server port") {
    feed(dhcp_reply(good), 6767);
    CHECK(c.dropped_unexpected == 1);
  }
  SECTION("an offer of 0.0.0.0") {
    ReplySpec spec = good;
    spec.yiaddr = 0;
    feed(dhcp_reply(spec));
    CHECK(c.dropped_bad_offer == 1);
  }
  SECTION("an offer of a multicast address") {
    ReplySpec spec = good;
    spec.yiaddr = ipv4(224, 0, 0, 1);
    feed(dhcp_reply(spec));
    CHECK(c.dropped_bad_offer == 1);
  }
  SECTION("an offer without a server identifier") {
    ReplySpec spec = good;
    spec.server = 0;
    feed(dhcp_reply(spec));
    CHECK(c.dropped_bad_offer == 1);
  }
  SECTION("an offer without a lease time") {
    ReplySpec spec = good;
    spec.lease_seconds = 0;
    feed(dhcp_reply(spec));
    CHECK(c.dropped_bad_offer == 1);
  }

  // Nothing was lost: the good offer that follows is taken.
  d.net.a.input(reply_frame(dhcp_reply(good)), d.net.now);
  d.client.poll(d.net.now);
  CHECK(d.client.state() == DhcpState::kRequesting);
  CHECK(c.offers_received == 1);
}

TEST_CASE("dhcp: a silent server gets the DISCOVER again after 4, 8 and 16 s", "[net][dhcp]") {
  DhcpNet d;
  int discovers = 0;
  d.server.answer = [&](const Request& r) -> std::optional<ReplySpec> {
    if (r.type == 1 && ++discovers <= 3) return std::nullopt;
    ReplySpec spec;
    spec.xid = r.xid;
    spec.type = r.type == 1 ? 2 : 5;
    return spec;
  };
  d.net.max_step = 100;
  REQUIRE(d.client.start(d.net.now) == NetError::kOk);
  REQUIRE(d.run_until([&] { return d.client.bound(); }, 60'000));
  REQUIRE(d.server.requests.size() == 5);
  const auto at = [&](std::size_t i) { return d.server.requests[i].at_ms; };
  CHECK(at(1) - at(0) >= 4'000);
  CHECK(at(1) - at(0) < 4'200);
  CHECK(at(2) - at(1) >= 8'000);
  CHECK(at(2) - at(1) < 8'200);
  CHECK(at(3) - at(2) >= 16'000);
  CHECK(at(3) - at(2) < 16'200);
  CHECK(d.client.counters().discovers_sent == 4);
}

TEST_CASE("dhcp: a REQUEST unanswered four times goes back to DISCOVER", "[net][dhcp]") {
  DhcpNet d;
  d.server.answer = [](const Request& r) -> std::optional<ReplySpec> {
    if (r.type != 1) return std::nullopt;  // offers, never acknowledges
    ReplySpec spec;
    spec.xid = r.xid;
    return spec;
  };
  d.net.max_step = 100;
  REQUIRE(d.client.start(d.net.now) == NetError::kOk);
  REQUIRE(d.run_until([&] { return d.client.counters().discovers_sent == 2; }, 120'000));
  CHECK(d.client.counters().requests_sent == 4);
  CHECK(d.client.counters().offers_received == 1);  // the second offer is still to come
  CHECK(d.net.now >= 4'000 + 8'000 + 16'000 + 32'000);
  CHECK(d.net.now < 4'000 + 8'000 + 16'000 + 32'000 + 500);
  CHECK(d.client.state() == DhcpState::kSelecting);
  CHECK(d.net.a.config().address == 0);
}

TEST_CASE("dhcp: a NAK starts over with a new transaction", "[net][dhcp]") {
  DhcpNet d;
  bool naked = false;
  d.server.answer = [&](const Request& r) -> std::optional<ReplySpec> {
    ReplySpec spec;
    spec.xid = r.xid;
    spec.type = r.type == 1 ? 2 : naked ? 5 : 6;
    if (r.type == 3) naked = true;
    return spec;
  };
  REQUIRE(d.client.start(d.net.now) == NetError::kOk);
  REQUIRE(d.run_until([&] { return d.client.bound(); }, 10'000));
  CHECK(d.client.counters().naks_received == 1);
  CHECK(d.client.counters().discovers_sent == 2);
  REQUIRE(d.server.requests.size() == 4);
  CHECK(d.server.requests[2].xid != d.server.requests[0].xid);
}

TEST_CASE("dhcp: a lease is renewed at T1 by unicast, and lost when it runs out", "[net][dhcp]") {
  DhcpNet d;
  bool silent = false;
  d.server.answer = [&](const Request& r) -> std::optional<ReplySpec> {
    if (silent) return std::nullopt;
    ReplySpec spec;
    spec.xid = r.xid;
    spec.type = r.type == 1 ? 2 : 5;
    spec.lease_seconds = 100;
    spec.renew_seconds = 40;
    spec.rebind_seconds = 80;
    return spec;
  };
  REQUIRE(d.client.start(d.net.now) == NetError::kOk);
  REQUIRE(d.run_until([&] { return d.client.bound(); }, 10'000));
  const std::uint64_t first = d.client.lease().obtained_ms;
  CHECK(d.client.next_deadline() == first + 40'000);

  REQUIRE(d.run_until([&] { return d.client.lease().obtained_ms != first; }, 60'000));
  REQUIRE(d.server.requests.size() == 3);
  const Request& renew = d.server.requests[2];
  CHECK(renew.type == 3);
  CHECK(renew.ciaddr == kLeased);
  CHECK(renew.requested == 0);  // RENEWING names neither the address nor the server
  CHECK(renew.at_ms >= first + 40'000);
  CHECK(d.client.state() == DhcpState::kBound);
  CHECK(d.net.a.counters().arp_requests_sent >= 1);  // unicast: A resolved the server

  silent = true;
  const std::uint64_t second = d.client.lease().obtained_ms;
  REQUIRE(d.run_until([&] { return !d.client.bound(); }, 200'000));
  CHECK(d.net.now >= second + 100'000);
  CHECK(d.client.counters().leases_expired == 1);
  CHECK(d.client.state() == DhcpState::kSelecting);
  CHECK(d.net.a.config().address == 0);
}

TEST_CASE("dhcp: the reply parser reads every field it uses", "[net][dhcp]") {
  ReplySpec spec;
  spec.xid = 77;
  spec.type = 5;
  spec.renew_seconds = 10;
  spec.rebind_seconds = 20;
  DhcpReply reply;
  REQUIRE(parse_dhcp_reply(dhcp_reply(spec), 77, kMacA, &reply) == DhcpDrop::kNone);
  CHECK(reply.type == DhcpMessageType::kAck);
  CHECK(reply.your_address == kLeased);
  CHECK(reply.server == kAddressB);
  CHECK(reply.netmask == ipv4(255, 255, 255, 0));
  CHECK(reply.router == kAddressB);
  CHECK(reply.dns == kDns);
  CHECK(reply.lease_seconds == 3600);
  CHECK(reply.renew_seconds == 10);
  CHECK(reply.rebind_seconds == 20);
}
