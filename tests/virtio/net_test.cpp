// The virtio-net driver core driving the virtio-net model on a simulated wire: bring-up and the
// MAC, frames both ways byte-exactly, full rings, lengths the driver refuses, hostile used
// lengths, NEEDS_CSUM completed rather than called bad, a reset forgetting lent buffers, and the
// wire's faults on the virtual clock.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "virtio/net_rig.hpp"

namespace {

using virtio_net::Error;
using virtio_net::kHeaderBytes;
using virtio_net::Received;
using virtio_test::DmaRegion;
using virtio_test::NetRig;
using Bytes = std::vector<std::byte>;

constexpr std::size_t kBufferBytes = 2048;

Bytes frame_of(std::size_t length, unsigned seed) {
  Bytes frame(length);
  for (std::size_t i = 0; i < length; ++i)
    frame[i] = static_cast<std::byte>((i * 31 + seed * 7 + (i >> 8)) & 0xff);
  return frame;
}

Bytes bytes_at(const std::byte* at, std::size_t length) {
  return Bytes(at, at + length);
}

std::vector<Received> drain_received(NetRig& rig) {
  std::vector<Received> out;
  Received received;
  while (rig.driver.next_received(received) == Error::kOk)
    out.push_back(received);
  return out;
}

// An IPv4 TCP frame with a correct checksum (10.0.2.2:80 -> 10.0.2.15:1234).
Bytes tcp_frame(std::size_t payload) {
  Bytes f(14 + 20 + 20 + payload);
  const auto put16 = [&](std::size_t at, unsigned v) {
    f[at] = static_cast<std::byte>(v >> 8);
    f[at + 1] = static_cast<std::byte>(v & 0xff);
  };
  for (std::size_t i = 0; i < 12; ++i)
    f[i] = static_cast<std::byte>(0x50 + i);
  put16(12, 0x0800);
  f[14] = std::byte{0x45};
  put16(16, static_cast<unsigned>(40 + payload));
  put16(20, 0x4000);
  f[22] = std::byte{64};
  f[23] = std::byte{6};
  const std::uint8_t addresses[8] = {10, 0, 2, 2, 10, 0, 2, 15};
  std::memcpy(f.data() + 26, addresses, 8);
  const auto sum = [&](std::size_t from, std::size_t to, std::uint32_t s) {
    for (std::size_t i = from; i + 1 < to; i += 2)
      s += (std::to_integer<unsigned>(f[i]) << 8) | std::to_integer<unsigned>(f[i + 1]);
    if ((to - from) % 2 != 0) s += std::to_integer<unsigned>(f[to - 1]) << 8;
    while ((s >> 16) != 0)
      s = (s & 0xffff) + (s >> 16);
    return s;
  };
  put16(24, ~sum(14, 34, 0) & 0xffff);
  put16(34, 80);
  put16(36, 1234);
  f[46] = std::byte{0x50};
  f[47] = std::byte{0x18};
  put16(48, 8192);
  for (std::size_t i = 0; i < payload; ++i)
    f[54 + i] = static_cast<std::byte>(i * 13 + 1);
  const std::uint32_t pseudo = sum(26, 34, 6 + static_cast<std::uint32_t>(20 + payload));
  put16(50, ~sum(34, f.size(), pseudo) & 0xffff);
  return f;
}

}  // namespace

TEST_CASE("the net driver brings the device up and reads its MAC") {
  NetRig rig;
  REQUIRE(rig.init() == Error::kOk);
  CHECK(rig.function.device_status() == (1 | 2 | 4 | 8));
  CHECK(std::memcmp(rig.driver.mac(), ukernel::hosted::VirtioNetModel::Options{}.mac.data(), 6) ==
        0);
  CHECK(rig.driver.guest_checksum());

  NetRig no_mac({.offer_mac = false, .offer_guest_csum = false});
  REQUIRE(no_mac.init() == Error::kOk);
  CHECK(std::memcmp(no_mac.driver.mac(), virtio_test::kFallbackMac, 6) == 0);
  CHECK_FALSE(no_mac.driver.guest_checksum());
}

TEST_CASE("frames cross the wire both ways byte-exactly") {
  NetRig rig;
  REQUIRE(rig.init() == Error::kOk);
  std::vector<DmaRegion> buffers;
  for (std::uint32_t i = 0; i < 8; ++i) {
    buffers.push_back(rig.bus.allocate(kBufferBytes));
    REQUIRE(rig.driver.post_receive(buffers.back(), 100 + i) == Error::kOk);
  }
  CHECK(rig.model.receive_buffers() == 8);

  const std::size_t sizes[] = {14, 60, 777, 1514};
  for (unsigned i = 0; i < 4; ++i)
    REQUIRE(rig.peer.send(frame_of(sizes[i], i)));
  rig.bus.run();
  std::vector<Received> got = drain_received(rig);
  REQUIRE(got.size() == 4);
  for (unsigned i = 0; i < 4; ++i) {
    CHECK(got[i].token == 100 + i);
    CHECK(got[i].result == Error::kOk);
    CHECK_FALSE(got[i].checksum_completed);
    REQUIRE(got[i].length == sizes[i]);
    CHECK(bytes_at(buffers[i].cpu + kHeaderBytes, sizes[i]) == frame_of(sizes[i], i));
  }

  DmaRegion out = rig.bus.allocate(kBufferBytes);
  for (unsigned i = 0; i < 4; ++i) {
    const Bytes frame = frame_of(sizes[i], 10 + i);
    std::memcpy(out.cpu + kHeaderBytes, frame.data(), frame.size());
    REQUIRE(rig.driver.transmit(out, frame.size(), 7 + i) == Error::kOk);
    rig.bus.run();
    std::uint32_t token = 0;
    REQUIRE(rig.driver.next_transmitted(token) == Error::kOk);
    CHECK(token == 7 + i);
  }
  REQUIRE(rig.peer.received.size() == 4);
  for (unsigned i = 0; i < 4; ++i)
    CHECK(rig.peer.received[i] == frame_of(sizes[i], 10 + i));
  CHECK(rig.model.stats().tx_frames == 4);
  CHECK(rig.model.stats().rx_frames == 4);
  CHECK(rig.driver.stats().received == 4);
  CHECK(rig.driver.stats().transmitted == 4);
}

TEST_CASE("full rings: the driver says busy, the device drops what it cannot store") {
  NetRig rig;
  REQUIRE(rig.init() == Error::kOk);
  // No receive buffer lent yet: the frame is dropped and counted.
  REQUIRE(rig.peer.send(frame_of(60, 1)));
  rig.bus.run();
  CHECK(rig.model.stats().rx_dropped_no_buffer == 1);

  for (std::uint32_t i = 0; i < 64; ++i)
    REQUIRE(rig.driver.post_receive(rig.bus.allocate(kBufferBytes), i) == Error::kOk);
  CHECK_FALSE(rig.driver.can_post_receive());
  CHECK(rig.driver.post_receive(rig.bus.allocate(kBufferBytes), 64) == Error::kBusy);

  DmaRegion out = rig.bus.allocate(kBufferBytes);
  std::memset(out.cpu + kHeaderBytes, 0x42, 60);
  for (std::uint32_t i = 0; i < 64; ++i)
    REQUIRE(rig.driver.transmit(out, 60, i) == Error::kOk);
  CHECK(rig.driver.transmit(out, 60, 64) == Error::kBusy);
  rig.bus.run();
  std::uint32_t token = 0;
  for (std::uint32_t i = 0; i < 64; ++i) {
    REQUIRE(rig.driver.next_transmitted(token) == Error::kOk);
    CHECK(token == i);
  }
  CHECK(rig.driver.next_transmitted(token) == Error::kNone);
  CHECK(rig.driver.transmit(out, 60, 65) == Error::kOk);
}

TEST_CASE("bad buffers and lengths are refused before anything is queued") {
  NetRig rig;
  REQUIRE(rig.init() == Error::kOk);
  const unsigned notifications = rig.function.notifications();
  DmaRegion small = rig.bus.allocate(virtio_net::kReceiveBufferBytes - 1);
  CHECK(rig.driver.post_receive(small, 1) == Error::kBadBuffer);
  CHECK(rig.driver.post_receive({}, 1) == Error::kBadBuffer);
  DmaRegion out = rig.bus.allocate(kBufferBytes);
  CHECK(rig.driver.transmit(out, 13, 1) == Error::kBadLength);
  CHECK(rig.driver.transmit(out, 1515, 1) == Error::kBadLength);
  CHECK(rig.driver.transmit(out.slice(0, 100), 89, 1) == Error::kBadLength);
  CHECK(rig.driver.receives_posted() == 0);
  CHECK(rig.driver.transmits_in_flight() == 0);
  CHECK(rig.function.notifications() == notifications);

  NetRig idle;  // not initialised
  CHECK(idle.driver.post_receive(idle.bus.allocate(kBufferBytes), 1) == Error::kNotReady);
  CHECK(idle.driver.transmit(idle.bus.allocate(kBufferBytes), 60, 1) == Error::kNotReady);
}

TEST_CASE("a used length shorter than the headers is refused, the buffer comes back") {
  NetRig rig({.forced_rx_length = 5});
  REQUIRE(rig.init() == Error::kOk);
  REQUIRE(rig.driver.post_receive(rig.bus.allocate(kBufferBytes), 3) == Error::kOk);
  REQUIRE(rig.peer.send(frame_of(100, 2)));
  rig.bus.run();
  const std::vector<Received> got = drain_received(rig);
  REQUIRE(got.size() == 1);
  CHECK(got[0].token == 3);
  CHECK(got[0].result == Error::kShortFrame);
  CHECK(got[0].length == 0);
  CHECK(rig.driver.stats().short_frames == 1);
  CHECK(rig.driver.stats().received == 0);
  CHECK(rig.driver.ready());  // a short frame is the frame's problem, not the ring's
}

TEST_CASE("a used length beyond the buffer breaks the queue: the driver stops") {
  NetRig rig({.forced_rx_length = 5000});
  REQUIRE(rig.init() == Error::kOk);
  REQUIRE(rig.driver.post_receive(rig.bus.allocate(kBufferBytes), 3) == Error::kOk);
  REQUIRE(rig.peer.send(frame_of(100, 2)));
  rig.bus.run();
  Received received;
  CHECK(rig.driver.next_received(received) == Error::kDeviceFault);
  CHECK(rig.driver.queue_error() == ukernel::virtio::QueueError::kUsedLengthTooLarge);
  CHECK_FALSE(rig.driver.ready());
  CHECK(rig.driver.post_receive(rig.bus.allocate(kBufferBytes), 4) == Error::kNotReady);
  // A fresh init (the driver's restart) brings it back.
  REQUIRE(rig.init() == Error::kOk);
  CHECK(rig.model.receive_buffers() == 0);
}

TEST_CASE("NEEDS_CSUM is not a bad checksum: the driver completes it") {
  NetRig rig({.partial_checksums = true});
  REQUIRE(rig.init() == Error::kOk);
  DmaRegion buffer = rig.bus.allocate(kBufferBytes);
  for (std::size_t payload : {0u, 1u, 100u, 1460u}) {
    REQUIRE(rig.driver.post_receive(buffer, 1) == Error::kOk);
    const Bytes frame = tcp_frame(payload);
    REQUIRE(rig.peer.send(frame));
    rig.bus.run();
    const std::vector<Received> got = drain_received(rig);
    REQUIRE(got.size() == 1);
    CHECK(got[0].result == Error::kOk);
    CHECK(got[0].checksum_completed);
    // The device left the pseudo-header sum in the field; the driver restored the sender's.
    CHECK(std::to_integer<unsigned>(buffer.cpu[0]) == 1);  // flags: NEEDS_CSUM
    CHECK(bytes_at(buffer.cpu + kHeaderBytes, frame.size()) == frame);
  }
  CHECK(rig.model.stats().rx_partial_checksums == 4);
  CHECK(rig.driver.stats().checksums_completed == 4);

  // Without GUEST_CSUM the device never sends a partial checksum.
  NetRig plain({.offer_guest_csum = false, .partial_checksums = true});
  REQUIRE(plain.init() == Error::kOk);
  DmaRegion other = plain.bus.allocate(kBufferBytes);
  REQUIRE(plain.driver.post_receive(other, 1) == Error::kOk);
  REQUIRE(plain.peer.send(tcp_frame(10)));
  plain.bus.run();
  const std::vector<Received> got = drain_received(plain);
  REQUIRE(got.size() == 1);
  CHECK_FALSE(got[0].checksum_completed);
  CHECK(bytes_at(other.cpu + kHeaderBytes, got[0].length) == tcp_frame(10));
}

TEST_CASE("a header with NEEDS_CSUM pointing outside the frame is a bad header") {
  NetRig rig({.partial_checksums = true});
  REQUIRE(rig.init() == Error::kOk);
  DmaRegion buffer = rig.bus.allocate(kBufferBytes);
  REQUIRE(rig.driver.post_receive(buffer, 1) == Error::kOk);
  // A device that lies: the chain completes with a header claiming a checksum past the end.
  REQUIRE(rig.peer.send(tcp_frame(10)));
  rig.bus.run();
  buffer.cpu[6] = std::byte{0xff};  // csum_start = 0x??ff, beyond 14 + 40 + 10 bytes
  const std::vector<Received> got = drain_received(rig);
  REQUIRE(got.size() == 1);
  CHECK(got[0].result == Error::kBadHeader);
  CHECK(rig.driver.stats().bad_headers == 1);
  CHECK(rig.driver.ready());
}

TEST_CASE("a reset forgets the buffers lent to the device") {
  NetRig rig;
  REQUIRE(rig.init() == Error::kOk);
  for (std::uint32_t i = 0; i < 4; ++i)
    REQUIRE(rig.driver.post_receive(rig.bus.allocate(kBufferBytes), i) == Error::kOk);
  CHECK(rig.model.receive_buffers() == 4);
  REQUIRE(rig.init() == Error::kOk);  // what a restarted driver does first
  CHECK(rig.model.receive_buffers() == 0);
  REQUIRE(rig.peer.send(frame_of(60, 1)));
  rig.bus.run();
  CHECK(rig.model.stats().rx_dropped_no_buffer == 1);
  CHECK(drain_received(rig).empty());
}

TEST_CASE("the wire: latency on the virtual clock, seeded faults, a filter, a trace") {
  using ukernel::hosted::NetWire;
  using ukernel::hosted::WirePeer;
  virtio_test::TestBus bus(4096);
  NetWire wire(bus, 7, {.loss_percent = 20, .duplicate_percent = 10, .reorder_percent = 20});
  WirePeer a(wire, 0), b(wire, 1);
  CHECK_FALSE(a.send(Bytes(13)));
  CHECK_FALSE(a.send(Bytes(1515)));
  CHECK(wire.stats().refused == 2);
  wire.set_filter([](int side, std::uint64_t number, std::span<const std::byte>) {
    return ukernel::hosted::FrameVerdict{side == 0 && number == 3, 0};
  });
  for (unsigned i = 0; i < 200; ++i)
    REQUIRE(a.send(frame_of(60, i)));
  CHECK(b.received.empty());  // nothing arrives before its time
  bus.run();
  CHECK(bus.now_ns() >= NetWire::kDefaultLatencyNs);
  const auto& stats = wire.stats();
  CHECK(stats.sent == 200);
  CHECK(stats.lost > 0);
  CHECK(stats.duplicated > 0);
  CHECK(b.received.size() == 200 - stats.lost + stats.duplicated);
  for (const Bytes& frame : b.received)
    CHECK(frame != frame_of(60, 3));

  // The same seed gives the same deliveries and the same trace.
  virtio_test::TestBus bus2(4096);
  NetWire wire2(bus2, 7, {.loss_percent = 20, .duplicate_percent = 10, .reorder_percent = 20});
  WirePeer a2(wire2, 0), b2(wire2, 1);
  wire2.set_filter([](int side, std::uint64_t number, std::span<const std::byte>) {
    return ukernel::hosted::FrameVerdict{side == 0 && number == 3, 0};
  });
  for (unsigned i = 0; i < 200; ++i)
    REQUIRE(a2.send(frame_of(60, i)));
  bus2.run();
  CHECK(b2.received == b.received);
  CHECK(wire2.trace() == wire.trace());
}

TEST_CASE("a wire's ends are attachments; a side other than 0 or 1 refuses everything") {
  using ukernel::hosted::NetWire;
  using ukernel::hosted::WirePeer;
  virtio_test::TestBus bus(4096);
  NetWire wire(bus);
  WirePeer b(wire, 1);
  ukernel::hosted::NetAttachment& end0 = wire.end(0);
  REQUIRE(end0.send(frame_of(60, 5)));
  bus.run();
  REQUIRE(b.received.size() == 1);
  CHECK(b.received[0] == frame_of(60, 5));

  ukernel::hosted::NetAttachment& bad = wire.end(2);
  CHECK(&bad == &wire.end(-1));
  CHECK_FALSE(bad.send(frame_of(60, 6)));
  bad.attach(&b);  // ignored: it attaches nothing
  CHECK(wire.stats().refused == 1);
  CHECK(wire.stats().sent == 1);
  REQUIRE(wire.end(1).send(frame_of(60, 7)));
  bus.run();
  CHECK(wire.stats().unattached == 1);  // end 0 has nothing attached
}
