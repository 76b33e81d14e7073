// The packet protocol (ukernel/packet.hpp) without a device: the driver's session and the
// stack's port over one region, frames both ways in place, every hostile entry either side can
// write answered or counted without harm, corrupt ring indices, and a re-open after a driver
// restart giving every buffer back to the stack.
#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <vector>

#include "ukernel/packet_client.hpp"
#include "ukernel/packet_server.hpp"

namespace {

using namespace ukernel::packet;
using ukernel::RingStatus;
using ukernel::SharedRegion;
using Bytes = std::vector<std::byte>;

constexpr std::uint32_t kBuffers = 16;

struct Region {
  explicit Region(std::size_t size = kDataOffset + kBuffers * kBufferBytes)
      : memory(new (std::align_val_t{4096}) std::byte[size]), bytes(size) {}
  ~Region() { operator delete[](memory, std::align_val_t{4096}); }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  SharedRegion shared() const { return {memory, bytes}; }
  Ring& ring(std::size_t offset) const { return *Ring::attach(memory + offset); }
  std::byte* frame(std::uint64_t offset) const {
    return memory + kDataOffset + offset + kFrameOffset;
  }
  std::byte* memory;
  std::size_t bytes;
};

struct Session {
  Session() {
    geometry = geometry_for(region.bytes, 0x525400123456);
    REQUIRE(driver.open(region.shared(), geometry));
    REQUIRE(stack.attach(region.shared(), geometry, 8));
  }
  Region region;
  Geometry geometry;
  DriverSession driver;
  StackPort stack;
};

Bytes frame_of(std::size_t length, unsigned seed) {
  Bytes frame(length);
  for (std::size_t i = 0; i < length; ++i)
    frame[i] = static_cast<std::byte>(i * 7 + seed);
  return frame;
}

}  // namespace

TEST_CASE("packet: the geometry and the layout") {
  CHECK(kDataOffset % 4096 == 0);
  CHECK(kSentRingOffset + sizeof(Ring) <= kDataOffset);
  CHECK(geometry_for(kDataOffset + 3 * kBufferBytes + 100, 1).buffers == 3);
  CHECK(geometry_for(kDataOffset, 1).buffers == 0);
  CHECK(geometry_for(std::uint64_t{1} << 40, 1).buffers == kMaxBuffers);
  CHECK(is_buffer(0, geometry_for(kMinRegionBytes, 0)));
  CHECK_FALSE(is_buffer(kBufferBytes, geometry_for(kMinRegionBytes, 0)));
  CHECK_FALSE(is_buffer(~std::uint64_t{0}, geometry_for(std::uint64_t{1} << 40, 0)));

  Region small(kDataOffset + kBufferBytes - 1);
  DriverSession driver;
  CHECK_FALSE(driver.open(small.shared(), geometry_for(small.bytes, 0)));
  Region region;
  Geometry lying = geometry_for(region.bytes, 0);
  lying.buffers = kBuffers + 1;  // more than the region holds
  CHECK_FALSE(driver.open(region.shared(), lying));
  StackPort stack;
  CHECK_FALSE(stack.attach(region.shared(), lying, 4));
  CHECK_FALSE(stack.transmit(frame_of(60, 1)));
}

TEST_CASE("packet: frames go both ways in place, every buffer comes back") {
  Session s;
  CHECK(s.stack.free_buffers() == kBuffers - 8);
  // The driver takes the eight lent buffers in order.
  std::vector<std::uint64_t> lent;
  std::uint64_t offset = 0;
  while (s.driver.next_fill(offset))
    lent.push_back(offset);
  REQUIRE(lent.size() == 8);
  CHECK(s.driver.held_for_receive() == 8);
  for (std::size_t i = 0; i < lent.size(); ++i)
    CHECK(lent[i] == i * kBufferBytes);

  // The "device" writes two frames in place; the driver gives the buffers back.
  const Bytes first = frame_of(60, 1), second = frame_of(1514, 2);
  std::memcpy(s.region.frame(lent[0]), first.data(), first.size());
  std::memcpy(s.region.frame(lent[1]), second.data(), second.size());
  REQUIRE(s.driver.received(lent[0], 60, Status::kOk));
  REQUIRE(s.driver.received(lent[1], 1514, Status::kOk));
  REQUIRE(s.driver.received(lent[2], 0, Status::kDropped));
  CHECK_FALSE(s.driver.received(lent[2], 0, Status::kOk));  // not held any more
  std::vector<Bytes> got;
  std::vector<const std::byte*> where;
  CHECK(s.stack.poll([&](std::span<const std::byte> frame) {
    got.emplace_back(frame.begin(), frame.end());
    where.push_back(frame.data());
  }) == 3);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == first);
  CHECK(got[1] == second);
  CHECK(where[0] == s.region.frame(lent[0]));  // no copy
  CHECK(s.stack.stats().received == 2);
  CHECK(s.stack.stats().receive_dropped == 1);
  // The three buffers were lent again.
  std::size_t again = 0;
  while (s.driver.next_fill(offset))
    ++again;
  CHECK(again == 3);

  // Transmit: the frame lands in a free buffer, the driver sees it, sends it, gives it back.
  const Bytes out = frame_of(100, 3);
  REQUIRE(s.stack.transmit(out));
  CHECK(s.stack.take_kick());
  Entry e;
  REQUIRE(s.driver.next_transmit(e));
  CHECK(e.length == 100);
  CHECK(Bytes(s.region.frame(e.offset), s.region.frame(e.offset) + 100) == out);
  CHECK(s.stack.free_buffers() == kBuffers - 9);
  REQUIRE(s.driver.sent(e.offset, Status::kOk));
  s.stack.reclaim();
  CHECK(s.stack.free_buffers() == kBuffers - 8);
  CHECK(s.stack.stats().protocol_errors == 0);

  // Out of buffers: transmit says so.
  unsigned queued = 0;
  while (s.stack.transmit(out))
    ++queued;
  CHECK(queued == kBuffers - 8);
  CHECK(s.stack.stats().send_no_buffer == 1);
}

TEST_CASE("packet: hostile entries from the stack are answered, never acted on") {
  Session s;
  std::uint64_t offset = 0;
  while (s.driver.next_fill(offset)) {
  }
  Producer fill(s.region.ring(kFillRingOffset));
  Producer transmit(s.region.ring(kTransmitRingOffset));
  // Fill: unaligned, past the buffers, huge, and a buffer the driver already holds.
  for (std::uint64_t bad : {std::uint64_t{100}, std::uint64_t{kBuffers} * kBufferBytes,
                            ~std::uint64_t{0} - kBufferBytes + 1, std::uint64_t{0}})
    REQUIRE(fill.push(Entry{bad, 0, 0}) == RingStatus::kOk);
  CHECK_FALSE(s.driver.next_fill(offset));
  CHECK(s.driver.held_for_receive() == 8);
  Consumer receive(s.region.ring(kReceiveRingOffset));
  std::vector<Status> answers;
  Entry e;
  while (receive.pop(e) == RingStatus::kOk)
    answers.push_back(Status(e.status));
  CHECK(answers == std::vector<Status>{Status::kBadOffset, Status::kBadOffset, Status::kBadOffset,
                                       Status::kDuplicate});

  // Transmit: lengths out of range, a bad offset, then one good frame, then it again.
  const std::uint64_t free_buffer = 12 * kBufferBytes;
  REQUIRE(transmit.push(Entry{free_buffer, 13, 0}) == RingStatus::kOk);
  REQUIRE(transmit.push(Entry{free_buffer, 1515, 0}) == RingStatus::kOk);
  REQUIRE(transmit.push(Entry{free_buffer + 1, 60, 0}) == RingStatus::kOk);
  REQUIRE(transmit.push(Entry{free_buffer, 60, 0}) == RingStatus::kOk);
  REQUIRE(transmit.push(Entry{free_buffer, 60, 0}) == RingStatus::kOk);
  REQUIRE(s.driver.next_transmit(e));
  CHECK(e.offset == free_buffer);
  CHECK_FALSE(s.driver.next_transmit(e));
  CHECK(s.driver.held_for_transmit() == 1);
  Consumer sent(s.region.ring(kSentRingOffset));
  answers.clear();
  while (sent.pop(e) == RingStatus::kOk)
    answers.push_back(Status(e.status));
  CHECK(answers == std::vector<Status>{Status::kBadLength, Status::kBadLength, Status::kBadOffset,
                                       Status::kDuplicate});
}

TEST_CASE("packet: hostile entries from the driver are counted and ignored by the stack") {
  Session s;
  Producer receive(s.region.ring(kReceiveRingOffset));
  Producer sent(s.region.ring(kSentRingOffset));
  // Buffer 10 was never lent; buffer 0 was lent for receiving, not sending; offset 3 is none.
  REQUIRE(receive.push(Entry{10 * kBufferBytes, 60, 0}) == RingStatus::kOk);
  REQUIRE(receive.push(Entry{3, 60, 0}) == RingStatus::kOk);
  REQUIRE(receive.push(Entry{0, 1515, 0}) == RingStatus::kOk);  // lent, but no frame is 1515
  REQUIRE(sent.push(Entry{kBufferBytes, 0, 0}) == RingStatus::kOk);
  unsigned delivered = 0;
  s.stack.poll([&](std::span<const std::byte>) { ++delivered; });
  s.stack.reclaim();
  CHECK(delivered == 0);
  CHECK(s.stack.stats().protocol_errors == 4);
  CHECK(s.stack.free_buffers() == kBuffers - 8);  // buffer 0 went back to the driver
}

TEST_CASE("packet: corrupt ring indices stop the session until it is opened again") {
  Session s;
  // The stack (or anyone with the region) scribbles the fill ring's producer index.
  auto* head = reinterpret_cast<std::uint32_t*>(s.region.memory + kFillRingOffset);
  *head = 0xdeadbeef;
  std::uint64_t offset = 0;
  CHECK_FALSE(s.driver.next_fill(offset));
  CHECK(s.driver.corrupt());
  REQUIRE(s.driver.open(s.region.shared(), s.geometry));
  CHECK_FALSE(s.driver.corrupt());
}

TEST_CASE("packet: after a driver restart the stack takes every buffer back") {
  Session s;
  std::uint64_t offset = 0;
  while (s.driver.next_fill(offset)) {
  }
  REQUIRE(s.stack.transmit(frame_of(60, 1)));
  Entry e;
  REQUIRE(s.driver.next_transmit(e));
  // The driver dies holding nine buffers; a new one opens the session afresh.
  DriverSession fresh;
  REQUIRE(fresh.open(s.region.shared(), s.geometry));
  REQUIRE(s.stack.attach(s.region.shared(), s.geometry, 8));
  CHECK(s.stack.free_buffers() == kBuffers - 8);
  unsigned lent = 0;
  while (fresh.next_fill(offset))
    ++lent;
  CHECK(lent == 8);
  REQUIRE(s.stack.transmit(frame_of(60, 2)));
  REQUIRE(fresh.next_transmit(e));
  CHECK(e.length == 60);
}

TEST_CASE("packet: a frame sent from inside the receive callback takes another buffer") {
  // The stack answers (ARP, ICMP, ACKs) from inside input(): the buffer it is reading must not
  // be the one its answer is written into, nor be lent again before the answer is read.
  Session s;
  std::uint64_t offset = 0;
  REQUIRE(s.driver.next_fill(offset));
  const Bytes request = frame_of(60, 4), answer = frame_of(70, 5);
  std::memcpy(s.region.frame(offset), request.data(), request.size());
  REQUIRE(s.driver.received(offset, 60, Status::kOk));
  Bytes seen;
  s.stack.poll([&](std::span<const std::byte> frame) {
    REQUIRE(s.stack.transmit(answer));
    seen.assign(frame.begin(), frame.end());
  });
  CHECK(seen == request);
  Entry e;
  REQUIRE(s.driver.next_transmit(e));
  CHECK(e.offset != offset);
  CHECK(Bytes(s.region.frame(e.offset), s.region.frame(e.offset) + 70) == answer);
  CHECK(s.stack.stats().protocol_errors == 0);
}
