// The TCP/IP stack over the packet protocol, the virtio-net driver, the device model and the
// simulated wire (tests/net/device_rig.hpp): ARP and ICMP echo against a raw packet-level peer,
// a ping and TCP transfers both ways against a second stack, and the driver crashing and
// restarting in the middle of a TCP transfer with the connection surviving (issue 10).
#include <catch2/catch.hpp>

#include "net/device_rig.hpp"
#include "ukernel/hosted/faults.hpp"
#include "ukernel/hosted/simulation.hpp"

namespace {

using namespace ukernel::net;
using namespace ukernel::net::test;

Bytes arp_request(Ipv4Address target) {
  Bytes arp(28);
  put16(arp, 0, 1);
  put16(arp, 2, kEtherTypeIpv4);
  arp[4] = std::byte{6};
  arp[5] = std::byte{4};
  put16(arp, 6, 1);
  store_mac(arp, 8, kMacB);
  put32(arp, 14, kAddressB);
  put32(arp, 24, target);
  return ethernet(kBroadcastMac, kMacB, kEtherTypeArp, arp);
}

// A TCP exchange between A (client) and B (listening on 80), with a hook run once when B has
// received `crash_at` bytes.
struct Transfer {
  Endpoint client, server;
};

Transfer open_transfer(DeviceRig& rig, std::size_t up, std::size_t down, std::uint32_t seed) {
  auto listener = rig.b->tcp_listen(kServerPort, 4);
  REQUIRE(listener.ok());
  auto client = rig.a->tcp_connect(kAddressB, kServerPort, rig.now_ms());
  REQUIRE(client.ok());
  Result<TcpSocket> server{{}, NetError::kWouldBlock};
  REQUIRE(rig.run_until(
      [&] {
        if (!server.ok()) server = rig.b->tcp_accept(listener.value);
        return server.ok() && rig.a->tcp_state(client.value).value == TcpState::kEstablished;
      },
      60'000));
  return {{&*rig.a, client.value, pattern(up, seed), down},
          {&*rig.b, server.value, pattern(down, seed + 1), up}};
}

bool finish(DeviceRig& rig, Transfer& t, std::uint64_t limit_ms) {
  return rig.run_until(
      [&] {
        t.client.pump(rig.now_ms());
        t.server.pump(rig.now_ms());
        return t.client.closed && t.server.closed && rig.a->tcp_connections_in_use() == 0 &&
               rig.b->tcp_connections_in_use() == 0;
      },
      limit_ms);
}

}  // namespace

TEST_CASE("device: ARP and ICMP echo against a raw peer, through driver and device") {
  DeviceRig rig(false);
  REQUIRE(rig.peer.send(arp_request(kAddressA)));
  REQUIRE(rig.run_until([&] { return !rig.peer.received.empty(); }, 100));
  const Bytes reply = rig.peer.received.at(0);
  REQUIRE(reply.size() >= 42);
  CHECK(load_mac(reply, 0) == kMacB);
  CHECK(load_mac(reply, 6) == kMacA);
  CHECK(load16(reply, 12) == kEtherTypeArp);
  CHECK(load16(reply, 20) == 2);  // reply
  CHECK(load_mac(reply, 22) == kMacA);
  CHECK(load32(reply, 28) == kAddressA);
  CHECK(rig.a->counters().arp_replies_sent == 1);

  rig.peer.received.clear();
  const Bytes echo = icmp_echo_request(0x1234, 7, 200);
  REQUIRE(rig.peer.send(to_a(ipv4_packet(kAddressB, kAddressA, kProtocolIcmp, echo))));
  REQUIRE(rig.run_until([&] { return !rig.peer.received.empty(); }, 100));
  const Bytes answer = rig.peer.received.at(0);
  REQUIRE(answer.size() == kEthernetHeader + kIpv4Header + echo.size());
  CHECK(load16(answer, 12) == kEtherTypeIpv4);
  CHECK(load32(answer, 26) == kAddressA);
  CHECK(load32(answer, 30) == kAddressB);
  const std::size_t icmp = kEthernetHeader + kIpv4Header;
  CHECK(std::to_integer<int>(answer[icmp]) == 0);  // echo reply
  CHECK(load16(answer, icmp + 4) == 0x1234);
  CHECK(load16(answer, icmp + 6) == 7);
  CHECK(Bytes(answer.begin() + icmp + 8, answer.end()) == Bytes(echo.begin() + 8, echo.end()));
  CHECK(rig.a->counters().icmp_echo_replies_sent == 1);
  CHECK(rig.port.stats().protocol_errors == 0);
}

TEST_CASE("device: a ping to a second stack resolves its address and gets the reply") {
  DeviceRig rig(true);
  REQUIRE(rig.a->ping(kAddressB, 9, 1, 56, rig.now_ms()) == NetError::kOk);
  REQUIRE(rig.run_until([&] { return rig.a->counters().icmp_echo_replies_received == 1; }, 1000));
  const auto reply = rig.a->take_echo_reply();
  REQUIRE(reply.ok());
  CHECK(reply.value.from == kAddressB);
  CHECK(reply.value.identifier == 9);
  CHECK(rig.a->counters().arp_requests_sent == 1);
  CHECK(rig.b->counters().icmp_echo_replies_sent == 1);
}

TEST_CASE("device: a TCP transfer both ways is byte-exact; NEEDS_CSUM frames pass") {
  DeviceRig rig(true);
  Transfer t = open_transfer(rig, 200'000, 100'000, 5);
  REQUIRE(finish(rig, t, 600'000));
  CHECK(t.server.in == t.client.out);
  CHECK(t.client.in == t.server.out);
  // Every TCP frame reached A with a partial checksum, which the driver completed.
  CHECK(rig.driver()->stats().checksums_completed > 100);
  CHECK(rig.a->counters().tcp_dropped_checksum == 0);
  CHECK(rig.port.stats().protocol_errors == 0);
  CHECK(rig.model.stats().rx_dropped_no_buffer == 0);
}

TEST_CASE("device: the driver crashes mid-transfer and the TCP connection survives") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    DeviceRig rig(true, seed, {.loss_percent = 1});
    Transfer t = open_transfer(rig, 300'000, 100'000, std::uint32_t(seed));
    // Run until a third of the upload has arrived, then kill the driver.
    REQUIRE(rig.run_until(
        [&] {
          t.client.pump(rig.now_ms());
          t.server.pump(rig.now_ms());
          return t.server.in.size() >= 100'000;
        },
        600'000));
    const auto retransmitted_before =
        rig.a->counters().tcp_retransmitted_segments + rig.b->counters().tcp_retransmitted_segments;
    rig.crash_driver();
    // Down for a while (seeded: 20-220 ms): frames both ways are lost meanwhile.
    const std::uint64_t down_ms = 20 + seed * 10;
    REQUIRE(!rig.run_until(
        [&] {
          t.client.pump(rig.now_ms());
          t.server.pump(rig.now_ms());
          return t.client.failure != NetError::kOk || t.server.failure != NetError::kOk;
        },
        down_ms));
    REQUIRE(rig.start_driver());
    REQUIRE(finish(rig, t, 600'000));
    CHECK(t.client.failure == NetError::kOk);
    CHECK(t.server.failure == NetError::kOk);
    CHECK(t.server.in == t.client.out);
    CHECK(t.client.in == t.server.out);
    CHECK(rig.a->counters().tcp_retransmitted_segments +
              rig.b->counters().tcp_retransmitted_segments >
          retransmitted_before);
    CHECK(rig.device_faults == 0);
  }
}

TEST_CASE("device: the same seed gives the same frames on the wire") {
  std::uint64_t traces[2] = {};
  for (std::uint64_t& trace : traces) {
    DeviceRig rig(true, 11, {.loss_percent = 3, .duplicate_percent = 2, .reorder_percent = 5});
    Transfer t = open_transfer(rig, 100'000, 50'000, 3);
    REQUIRE(finish(rig, t, 600'000));
    CHECK(t.server.in == t.client.out);
    CHECK(t.client.in == t.server.out);
    trace = rig.wire.trace();
  }
  CHECK(traces[0] == traces[1]);
}

TEST_CASE(
    "device: frames a fault schedule loses (netdrop) are sent again; the data is byte-exact") {
  // The schedule is armed by a Simulation (hosted/faults.hpp); the rig runs on its own bus.
  // Frame 3 is early in the handshake; 40 to 47, in the middle of the upload, lose data
  // segments and ACKs.
  std::string text = "netdrop@3";
  for (int n = 40; n <= 47; ++n)
    text += ",netdrop@" + std::to_string(n);
  auto schedule = ukernel::hosted::FaultSchedule::parse(text);
  REQUIRE(schedule);
  ukernel::hosted::Simulation sim({.faults = &*schedule});
  DeviceRig rig(true);
  Transfer t = open_transfer(rig, 100'000, 50'000, 3);
  REQUIRE(finish(rig, t, 600'000));
  CHECK(t.server.in == t.client.out);
  CHECK(t.client.in == t.server.out);
  CHECK(rig.model.stats().tx_lost_by_fault + rig.model.stats().rx_lost_by_fault == 9);
  CHECK(sim.fault_log().find("drop frame 47\n") != std::string::npos);
  CHECK(rig.a->counters().tcp_retransmitted_segments +
            rig.b->counters().tcp_retransmitted_segments >
        0);
}
