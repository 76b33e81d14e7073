// The virtio-blk driver core driving the virtio-blk model end to end: capacity, byte-exact
// reads and writes against the image file, flush, many requests completing out of order,
// injected errors and delays, limits, interrupts, and a device that breaks its used ring.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

#include "virtio/test_bus.hpp"

namespace {

using virtio_blk::Completion;
using virtio_blk::Error;
using virtio_blk::Operation;
using virtio_test::BlkRig;
using virtio_test::DmaRegion;
using virtio_test::ImageFile;

std::vector<std::uint8_t> bytes_of(DmaRegion region) {
  std::vector<std::uint8_t> out(region.bytes);
  std::memcpy(out.data(), region.cpu, region.bytes);
  return out;
}

void fill(DmaRegion region, std::uint8_t seed) {
  for (std::size_t i = 0; i < region.bytes; ++i)
    region.cpu[i] = static_cast<std::byte>(seed + i * 3);
}

}  // namespace

TEST_CASE("the driver brings the device up and reads its capacity") {
  BlkRig rig;
  REQUIRE(rig.init() == Error::kOk);
  CHECK(rig.driver.capacity_sectors() == BlkRig::kSectors);
  CHECK(rig.driver.limits().flush);
  CHECK_FALSE(rig.driver.limits().read_only);
  CHECK(rig.driver.limits().block_size == 512);
  CHECK(rig.function.device_status() == (1 | 2 | 4 | 8));
}

TEST_CASE("reads and writes are byte-exact against the image file") {
  BlkRig rig;
  REQUIRE(rig.init() == Error::kOk);
  DmaRegion buffer = rig.bus.allocate(4096);

  REQUIRE(rig.driver.submit(Operation::kRead, 10, buffer, 1) == Error::kOk);
  std::vector<Completion> done = rig.finish();
  REQUIRE(done.size() == 1);
  CHECK(done[0].tag == 1);
  CHECK(done[0].result == Error::kOk);
  CHECK(bytes_of(buffer) == rig.image.read(10 * 512, 4096));

  fill(buffer, 0x5a);
  REQUIRE(rig.driver.submit(Operation::kWrite, 2040, buffer, 2) == Error::kOk);  // the last 8
  done = rig.finish();
  REQUIRE(done.size() == 1);
  CHECK(done[0].result == Error::kOk);
  CHECK(rig.image.read(2040 * 512, 4096) == bytes_of(buffer));
  // The neighbours are untouched.
  CHECK(rig.image.read(2039 * 512, 512)[511] == ImageFile::pattern(2040 * 512 - 1));

  DmaRegion again = rig.bus.allocate(4096);
  REQUIRE(rig.driver.submit(Operation::kRead, 2040, again, 3) == Error::kOk);
  REQUIRE(rig.finish().size() == 1);
  CHECK(bytes_of(again) == bytes_of(buffer));
  CHECK(rig.model.stats().reads == 2);
  CHECK(rig.model.stats().writes == 1);
}

TEST_CASE("flush reaches the image file when the device offers it") {
  BlkRig rig;
  REQUIRE(rig.init() == Error::kOk);
  REQUIRE(rig.driver.submit(Operation::kFlush, 0, {}, 9) == Error::kOk);
  const std::vector<Completion> done = rig.finish();
  REQUIRE(done.size() == 1);
  CHECK(done[0].operation == Operation::kFlush);
  CHECK(done[0].result == Error::kOk);
  CHECK(rig.model.stats().flushes == 1);

  BlkRig no_flush({.flush = false});
  REQUIRE(no_flush.init() == Error::kOk);
  CHECK(no_flush.driver.submit(Operation::kFlush, 0, {}, 9) == Error::kFlushUnsupported);
  CHECK(no_flush.model.stats().requests == 0);
}

TEST_CASE("many requests in flight complete out of order, each with its own data") {
  BlkRig rig;
  rig.model.set_random_delays(42, 1'000, 50'000);
  REQUIRE(rig.init() == Error::kOk);
  constexpr unsigned kRequests = 16;  // the driver's whole table
  std::vector<DmaRegion> buffers;
  for (unsigned i = 0; i < kRequests; ++i) {
    buffers.push_back(rig.bus.allocate(1024));
    REQUIRE(rig.driver.submit(Operation::kRead, 100 + 7 * i, buffers.back(), i) == Error::kOk);
  }
  CHECK(rig.driver.in_flight() == kRequests);
  DmaRegion extra = rig.bus.allocate(512);
  CHECK(rig.driver.submit(Operation::kRead, 0, extra, 99) == Error::kBusy);

  const std::vector<Completion> done = rig.finish();
  REQUIRE(done.size() == kRequests);
  std::vector<std::uint32_t> order;
  for (const Completion& completion : done) {
    CHECK(completion.result == Error::kOk);
    order.push_back(completion.tag);
  }
  CHECK_FALSE(std::is_sorted(order.begin(), order.end()));
  std::sort(order.begin(), order.end());
  for (unsigned i = 0; i < kRequests; ++i) {
    CHECK(order[i] == i);
    CHECK(bytes_of(buffers[i]) == rig.image.read((100 + 7 * i) * 512, 1024));
  }

  // The same seed gives the same order.
  BlkRig again;
  again.model.set_random_delays(42, 1'000, 50'000);
  REQUIRE(again.init() == Error::kOk);
  for (unsigned i = 0; i < kRequests; ++i)
    REQUIRE(again.driver.submit(Operation::kRead, 100 + 7 * i, again.bus.allocate(1024), i) ==
            Error::kOk);
  std::vector<std::uint32_t> second;
  for (const Completion& completion : again.finish())
    second.push_back(completion.tag);
  std::vector<std::uint32_t> first;
  for (const Completion& completion : done)
    first.push_back(completion.tag);
  CHECK(first == second);
}

TEST_CASE("a delayed request completes at its virtual time, not before") {
  BlkRig rig;
  rig.model.set_delay([](unsigned request) { return request == 0 ? 5'000'000 : 1'000; });
  REQUIRE(rig.init() == Error::kOk);
  REQUIRE(rig.driver.submit(Operation::kRead, 0, rig.bus.allocate(512), 0) == Error::kOk);
  REQUIRE(rig.driver.submit(Operation::kRead, 1, rig.bus.allocate(512), 1) == Error::kOk);
  Completion completion;
  CHECK(rig.driver.next_completion(completion) == Error::kNone);
  REQUIRE(rig.bus.step());
  CHECK(rig.bus.now_ns() == 1'000);
  REQUIRE(rig.driver.next_completion(completion) == Error::kOk);
  CHECK(completion.tag == 1);
  CHECK(rig.driver.next_completion(completion) == Error::kNone);
  REQUIRE(rig.bus.step());
  CHECK(rig.bus.now_ns() == 5'000'000);
  REQUIRE(rig.driver.next_completion(completion) == Error::kOk);
  CHECK(completion.tag == 0);
}

TEST_CASE("injected I/O errors reach the caller as errors, and the image is untouched") {
  BlkRig rig;
  rig.model.fail_request(1);
  rig.model.fail_sectors(500, 4);
  REQUIRE(rig.init() == Error::kOk);
  DmaRegion buffer = rig.bus.allocate(2048);
  fill(buffer, 0x11);

  REQUIRE(rig.driver.submit(Operation::kWrite, 0, buffer, 0) == Error::kOk);    // fine
  REQUIRE(rig.driver.submit(Operation::kWrite, 50, buffer, 1) == Error::kOk);   // request 1
  REQUIRE(rig.driver.submit(Operation::kWrite, 502, buffer, 2) == Error::kOk);  // bad sectors
  REQUIRE(rig.driver.submit(Operation::kRead, 498, buffer, 3) == Error::kOk);   // overlaps them
  const std::vector<Completion> done = rig.finish();
  REQUIRE(done.size() == 4);
  CHECK(done[0].result == Error::kOk);
  CHECK(done[1].result == Error::kIoError);
  CHECK(done[2].result == Error::kIoError);
  CHECK(done[3].result == Error::kIoError);
  CHECK(rig.image.read(50 * 512, 2048) ==
        std::vector<std::uint8_t>(ImageFile(BlkRig::kSectors).read(50 * 512, 2048)));
  CHECK(rig.image.read(502 * 512, 2048) ==
        std::vector<std::uint8_t>(ImageFile(BlkRig::kSectors).read(502 * 512, 2048)));
  CHECK(rig.model.stats().errors == 3);
}

TEST_CASE("requests are checked before anything is queued") {
  BlkRig rig;
  REQUIRE(rig.init() == Error::kOk);
  DmaRegion buffer = rig.bus.allocate(4096);
  CHECK(rig.driver.submit(Operation::kRead, 0, buffer.slice(0, 100), 0) == Error::kBadLength);
  CHECK(rig.driver.submit(Operation::kRead, 0, buffer.slice(0, 0), 0) == Error::kBadLength);
  CHECK(rig.driver.submit(Operation::kRead, BlkRig::kSectors - 1, buffer, 0) == Error::kOutOfRange);
  CHECK(rig.driver.submit(Operation::kWrite, ~ukernel::word{0} - 2, buffer, 0) ==
        Error::kOutOfRange);
  CHECK(rig.driver.in_flight() == 0);
  CHECK(rig.function.notifications() == 0);

  BlkRig read_only({.read_only = true});
  REQUIRE(read_only.init() == Error::kOk);
  CHECK(read_only.driver.submit(Operation::kWrite, 0, read_only.bus.allocate(512), 0) ==
        Error::kReadOnly);
}

TEST_CASE("seg_max and size_max cut a buffer into segments the device accepts") {
  BlkRig rig({.seg_max = 4, .size_max = 1024});
  REQUIRE(rig.init() == Error::kOk);
  CHECK(rig.driver.limits().seg_max == 4);
  CHECK(rig.driver.limits().size_max == 1024);
  DmaRegion buffer = rig.bus.allocate(8192);
  CHECK(rig.driver.submit(Operation::kRead, 0, buffer, 0) == Error::kTooManySegments);
  REQUIRE(rig.driver.submit(Operation::kRead, 3, buffer.slice(0, 4096), 0) == Error::kOk);
  const std::vector<Completion> done = rig.finish();
  REQUIRE(done.size() == 1);
  CHECK(done[0].result == Error::kOk);
  CHECK(bytes_of(buffer.slice(0, 4096)) == rig.image.read(3 * 512, 4096));
}

TEST_CASE("a data buffer outside RAM fails the request; nothing else is touched") {
  BlkRig rig;
  REQUIRE(rig.init() == Error::kOk);
  DmaRegion outside{rig.bus.allocate(512).cpu, 0x1000, 512};  // a bus address that is not RAM
  REQUIRE(rig.driver.submit(Operation::kWrite, 7, outside, 0) == Error::kOk);
  REQUIRE(rig.driver.submit(Operation::kRead, 7, outside, 1) == Error::kOk);
  const std::vector<Completion> done = rig.finish();
  REQUIRE(done.size() == 2);
  CHECK(done[0].result == Error::kIoError);
  CHECK(done[1].result == Error::kIoError);
  CHECK(rig.image.read(7 * 512, 512) == ImageFile(BlkRig::kSectors).read(7 * 512, 512));
}

TEST_CASE("completions interrupt through MSI-X with the message the caller gave") {
  BlkRig rig;
  ukernel::virtio::PciLayout layout;
  REQUIRE(rig.parse(layout) == ukernel::virtio::LayoutError::kOk);
  // The PCI server enables MSI-X in configuration space.
  rig.function.pci().config_write(layout.msix.capability_offset + 2, 2,
                                  ukernel::virtio::pci::kMsixEnable);
  REQUIRE(rig.init({.queue_vector = 2,
                    .program_entry = true,
                    .msix_address = 0xfee00000,
                    .msix_data = 42}) == Error::kOk);
  REQUIRE(rig.driver.submit(Operation::kRead, 0, rig.bus.allocate(512), 0) == Error::kOk);
  REQUIRE(rig.finish().size() == 1);
  REQUIRE(rig.bus.msis.size() == 1);
  CHECK(rig.bus.msis[0].first == 0xfee00000);
  CHECK(rig.bus.msis[0].second == 42);
  CHECK(rig.bus.lines.empty());
}

TEST_CASE("without MSI-X the wired line fires and the ISR says the queue has news") {
  BlkRig rig({}, {.msix_vectors = 0, .intx_line = 9});
  REQUIRE(rig.init() == Error::kOk);
  CHECK_FALSE(rig.driver.acknowledge_interrupt());
  REQUIRE(rig.driver.submit(Operation::kRead, 0, rig.bus.allocate(512), 0) == Error::kOk);
  rig.bus.run();
  REQUIRE(rig.bus.lines == std::vector<unsigned>{9});
  CHECK(rig.driver.acknowledge_interrupt());
  CHECK_FALSE(rig.driver.acknowledge_interrupt());  // reading cleared it
  Completion completion;
  CHECK(rig.driver.next_completion(completion) == Error::kOk);
}

TEST_CASE("a device that corrupts its used ring is refused, and the driver stops") {
  BlkRig rig;
  REQUIRE(rig.init() == Error::kOk);
  DmaRegion buffer = rig.bus.allocate(512);
  REQUIRE(rig.driver.submit(Operation::kRead, 0, buffer, 0) == Error::kOk);
  rig.bus.run();
  // Overwrite the used element's id with one past the queue.
  const auto layout = ukernel::virtio::ring_layout(64);
  std::byte* element = rig.queue_memory.cpu + layout.used_offset + 4;
  const std::uint32_t bad_id = 1000;
  std::memcpy(element, &bad_id, 4);
  Completion completion;
  CHECK(rig.driver.next_completion(completion) == Error::kDeviceFault);
  CHECK(rig.driver.queue_error() == ukernel::virtio::QueueError::kUsedIdOutOfRange);
  CHECK_FALSE(rig.driver.ready());
  CHECK(rig.driver.submit(Operation::kRead, 0, buffer, 1) == Error::kNotReady);
}

TEST_CASE("a read the device reports as short never hands out unwritten data") {
  BlkRig rig;
  REQUIRE(rig.init() == Error::kOk);
  REQUIRE(rig.driver.submit(Operation::kRead, 0, rig.bus.allocate(1024), 0) == Error::kOk);
  rig.bus.run();
  const auto layout = ukernel::virtio::ring_layout(64);
  std::byte* element = rig.queue_memory.cpu + layout.used_offset + 4;
  const std::uint32_t short_length = 513;  // half the data and the status
  std::memcpy(element + 4, &short_length, 4);
  Completion completion;
  REQUIRE(rig.driver.next_completion(completion) == Error::kOk);
  CHECK(completion.result == Error::kShortRead);
}

TEST_CASE("the driver refuses a device that is not a block device") {
  BlkRig rig;
  ukernel::virtio::PciLayout layout;
  REQUIRE(rig.parse(layout) == ukernel::virtio::LayoutError::kOk);
  layout.device_type = 1;
  CHECK(rig.driver.init(layout, rig.bars, rig.queue_memory, rig.request_memory) ==
        Error::kNotBlockDevice);
  CHECK_FALSE(rig.driver.ready());
}
