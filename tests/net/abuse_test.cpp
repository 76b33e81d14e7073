// Hostile input to TCP: every malformed segment kind dropped and counted (and the connection
// unharmed), a SYN flood and hundreds of idle connections in bounded memory while new
// connections still succeed, and a seeded mutation fuzzer over the whole input path with the
// stack's invariants checked after every frame.
#include <catch2/catch.hpp>

#include <random>

#include "net/tcp_harness.hpp"

using namespace ukernel::net;
using namespace ukernel::net::test;

namespace {

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

// A frame from A's MAC to B carrying a TCP segment.
Bytes to_b(Ipv4Address from, const Bytes& segment, std::uint16_t flags_offset = 0x4000) {
  return ethernet(kMacB, kMacA, kEtherTypeIpv4,
                  ipv4_packet(from, kAddressB, kProtocolTcp, segment, {}, flags_offset));
}

}  // namespace

TEST_CASE("Every malformed TCP segment is dropped and counted, and the connection survives",
          "[net]") {
  TwoStacks net;
  auto listener = net.b.tcp_listen(kServerPort, 4);
  REQUIRE(listener.ok());
  auto c = open_connection(net, listener.value);
  const auto* client = net.a.tcp_connection(c.client);
  const auto* server = net.b.tcp_connection(c.server);
  const std::uint16_t port = client->local_port;
  const Bytes data = pattern(100, 1);
  auto segment = [&](std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                     const Bytes& options = {}) {
    return tcp_segment(kAddressA, kAddressB, port, kServerPort, seq, ack, flags, 8192, data,
                       options);
  };
  const std::uint32_t seq = server->rcv_nxt;
  const std::uint32_t ack = server->snd_nxt;
  const Bytes good = segment(seq, ack, kAck);

  struct Case {
    const char* what;
    Bytes frame;
    std::uint64_t Counters::*counter;
  };
  std::vector<Case> cases;
  cases.push_back({"truncated header", to_b(kAddressA, Bytes(good.begin(), good.begin() + 12)),
                   &Counters::tcp_dropped_short});
  Bytes offset_small = good;
  offset_small[12] = std::byte{0x40};
  cases.push_back({"data offset 4", to_b(kAddressA, offset_small), &Counters::tcp_dropped_offset});
  Bytes offset_large = good;
  offset_large[12] = std::byte{0xf0};
  Bytes offset_short(offset_large.begin(), offset_large.begin() + 40);
  cases.push_back({"data offset past the segment", to_b(kAddressA, offset_short),
                   &Counters::tcp_dropped_offset});
  Bytes bad_sum = good;
  bad_sum[30] ^= std::byte{0x10};
  cases.push_back({"wrong checksum", to_b(kAddressA, bad_sum), &Counters::tcp_dropped_checksum});
  cases.push_back(
      {"option length 0",
       to_b(kAddressA,
            segment(seq, ack, kAck, Bytes{std::byte{8}, std::byte{0}, std::byte{0}, std::byte{0}})),
       &Counters::tcp_dropped_options});
  cases.push_back(
      {"MSS option of length 3",
       to_b(kAddressA,
            segment(seq, ack, kAck, Bytes{std::byte{2}, std::byte{3}, std::byte{5}, std::byte{0}})),
       &Counters::tcp_dropped_options});
  cases.push_back(
      {"option past the header",
       to_b(kAddressA, segment(seq, ack, kAck,
                               Bytes{std::byte{1}, std::byte{1}, std::byte{8}, std::byte{10}})),
       &Counters::tcp_dropped_options});
  cases.push_back({"segment beyond the window", to_b(kAddressA, segment(seq + 100'000, ack, kAck)),
                   &Counters::tcp_dropped_out_of_window});
  cases.push_back({"segment wholly before the window",
                   to_b(kAddressA, segment(seq - 1000, ack, kAck)),
                   &Counters::tcp_dropped_out_of_window});
  cases.push_back({"ACK of data never sent", to_b(kAddressA, segment(seq, ack + 5000, kAck)),
                   &Counters::tcp_dropped_bad_ack});
  cases.push_back({"SYN with FIN", to_b(kAddressA, segment(seq, ack, kSyn | kFin)),
                   &Counters::tcp_dropped_invalid});
  cases.push_back({"SYN in an established connection", to_b(kAddressA, segment(seq, 0, kSyn)),
                   &Counters::tcp_dropped_invalid});
  cases.push_back(
      {"no ACK flag", to_b(kAddressA, segment(seq, ack, 0)), &Counters::tcp_dropped_invalid});
  cases.push_back({"RST not at rcv_nxt", to_b(kAddressA, segment(seq + 5, ack, kRst)),
                   &Counters::tcp_dropped_invalid});
  cases.push_back({"source port 0",
                   to_b(kAddressA, tcp_segment(kAddressA, kAddressB, 0, kServerPort, seq, ack, kAck,
                                               8192, data)),
                   &Counters::tcp_dropped_bad_address});
  cases.push_back({"a fragment", to_b(kAddressA, good, 0x2000), &Counters::ip_dropped_fragment});
  cases.push_back({"to a broadcast address",
                   ethernet(kMacB, kMacA, kEtherTypeIpv4,
                            ipv4_packet(kAddressA, ipv4(10, 0, 2, 255), kProtocolTcp, good)),
                   &Counters::tcp_dropped_bad_address});
  for (const auto& bad : cases) {
    INFO(bad.what);
    const std::uint64_t before = net.b.counters().*bad.counter;
    net.b.input(bad.frame, net.now);
    CHECK(net.b.counters().*bad.counter == before + 1);
    CHECK(server->rcv_nxt == seq);  // no byte of it was taken
    CHECK(server->receive_count == 0);
    CHECK(server->state == TcpState::kEstablished);
    CHECK(net.b.check_invariants() == nullptr);
  }
  // The connection still carries data both ways, byte-exactly.
  Endpoint a{&net.a, c.client, pattern(20'000, 3), 20'000};
  Endpoint b{&net.b, c.server, pattern(20'000, 4), 20'000};
  REQUIRE(exchange(net, a, b, 200'000));
  CHECK(a.in == b.out);
  CHECK(b.in == a.out);
}

TEST_CASE("A SYN flood holds bounded memory and a real client still connects", "[net]") {
  constexpr std::size_t kPool = 64;
  constexpr std::uint32_t kBacklog = 16;
  TwoStacks net(1, {}, 8, kPool);
  auto listener = net.b.tcp_listen(kServerPort, kBacklog);
  REQUIRE(listener.ok());
  std::mt19937_64 random(7);
  auto flood = [&](int count) {
    for (int i = 0; i < count; ++i) {
      const auto source = ipv4(10, 0, 2, static_cast<std::uint8_t>(100 + random() % 100));
      const auto syn =
          tcp_segment(source, kAddressB, static_cast<std::uint16_t>(1024 + random() % 60000),
                      kServerPort, static_cast<std::uint32_t>(random()), 0, kSyn, 8192, {});
      net.b.input(
          ethernet(kMacB, kMacA, kEtherTypeIpv4, ipv4_packet(source, kAddressB, kProtocolTcp, syn)),
          net.now);
      REQUIRE(net.b.tcp_connections_in_use() <= kBacklog);
    }
  };
  flood(5000);
  // The backlog filled with half-open connections; every later SYN got a stateless cookie.
  CHECK(net.b.tcp_connections_in_use() == kBacklog);
  CHECK(net.b.counters().tcp_syn_cookies_sent == 5000 - kBacklog);
  CHECK(net.b.arp().queued() <= kArpQueueLength);
  // The flood goes on (20 SYNs per millisecond) while the client connects and transfers.
  auto client = net.a.tcp_connect(kAddressB, kServerPort, net.now);
  REQUIRE(client.ok());
  Result<TcpSocket> server{{}, NetError::kWouldBlock};
  net.max_step = 1;
  REQUIRE(net.run_until(
      [&] {
        flood(20);
        if (!server.ok()) server = net.b.tcp_accept(listener.value);
        return server.ok();
      },
      10'000));
  CHECK(net.b.check_invariants() == nullptr);
  CHECK(net.b.counters().tcp_syn_cookies_accepted == 1);
  CHECK(net.b.tcp_connection(server.value)->mss == kTcpOurMss);
  Endpoint a{&net.a, client.value, pattern(10'000, 1), 10'000};
  Endpoint b{&net.b, server.value, pattern(10'000, 2), 10'000};
  net.max_step = 0;
  REQUIRE(net.run_until(
      [&] {
        a.pump(net.now);
        b.pump(net.now);
        return a.closed && b.closed;
      },
      100'000));
  CHECK(a.in == b.out);
  CHECK(b.in == a.out);
}

TEST_CASE("Hundreds of idle connections stay bounded and a new one still succeeds", "[net]") {
  constexpr std::size_t kPool = 310;
  constexpr std::size_t kIdle = 300;
  TwoStacks net(1, {}, kPool, kPool);
  auto listener = net.b.tcp_listen(kServerPort, kTcpMaxBacklog);
  REQUIRE(listener.ok());
  std::vector<Connection> idle;
  for (std::size_t i = 0; i < kIdle; ++i)
    idle.push_back(open_connection(net, listener.value));
  CHECK(net.b.tcp_connections_in_use() == kIdle);
  // Ten idle minutes: no timer runs, nothing is sent, nothing is freed.
  const std::uint64_t frames = net.wire.frames();
  net.now += 600'000;
  net.a.poll(net.now);
  net.b.poll(net.now);
  CHECK(net.wire.frames() == frames);
  auto fresh = open_connection(net, listener.value);
  Endpoint a{&net.a, fresh.client, pattern(5000, 1), 5000};
  Endpoint b{&net.b, fresh.server, pattern(5000, 2), 5000};
  REQUIRE(net.run_until(
      [&] {
        a.pump(net.now);
        b.pump(net.now);
        return a.closed && b.closed;
      },
      100'000));
  CHECK(a.in == b.out);
  // A pool full of established connections refuses a new SYN, and counts it.
  net.run_until([&] { return net.b.tcp_connections_in_use() == kIdle; }, kTcpTimeWaitMs + 10);
  while (net.b.tcp_connections_in_use() < kPool)
    open_connection(net, listener.value);
  CHECK(net.a.tcp_connect(kAddressB, kServerPort, net.now).error == NetError::kNoResources);
  CHECK(net.b.counters().tcp_syn_dropped == 0);
  const std::uint16_t port = 60000;
  net.b.input(ethernet(kMacB, kMacA, kEtherTypeIpv4,
                       ipv4_packet(kAddressA, kAddressB, kProtocolTcp,
                                   tcp_segment(kAddressA, kAddressB, port, kServerPort, 1, 0, kSyn,
                                               8192, {}))),
              net.now);
  CHECK(net.b.counters().tcp_syn_dropped == 1);
  CHECK(net.b.tcp_connections_in_use() == kPool);
  CHECK(net.b.check_invariants() == nullptr);
}

TEST_CASE("Mutated frames through the input path never break the stack's invariants", "[net]") {
  // A corpus: every frame of a lossy transfer with a close.
  std::vector<Bytes> corpus;
  {
    TwoStacks net(5, WireFaults{5, 2, 10});
    net.wire.tap = [&](int, std::span<const std::byte> frame) {
      if (corpus.size() < 5000) corpus.emplace_back(frame.begin(), frame.end());
    };
    auto listener = net.b.tcp_listen(kServerPort, 4);
    REQUIRE(listener.ok());
    auto c = open_connection(net, listener.value);
    Endpoint a{&net.a, c.client, pattern(200'000, 1), 50'000};
    Endpoint b{&net.b, c.server, pattern(50'000, 2), 200'000};
    REQUIRE(exchange(net, a, b, 600'000));
    (void)net.a.ping(kAddressB, 1, 1, 30, net.now);
    auto udp = net.a.udp_bind(1000);
    REQUIRE(udp.ok());
    (void)net.a.udp_send_to(udp.value, kAddressB, 53, pattern(40, 3), net.now);
    net.run_until([] { return false; }, 10);
  }
  REQUIRE(corpus.size() > 100);

  TwoStacks net(6);
  auto listener = net.b.tcp_listen(kServerPort, 8);
  REQUIRE(listener.ok());
  auto c = open_connection(net, listener.value);
  (void)c;
  std::mt19937_64 random(1234);
  auto fix_checksums = [](Bytes& frame) {
    if (frame.size() < kEthernetHeader + kIpv4Header) return;
    auto ip = std::span(frame).subspan(kEthernetHeader);
    const std::size_t header = (std::to_integer<std::size_t>(ip[0]) & 0xf) * 4;
    if (header < kIpv4Header || header > ip.size()) return;
    store16(ip, 10, 0);
    store16(ip, 10, checksum_finish(checksum_add(0, ip.first(header))));
    const std::size_t total = std::min<std::size_t>(load16(ip, 2), ip.size());
    if (total < header) return;
    auto payload = ip.subspan(header, total - header);
    const auto protocol = std::to_integer<std::uint8_t>(ip[9]);
    const std::size_t sum_at = protocol == kProtocolTcp ? 16 : protocol == kProtocolUdp ? 6 : 2;
    if (payload.size() < sum_at + 2) return;
    store16(payload, sum_at, 0);
    std::uint32_t sum = checksum_add(0, payload);
    if (protocol != kProtocolIcmp) {
      sum = checksum_add(
          pseudo_header_sum(load32(ip, 12), load32(ip, 16), protocol, payload.size()), payload);
    }
    store16(payload, sum_at, checksum_finish(sum));
  };
  for (int i = 0; i < 30'000; ++i) {
    Bytes frame = corpus[random() % corpus.size()];
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits && !frame.empty(); ++e) {
      switch (random() % 5) {
        case 0:
          frame[random() % frame.size()] ^= static_cast<std::byte>(1u << (random() % 8));
          break;
        case 1:
          frame[random() % frame.size()] = static_cast<std::byte>(random());
          break;
        case 2:
          frame.resize(random() % (frame.size() + 1));
          break;
        case 3:
          frame.resize(std::min<std::size_t>(frame.size() + random() % 64, kMaxFrame),
                       static_cast<std::byte>(random()));
          break;
        default: {  // a field of the TCP header (sequence, ack, flags, window) set at random
          const std::size_t at = kEthernetHeader + kIpv4Header + 4 + random() % 12;
          if (at < frame.size()) frame[at] = static_cast<std::byte>(random());
        }
      }
    }
    if (random() % 2 == 0) fix_checksums(frame);
    Stack& target = random() % 2 == 0 ? net.a : net.b;
    target.input(frame, net.now);
    if (i % 64 == 0) {
      net.now += random() % 2000;
      net.a.poll(net.now);
      net.b.poll(net.now);
    }
    INFO("input " << i);
    REQUIRE(net.a.check_invariants() == nullptr);
    REQUIRE(net.b.check_invariants() == nullptr);
  }
  CHECK(net.b.counters().frames_received > 10'000);
}
