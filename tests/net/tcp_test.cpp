// TCP between two stacks: the handshake, data both ways, both kinds of close, TIME_WAIT, resets,
// the persist timer, and transfers over a lossy, reordering, duplicating wire that complete
// byte-exactly and repeat exactly under the same seed.
#include <catch2/catch.hpp>

#include "net/tcp_harness.hpp"

using namespace ukernel::net;
using namespace ukernel::net::test;

TEST_CASE("TCP: handshake, data both ways, graceful close, TIME_WAIT frees the slot", "[net]") {
  TwoStacks net;
  auto listener = net.b.tcp_listen(kServerPort, 4);
  REQUIRE(listener.ok());
  CHECK(net.b.tcp_listen(kServerPort, 4).error == NetError::kPortInUse);
  CHECK(net.b.tcp_listen(81, 0).error == NetError::kInvalidArgument);
  auto client = net.a.tcp_connect(kAddressB, kServerPort, net.now);
  REQUIRE(client.ok());
  CHECK(net.a.tcp_state(client.value).value == TcpState::kSynSent);
  CHECK(net.a.tcp_send(client.value, Bytes(4), net.now).error == NetError::kNotConnected);
  CHECK(net.b.tcp_accept(listener.value).error == NetError::kWouldBlock);
  Result<TcpSocket> server{{}, NetError::kWouldBlock};
  REQUIRE(net.run_until(
      [&] {
        server = net.b.tcp_accept(listener.value);
        return server.ok();
      },
      100));
  CHECK(net.a.tcp_state(client.value).value == TcpState::kEstablished);
  CHECK(net.b.tcp_state(server.value).value == TcpState::kEstablished);
  // Both sides took the other's MSS (1460) and started with RFC 5681's initial window.
  CHECK(net.a.tcp_connection(client.value)->mss == kTcpOurMss);
  CHECK(net.b.tcp_connection(server.value)->cwnd == 3 * kTcpOurMss);

  Endpoint a{&net.a, client.value, pattern(100'000, 1), 50'000};
  Endpoint b{&net.b, server.value, pattern(50'000, 2), 100'000};
  // The first closer waits in TIME_WAIT (2 MSL = 60 s) before its slot is free.
  REQUIRE(exchange(net, a, b, 200'000));
  CHECK(a.in == b.out);
  CHECK(b.in == a.out);
  CHECK(a.failure == NetError::kOk);
  CHECK(b.failure == NetError::kOk);
  CHECK(net.a.counters().tcp_retransmit_timeouts == 0);
  CHECK(net.a.tcp_send(client.value, Bytes(1), net.now).error == NetError::kBadSocket);
  CHECK(net.a.check_invariants() == nullptr);
  CHECK(net.b.check_invariants() == nullptr);
}

TEST_CASE("TCP: the peer's close reads as end of stream, then the last ACK closes", "[net]") {
  TwoStacks net;
  auto listener = net.b.tcp_listen(kServerPort, 4);
  REQUIRE(listener.ok());
  auto c = open_connection(net, listener.value);
  const Bytes hello = pattern(3000, 9);
  REQUIRE(net.b.tcp_send(c.server, hello, net.now).value == hello.size());
  REQUIRE(net.b.tcp_close(c.server, net.now) == NetError::kOk);
  REQUIRE(
      net.run_until([&] { return net.a.tcp_state(c.client).value == TcpState::kCloseWait; }, 1000));
  Bytes got(4000);
  auto r = net.a.tcp_receive(c.client, got, net.now);
  REQUIRE(r.ok());
  CHECK(Bytes(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(r.value)) == hello);
  r = net.a.tcp_receive(c.client, got, net.now);
  CHECK(r.ok());
  CHECK(r.value == 0);                         // end of stream
  CHECK(net.b.tcp_connections_in_use() == 1);  // FIN_WAIT_2
  REQUIRE(net.a.tcp_close(c.client, net.now) == NetError::kOk);
  REQUIRE(net.run_until([&] { return net.a.tcp_connections_in_use() == 0; }, 1000));
  // B, the first closer, is in TIME_WAIT for 2 MSL.
  CHECK(net.b.tcp_connections_in_use() == 1);
  REQUIRE(net.run_until([&] { return net.b.tcp_connections_in_use() == 0; }, kTcpTimeWaitMs + 10));
  CHECK(net.now >= kTcpTimeWaitMs);
}

TEST_CASE("TCP: a closed port answers with a reset; abort resets the peer", "[net]") {
  TwoStacks net;
  auto refused = net.a.tcp_connect(kAddressB, 9999, net.now);
  REQUIRE(refused.ok());
  REQUIRE(net.run_until([&] { return net.a.tcp_state(refused.value).value == TcpState::kClosed; },
                        1000));
  Bytes buffer(10);
  CHECK(net.a.tcp_receive(refused.value, buffer, net.now).error == NetError::kRefused);
  CHECK(net.b.counters().tcp_dropped_no_connection == 1);
  CHECK(net.b.counters().tcp_resets_sent == 1);
  CHECK(net.a.tcp_close(refused.value, net.now) == NetError::kOk);
  CHECK(net.a.tcp_connections_in_use() == 0);

  auto listener = net.b.tcp_listen(kServerPort, 4);
  REQUIRE(listener.ok());
  auto c = open_connection(net, listener.value);
  REQUIRE(net.a.tcp_abort(c.client) == NetError::kOk);
  CHECK(net.a.tcp_connections_in_use() == 0);
  REQUIRE(
      net.run_until([&] { return net.b.tcp_state(c.server).value == TcpState::kClosed; }, 1000));
  CHECK(net.b.tcp_receive(c.server, buffer, net.now).error == NetError::kReset);
  CHECK(net.b.tcp_send(c.server, buffer, net.now).error == NetError::kReset);
  CHECK(net.b.counters().tcp_resets_received == 1);
}

TEST_CASE("TCP: a zero window is probed by the persist timer until the reader drains it", "[net]") {
  TwoStacks net;
  auto listener = net.b.tcp_listen(kServerPort, 4);
  REQUIRE(listener.ok());
  auto c = open_connection(net, listener.value);
  const Bytes data = pattern(3 * kTcpBufferSize, 5);
  std::size_t sent = 0;
  // B does not read: its window closes, A's buffer fills, A probes.
  net.run_until(
      [&] {
        auto r = net.a.tcp_send(c.client, std::span(data).subspan(sent), net.now);
        if (r.ok()) sent += r.value;
        return false;
      },
      30'000);
  CHECK(net.b.tcp_connection(c.server)->receive_count == kTcpBufferSize);
  CHECK(net.a.tcp_connection(c.client)->snd_wnd == 0);
  CHECK(net.a.counters().tcp_persist_probes >= 2);
  CHECK(net.a.counters().tcp_connections_timed_out == 0);
  CHECK(sent == 2 * kTcpBufferSize);
  Bytes received;
  std::array<std::byte, 5000> buffer{};
  REQUIRE(net.run_until(
      [&] {
        if (sent < data.size()) {
          auto r = net.a.tcp_send(c.client, std::span(data).subspan(sent), net.now);
          if (r.ok()) sent += r.value;
        }
        auto r = net.b.tcp_receive(c.server, buffer, net.now);
        if (r.ok())
          received.insert(received.end(), buffer.begin(),
                          buffer.begin() + static_cast<std::ptrdiff_t>(r.value));
        return received.size() == data.size();
      },
      120'000));
  CHECK(received == data);
}

namespace {

struct LossyRun {
  Bytes a_got, b_got;
  std::uint64_t trace = 0, frames = 0;
  Counters a, b;
};

LossyRun lossy_transfer(std::uint64_t seed) {
  TwoStacks net(seed, WireFaults{5, 3, 10});
  auto listener = net.b.tcp_listen(kServerPort, 4);
  REQUIRE(listener.ok());
  auto c = open_connection(net, listener.value);
  Endpoint a{&net.a, c.client, pattern(300'000, 11), 100'000};
  Endpoint b{&net.b, c.server, pattern(100'000, 12), 300'000};
  REQUIRE(exchange(net, a, b, 3'600'000));
  CHECK(a.failure == NetError::kOk);
  CHECK(b.failure == NetError::kOk);
  CHECK(net.a.check_invariants() == nullptr);
  CHECK(net.b.check_invariants() == nullptr);
  CHECK(a.in == b.out);
  CHECK(b.in == a.out);
  return {a.in, b.in, net.wire.trace(), net.wire.frames(), net.a.counters(), net.b.counters()};
}

}  // namespace

TEST_CASE("TCP over a lossy wire: byte-exact both ways, the same trace for the same seed",
          "[net]") {
  const LossyRun first = lossy_transfer(42);
  CHECK(first.a.tcp_retransmitted_segments > 0);
  CHECK(first.a.tcp_fast_retransmits + first.b.tcp_fast_retransmits > 0);
  CHECK(first.a.tcp_retransmit_timeouts + first.b.tcp_retransmit_timeouts > 0);
  CHECK(first.b.tcp_out_of_order_kept > 0);
  CHECK(first.b.tcp_dropped_out_of_window > 0);  // duplicated segments, already received
  const LossyRun again = lossy_transfer(42);
  CHECK(again.trace == first.trace);
  CHECK(again.frames == first.frames);
  const LossyRun other = lossy_transfer(43);
  CHECK(other.trace != first.trace);
}

TEST_CASE("TCP over a lossy wire holds for 30 seeds", "[net]") {
  for (std::uint64_t seed = 100; seed < 130; ++seed) {
    INFO("seed " << seed);
    TwoStacks net(seed, WireFaults{10, 5, 20});
    auto listener = net.b.tcp_listen(kServerPort, 4);
    REQUIRE(listener.ok());
    auto c = open_connection(net, listener.value);
    Endpoint a{&net.a, c.client, pattern(60'000, static_cast<std::uint32_t>(seed)), 20'000};
    Endpoint b{&net.b, c.server, pattern(20'000, static_cast<std::uint32_t>(seed + 1)), 60'000};
    REQUIRE(exchange(net, a, b, 3'600'000));
    CHECK(a.in == b.out);
    CHECK(b.in == a.out);
  }
}

TEST_CASE("TCP initial sequence numbers follow RFC 6528", "[net]") {
  TwoStacks net;
  auto listener = net.b.tcp_listen(kServerPort, 8);
  REQUIRE(listener.ok());
  auto first = open_connection(net, listener.value);
  auto second = open_connection(net, listener.value);
  const auto* c1 = net.a.tcp_connection(first.client);
  const auto* c2 = net.a.tcp_connection(second.client);
  // Two 4-tuples at nearly the same time: unrelated sequence spaces.
  const std::uint32_t clock_difference = static_cast<std::uint32_t>((net.now) * 250);
  CHECK(c2->iss - c1->iss > clock_difference);
  // The same key and 4-tuple differ only by the clock (250 per millisecond).
  TwoStacks replay;
  auto l2 = replay.b.tcp_listen(kServerPort, 8);
  REQUIRE(l2.ok());
  replay.now = 1000;
  auto again = open_connection(replay, l2.value);
  CHECK(replay.a.tcp_connection(again.client)->iss - c1->iss == 1000u * 250u);
}
