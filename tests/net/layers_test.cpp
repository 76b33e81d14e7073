// Ethernet, ARP, IPv4, ICMP and UDP: each check drops and counts, each feature works between
// two stacks.
#include <catch2/catch.hpp>

#include "net/wire.hpp"

using namespace ukernel::net;
using namespace ukernel::net::test;

TEST_CASE("SipHash-2-4 matches the paper's test vectors", "[net]") {
  SipKey key{};
  for (std::size_t i = 0; i < key.size(); ++i)
    key[i] = static_cast<std::uint8_t>(i);
  std::array<std::uint8_t, 15> message{};
  for (std::size_t i = 0; i < message.size(); ++i)
    message[i] = static_cast<std::uint8_t>(i);
  CHECK(siphash24(key, std::span<const std::uint8_t>()) == 0x726fdb47dd0e0e31ULL);
  CHECK(siphash24(key, message) == 0xa129ca6149be45e5ULL);
}

TEST_CASE("The Internet checksum of a header with its checksum is zero", "[net]") {
  const Bytes packet = ipv4_packet(kAddressB, kAddressA, kProtocolUdp, Bytes(4));
  CHECK(checksum_finish(checksum_add(0, std::span(packet).first(kIpv4Header))) == 0);
}

TEST_CASE("Ping resolves the neighbour by ARP, is answered, and the cache times out", "[net]") {
  TwoStacks net;
  REQUIRE(net.a.ping(kAddressB, 7, 1, 56, net.now) == NetError::kOk);
  CHECK(net.a.counters().arp_requests_sent == 1);
  CHECK(net.a.arp().queued() == 1);
  REQUIRE(net.run_until([&] { return net.a.counters().icmp_echo_replies_received == 1; }, 100));
  const auto reply = net.a.take_echo_reply();
  REQUIRE(reply.ok());
  CHECK(reply.value.from == kAddressB);
  CHECK(reply.value.identifier == 7);
  CHECK(reply.value.sequence == 1);
  CHECK(net.b.counters().arp_replies_sent == 1);
  CHECK(net.b.counters().icmp_echo_replies_sent == 1);
  CHECK(net.a.arp().cached() == 1);
  CHECK(net.a.take_echo_reply().error == NetError::kWouldBlock);

  // A second ping finds the cache warm: no new request.
  REQUIRE(net.a.ping(kAddressB, 7, 2, 8, net.now) == NetError::kOk);
  CHECK(net.a.counters().arp_requests_sent == 1);
  // After the lifetime the entry is gone and the next ping asks again.
  net.now += kArpEntryLifetimeMs;
  net.a.poll(net.now);
  CHECK(net.a.counters().arp_entries_expired == 1);
  CHECK(net.a.arp().cached() == 0);
  REQUIRE(net.a.ping(kAddressB, 7, 3, 8, net.now) == NetError::kOk);
  CHECK(net.a.counters().arp_requests_sent == 2);
}

TEST_CASE("Packets for an unanswered next hop wait in a bounded queue, then are dropped", "[net]") {
  Capture capture;
  std::vector<TcpConnection> pool(1);
  Stack stack(config_for(0), LinkRef(capture), pool);
  for (std::uint16_t i = 0; i < kArpQueueLength + 4; ++i) {
    (void)stack.ping(ipv4(10, 0, 2, static_cast<std::uint8_t>(100 + i % 3)), 1, i, 8, 0);
  }
  CHECK(stack.arp().queued() == kArpQueueLength);
  CHECK(stack.counters().arp_queue_dropped == 4);
  CHECK(stack.counters().arp_requests_sent == 3);  // one per next hop
  for (std::uint64_t t = 0; t <= kArpMaxRequests * kArpRetryMs; t += kArpRetryMs)
    stack.poll(t);
  CHECK(stack.counters().arp_requests_sent == 3 * kArpMaxRequests);
  CHECK(stack.arp().queued() == 0);
  CHECK(stack.counters().arp_queue_dropped == 4 + kArpQueueLength);
  CHECK(stack.check_invariants() == nullptr);
}

TEST_CASE("Malformed ARP is dropped and counted", "[net]") {
  Capture capture;
  std::vector<TcpConnection> pool(1);
  Stack stack(config_for(0), LinkRef(capture), pool);
  Bytes arp(28);
  put16(arp, 0, 1);
  put16(arp, 2, kEtherTypeIpv4);
  arp[4] = std::byte{6};
  arp[5] = std::byte{4};
  put16(arp, 6, 1);
  store_mac(arp, 8, kMacB);
  put32(arp, 14, kAddressB);
  put32(arp, 24, kAddressA);
  Bytes short_arp(arp.begin(), arp.begin() + 20);
  Bytes bad_operation = arp;
  put16(bad_operation, 6, 9);
  Bytes bad_hardware = arp;
  put16(bad_hardware, 0, 6);
  for (const Bytes& bad : {short_arp, bad_operation, bad_hardware}) {
    stack.input(ethernet(kBroadcastMac, kMacB, kEtherTypeArp, bad), 0);
  }
  CHECK(stack.counters().arp_dropped_malformed == 3);
  CHECK(capture.frames.empty());
  CHECK(stack.arp().cached() == 0);
  stack.input(ethernet(kBroadcastMac, kMacB, kEtherTypeArp, arp), 0);
  CHECK(stack.arp().cached() == 1);
  CHECK(capture.frames.size() == 1);  // the reply
}

TEST_CASE("Every malformed Ethernet or IPv4 packet is dropped and counted, never answered",
          "[net]") {
  Capture capture;
  std::vector<TcpConnection> pool(1);
  Stack stack(config_for(0), LinkRef(capture), pool);
  const Bytes echo = icmp_echo_request(1, 1, 16);
  const Bytes good = ipv4_packet(kAddressB, kAddressA, kProtocolIcmp, echo);
  struct Case {
    const char* what;
    Bytes frame;
    std::uint64_t Counters::*counter;
  };
  auto mutate = [&](auto&& change) {
    Bytes p = good;
    change(p);
    return to_a(p);
  };
  auto rechecksum = [](Bytes& p) {
    const std::size_t header = (std::to_integer<std::size_t>(p[0]) & 0xf) * 4;
    put16(p, 10, 0);
    put16(p, 10, checksum_finish(checksum_add(0, std::span(p).first(std::min(header, p.size())))));
  };
  std::vector<Case> cases;
  cases.push_back({"short Ethernet", Bytes(10), &Counters::eth_dropped_short});
  cases.push_back({"another MAC", ethernet(kMacB, kMacB, kEtherTypeIpv4, good),
                   &Counters::eth_dropped_not_for_us});
  cases.push_back(
      {"IPv6 ethertype", ethernet(kMacA, kMacB, 0x86dd, good), &Counters::eth_dropped_ethertype});
  cases.push_back({"truncated IP header", to_a(Bytes(good.begin(), good.begin() + 12)),
                   &Counters::ip_dropped_short});
  cases.push_back({"version 6", mutate([&](Bytes& p) {
                     p[0] = std::byte{0x65};
                     rechecksum(p);
                   }),
                   &Counters::ip_dropped_version});
  cases.push_back({"IHL 4", mutate([&](Bytes& p) { p[0] = std::byte{0x44}; }),
                   &Counters::ip_dropped_header_length});
  cases.push_back({"IHL past the packet", to_a(Bytes(good.begin(), good.begin() + 22)),
                   &Counters::ip_dropped_total_length});
  cases.push_back({"total length past the frame", mutate([&](Bytes& p) {
                     put16(p, 2, static_cast<std::uint16_t>(p.size() + 1));
                     rechecksum(p);
                   }),
                   &Counters::ip_dropped_total_length});
  cases.push_back({"total length below the header", mutate([&](Bytes& p) {
                     put16(p, 2, 19);
                     rechecksum(p);
                   }),
                   &Counters::ip_dropped_total_length});
  cases.push_back({"wrong checksum", mutate([&](Bytes& p) { p[8] = std::byte{63}; }),
                   &Counters::ip_dropped_checksum});
  cases.push_back(
      {"option length 0",
       to_a(ipv4_packet(kAddressB, kAddressA, kProtocolIcmp, echo,
                        Bytes{std::byte{0x44}, std::byte{0}, std::byte{0}, std::byte{0}})),
       &Counters::ip_dropped_options});
  cases.push_back(
      {"option past the header",
       to_a(ipv4_packet(kAddressB, kAddressA, kProtocolIcmp, echo,
                        Bytes{std::byte{1}, std::byte{0x83}, std::byte{7}, std::byte{4}})),
       &Counters::ip_dropped_options});
  cases.push_back(
      {"option type without length",
       to_a(ipv4_packet(kAddressB, kAddressA, kProtocolIcmp, echo,
                        Bytes{std::byte{1}, std::byte{1}, std::byte{1}, std::byte{0x44}})),
       &Counters::ip_dropped_options});
  cases.push_back({"first fragment (MF)",
                   to_a(ipv4_packet(kAddressB, kAddressA, kProtocolIcmp, echo, {}, 0x2000)),
                   &Counters::ip_dropped_fragment});
  cases.push_back({"later fragment (offset)",
                   to_a(ipv4_packet(kAddressB, kAddressA, kProtocolIcmp, echo, {}, 0x0010)),
                   &Counters::ip_dropped_fragment});
  cases.push_back({"another host",
                   to_a(ipv4_packet(kAddressB, ipv4(10, 0, 2, 99), kProtocolIcmp, echo)),
                   &Counters::ip_dropped_not_for_us});
  cases.push_back({"broadcast source",
                   to_a(ipv4_packet(0xffffffff, kAddressA, kProtocolIcmp, echo)),
                   &Counters::ip_dropped_bad_source});
  cases.push_back({"our own source", to_a(ipv4_packet(kAddressA, kAddressA, kProtocolIcmp, echo)),
                   &Counters::ip_dropped_bad_source});
  cases.push_back({"unknown protocol", to_a(ipv4_packet(kAddressB, kAddressA, 99, echo)),
                   &Counters::ip_dropped_protocol});
  cases.push_back({"ICMP bad checksum",
                   mutate([&](Bytes& p) { p[kIpv4Header + 9] ^= std::byte{1}; }),
                   &Counters::icmp_dropped_malformed});
  cases.push_back({"ICMP short",
                   to_a(ipv4_packet(kAddressB, kAddressA, kProtocolIcmp,
                                    Bytes(echo.begin(), echo.begin() + 4))),
                   &Counters::icmp_dropped_malformed});
  for (const auto& c : cases) {
    INFO(c.what);
    const std::uint64_t before = stack.counters().*c.counter;
    const auto frames_before = capture.frames.size();
    stack.input(c.frame, 0);
    CHECK(stack.counters().*c.counter == before + 1);
    CHECK(capture.frames.size() == frames_before);
    CHECK(stack.counters().icmp_echo_requests_received == 0);
  }
  CHECK(stack.check_invariants() == nullptr);
  // Well-formed options (a NOP, then a 3-byte option, then the end of the list) are accepted.
  stack.input(to_a(ipv4_packet(kAddressB, kAddressA, kProtocolIcmp, echo,
                               Bytes{std::byte{1}, std::byte{0x88}, std::byte{3}, std::byte{0}})),
              0);
  CHECK(stack.counters().icmp_echo_requests_received == 1);
}

TEST_CASE("UDP datagrams travel between stacks; bad ones are dropped and counted", "[net]") {
  TwoStacks net;
  auto server = net.b.udp_bind(5353);
  REQUIRE(server.ok());
  CHECK(net.b.udp_bind(5353).error == NetError::kPortInUse);
  CHECK(net.b.udp_bind(0).error == NetError::kInvalidArgument);
  auto client = net.a.udp_bind(40000);
  REQUIRE(client.ok());
  const Bytes message = pattern(1000, 3);
  REQUIRE(net.a.udp_send_to(client.value, kAddressB, 5353, message, net.now) == NetError::kOk);
  CHECK(net.a.udp_send_to(client.value, kAddressB, 5353, Bytes(kUdpMaxPayload + 1), net.now) ==
        NetError::kInvalidArgument);
  Bytes buffer(2000);
  REQUIRE(net.run_until([&] { return net.b.counters().udp_received == 1; }, 100));
  auto got = net.b.udp_receive_from(server.value, buffer);
  REQUIRE(got.ok());
  CHECK(got.value.from == kAddressA);
  CHECK(got.value.from_port == 40000);
  CHECK(Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(got.value.length)) ==
        message);
  CHECK(net.b.udp_receive_from(server.value, buffer).error == NetError::kWouldBlock);

  // Hand-made bad datagrams at A.
  const Bytes good = udp_datagram(kAddressB, kAddressA, 53, 40000, Bytes(12));
  Bytes bad_checksum = good;
  bad_checksum[9] ^= std::byte{0xff};
  Bytes long_length = good;
  put16(long_length, 4, 200);
  Bytes short_length = good;
  put16(short_length, 4, 7);
  const auto& counters = net.a.counters();
  net.a.input(to_a(ipv4_packet(kAddressB, kAddressA, kProtocolUdp, bad_checksum)), net.now);
  net.a.input(to_a(ipv4_packet(kAddressB, kAddressA, kProtocolUdp, long_length)), net.now);
  net.a.input(to_a(ipv4_packet(kAddressB, kAddressA, kProtocolUdp, short_length)), net.now);
  net.a.input(to_a(ipv4_packet(kAddressB, kAddressA, kProtocolUdp, Bytes(5))), net.now);
  net.a.input(to_a(ipv4_packet(kAddressB, kAddressA, kProtocolUdp,
                               udp_datagram(kAddressB, kAddressA, 53, 41000, Bytes(4)))),
              net.now);
  CHECK(counters.udp_dropped_checksum == 1);
  CHECK(counters.udp_dropped_length == 2);
  CHECK(counters.udp_dropped_short == 1);
  CHECK(counters.udp_dropped_no_socket == 1);
  for (std::size_t i = 0; i < kUdpQueueLength + 2; ++i) {
    net.a.input(to_a(ipv4_packet(kAddressB, kAddressA, kProtocolUdp, good)), net.now);
  }
  CHECK(counters.udp_received == kUdpQueueLength);
  CHECK(counters.udp_dropped_queue_full == 2);
  CHECK(net.a.udp_close(client.value) == NetError::kOk);
  CHECK(net.a.udp_close(client.value) == NetError::kBadSocket);
  CHECK(net.a.udp_receive_from(client.value, buffer).error == NetError::kBadSocket);
}
