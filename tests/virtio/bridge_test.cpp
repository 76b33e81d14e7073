// The blk server's core (examples/blk/block_bridge.hpp) between a block session and the
// virtio-blk driver and model: a client reads and writes sectors through the session's rings
// byte-exactly, with many requests in flight completing out of order, a seeded device error
// reaching the client as an error completion, and a reopened session getting none of the old
// session's completions.
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <vector>

#include "blk/block_bridge.hpp"
#include "virtio/test_bus.hpp"

namespace {

namespace block = ukernel::block;
using virtio_test::BlkRig;
using virtio_test::DmaRegion;
using virtio_test::ImageFile;

constexpr std::uint32_t kMaxInFlight = 16;
using Bridge = blk::BlockBridge<virtio_test::Driver, 1, kMaxInFlight>;

// A session region in the test bus's RAM, and the client's side of its rings.
struct Session {
  static constexpr std::size_t kBytes = 64 * 1024;

  BlkRig& rig;
  DmaRegion region;
  Bridge bridge;
  block::Geometry geometry;
  block::RequestProducer requests;
  block::CompletionConsumer completions;

  explicit Session(BlkRig& r) : rig(r), region(r.bus.allocate(kBytes, 64)), bridge(r.driver) {}

  bool open() {
    if (!bridge.open(0, ukernel::SharedRegion(region.cpu, region.bytes), region.bus, geometry))
      return false;
    requests =
        block::RequestProducer(*block::RequestRing::attach(region.cpu + block::kRequestRingOffset));
    completions = block::CompletionConsumer(
        *block::CompletionRing::attach(region.cpu + block::kCompletionRingOffset));
    return true;
  }
  std::byte* data(std::uint64_t offset) { return region.cpu + block::kDataOffset + offset; }
  void push(std::uint64_t id, block::Op op, std::uint64_t lba, std::uint32_t sectors,
            std::uint64_t offset) {
    REQUIRE(requests.push(block::Request{id, std::uint32_t(op), sectors, lba, offset}) ==
            ukernel::RingStatus::kOk);
  }
  // What a Kick and the interrupts that follow do: until nothing is in flight.
  std::map<std::uint64_t, block::Status> run() {
    std::map<std::uint64_t, block::Status> done;
    bridge.pump(0);
    for (;;) {
      rig.bus.run();
      REQUIRE(bridge.device_done());
      bridge.pump(0);
      block::Completion c;
      while (completions.pop(c) == ukernel::RingStatus::kOk)
        done[c.id] = block::Status(c.status);
      if (bridge.session(0).in_flight() == 0 && rig.bus.pending_events() == 0) return done;
    }
  }
};

}  // namespace

TEST_CASE("a client reads and writes sectors through blk's core byte-exactly, many in flight") {
  BlkRig rig;
  REQUIRE(rig.init() == virtio_blk::Error::kOk);
  rig.model.set_random_delays(7, 1000, 50000);  // out-of-order completions
  Session s(rig);
  REQUIRE(s.open());
  CHECK(s.geometry.sectors == BlkRig::kSectors);
  CHECK(s.geometry.sector_size == 512);

  // 20 reads of 2 sectors each: more than the 16 request slots, so some wait in the ring.
  for (std::uint64_t i = 0; i < 20; ++i)
    s.push(100 + i, block::Op::kRead, 50 * i, 2, i * 1024);
  std::map<std::uint64_t, block::Status> done = s.run();
  REQUIRE(done.size() == 20);
  for (std::uint64_t i = 0; i < 20; ++i) {
    CHECK(done[100 + i] == block::Status::kOk);
    std::vector<std::uint8_t> got(1024);
    std::memcpy(got.data(), s.data(i * 1024), got.size());
    CHECK(got == rig.image.read(50 * i * 512, 1024));
  }

  // Writes from the region land on the image in place; a flush follows.
  for (std::size_t i = 0; i < 4096; ++i)
    s.data(32768)[i] = std::byte(i * 11 + 3);
  s.push(1, block::Op::kWrite, 1000, 8, 32768);
  s.push(2, block::Op::kFlush, 0, 0, 0);
  done = s.run();
  CHECK(done[1] == block::Status::kOk);
  CHECK(done[2] == block::Status::kOk);
  std::vector<std::uint8_t> written = rig.image.read(1000 * 512, 4096);
  for (std::size_t i = 0; i < 4096; ++i)
    CHECK(written[i] == std::uint8_t(i * 11 + 3));
  CHECK(rig.image.read(999 * 512, 512) ==
        std::vector<std::uint8_t>(ImageFile(BlkRig::kSectors).read(999 * 512, 512)));
}

TEST_CASE("a seeded device error reaches the client as an error completion, not as data") {
  BlkRig rig;
  REQUIRE(rig.init() == virtio_blk::Error::kOk);
  rig.model.fail_sectors(300, 4);
  Session s(rig);
  REQUIRE(s.open());
  std::memset(s.data(0), 0xee, 4096);
  s.push(1, block::Op::kRead, 296, 8, 0);     // touches 300..303: fails
  s.push(2, block::Op::kRead, 100, 1, 8192);  // fine
  s.push(3, block::Op::kWrite, 302, 1, 0);    // fails, the image is untouched
  std::map<std::uint64_t, block::Status> done = s.run();
  CHECK(done[1] == block::Status::kIoError);
  CHECK(done[2] == block::Status::kOk);
  CHECK(done[3] == block::Status::kIoError);
  CHECK(rig.image.read(302 * 512, 512) ==
        std::vector<std::uint8_t>(ImageFile(BlkRig::kSectors).read(302 * 512, 512)));
  // A bad request never reaches the device: answered by the session's checks.
  s.push(4, block::Op::kRead, BlkRig::kSectors, 1, 0);
  done = s.run();
  CHECK(done[4] == block::Status::kOutOfRange);
}

TEST_CASE("a reopened session gets none of the old session's completions") {
  BlkRig rig;
  REQUIRE(rig.init() == virtio_blk::Error::kOk);
  rig.model.set_delay([](unsigned) { return std::uint64_t{1000}; });
  Session s(rig);
  REQUIRE(s.open());
  s.push(1, block::Op::kRead, 0, 1, 0);
  s.bridge.pump(0);
  REQUIRE(s.bridge.session(0).in_flight() == 1);
  REQUIRE(s.open());  // the client restarted and opened again
  std::map<std::uint64_t, block::Status> done = s.run();
  CHECK(done.empty());
  s.push(9, block::Op::kRead, 0, 1, 0);
  done = s.run();
  REQUIRE(done.size() == 1);
  CHECK(done[9] == block::Status::kOk);
}
