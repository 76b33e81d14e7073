// The split virtqueue's driver side on its own: sizes, the free list, and every check on what
// the device writes into the used ring (the test plays a hostile device).
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "ukernel/virtio/virtqueue.hpp"

namespace {

using ukernel::virtio::DmaRegion;
using ukernel::virtio::QueueBuffer;
using ukernel::virtio::QueueCompletion;
using ukernel::virtio::QueueError;
using Queue = ukernel::virtio::SplitQueue<16>;

struct Memory {
  alignas(16) std::byte bytes[4096] = {};
  DmaRegion region() { return {bytes, 0x10000, sizeof bytes}; }
};

std::uint16_t get16(const std::byte* at) {
  std::uint16_t value;
  std::memcpy(&value, at, 2);
  return value;
}
void put16(std::byte* at, std::uint16_t value) {
  std::memcpy(at, &value, 2);
}
void put32(std::byte* at, std::uint32_t value) {
  std::memcpy(at, &value, 4);
}

// What a device does: puts {id, len} into the used ring and bumps its index.
void device_uses(Memory& memory, std::uint16_t size, std::uint32_t id, std::uint32_t length) {
  const auto layout = ukernel::virtio::ring_layout(size);
  std::byte* used = memory.bytes + layout.used_offset;
  const std::uint16_t index = get16(used + 2);
  put32(used + 4 + 8 * (index % size), id);
  put32(used + 8 + 8 * (index % size), length);
  put16(used + 2, static_cast<std::uint16_t>(index + 1));
}

}  // namespace

TEST_CASE("queue sizes from the device are checked") {
  Memory memory;
  Queue queue;
  CHECK(queue.init(0, memory.region()) == QueueError::kSizeZero);
  CHECK(queue.init(12, memory.region()) == QueueError::kSizeNotPowerOfTwo);
  CHECK(queue.init(32, memory.region()) == QueueError::kSizeTooLarge);
  CHECK(queue.init(16, memory.region().slice(0, 100)) == QueueError::kMemoryTooSmall);
  CHECK(queue.init(16, memory.region().slice(8, 1000)) == QueueError::kMemoryMisaligned);
  CHECK_FALSE(queue.ready());
  CHECK(queue.init(16, memory.region()) == QueueError::kOk);
  CHECK(queue.size() == 16);
  CHECK(queue.free_descriptors() == 16);
  CHECK(queue.avail_bus() == 0x10000 + 256);
  CHECK(queue.used_bus() == 0x10000 + 256 + 40);
}

TEST_CASE("chains are published in the available ring and their descriptors come back") {
  Memory memory;
  Queue queue;
  REQUIRE(queue.init(8, memory.region()) == QueueError::kOk);
  const QueueBuffer chain[3] = {{0x1000, 16, false}, {0x2000, 512, true}, {0x3000, 1, true}};
  REQUIRE(queue.submit(chain, 3, 77) == QueueError::kOk);
  CHECK(queue.free_descriptors() == 5);
  // Descriptor 0 -> 1 -> 2, flags NEXT / NEXT|WRITE / WRITE.
  CHECK(get16(memory.bytes + 12) == 1);
  CHECK(get16(memory.bytes + 14) == 1);
  CHECK(get16(memory.bytes + 16 + 12) == 3);
  CHECK(get16(memory.bytes + 32 + 12) == 2);
  const auto layout = ukernel::virtio::ring_layout(8);
  CHECK(get16(memory.bytes + layout.avail_offset + 2) == 1);  // avail idx
  CHECK(get16(memory.bytes + layout.avail_offset + 4) == 0);  // head

  QueueCompletion completion;
  CHECK(queue.pop_used(completion) == QueueError::kEmpty);
  device_uses(memory, 8, 0, 513);
  REQUIRE(queue.pop_used(completion) == QueueError::kOk);
  CHECK(completion.token == 77);
  CHECK(completion.written == 513);
  CHECK(queue.free_descriptors() == 8);
  CHECK(queue.in_flight() == 0);

  SECTION("a full queue refuses a chain and changes nothing") {
    const QueueBuffer one[1] = {{0x1000, 8, false}};
    for (int i = 0; i < 8; ++i)
      REQUIRE(queue.submit(one, 1, 0) == QueueError::kOk);
    CHECK(queue.submit(one, 1, 0) == QueueError::kNoDescriptors);
    CHECK(queue.in_flight() == 8);
  }
  SECTION("empty chains and zero-length buffers are refused") {
    const QueueBuffer zero[1] = {{0x1000, 0, false}};
    CHECK(queue.submit(zero, 1, 0) == QueueError::kBadChain);
    CHECK(queue.submit(zero, 0, 0) == QueueError::kBadChain);
    CHECK(queue.free_descriptors() == 8);
  }
}

TEST_CASE("a hostile used ring is refused and never followed") {
  Memory memory;
  Queue queue;
  REQUIRE(queue.init(8, memory.region()) == QueueError::kOk);
  const QueueBuffer chain[2] = {{0x1000, 16, false}, {0x3000, 1, true}};
  REQUIRE(queue.submit(chain, 2, 5) == QueueError::kOk);  // head 0, descriptors 0 and 1
  QueueCompletion completion{};

  SECTION("an id past the queue") {
    device_uses(memory, 8, 4000, 1);
    CHECK(queue.pop_used(completion) == QueueError::kUsedIdOutOfRange);
  }
  SECTION("an id that is not the head of a chain in flight") {
    device_uses(memory, 8, 1, 1);  // descriptor 1 is inside the chain, not its head
    CHECK(queue.pop_used(completion) == QueueError::kUsedIdNotInFlight);
  }
  SECTION("more written than the chain's writable buffers") {
    device_uses(memory, 8, 0, 2);
    CHECK(queue.pop_used(completion) == QueueError::kUsedLengthTooLarge);
  }
  SECTION("a used index running ahead of what is in flight") {
    device_uses(memory, 8, 0, 1);
    device_uses(memory, 8, 0, 1);
    CHECK(queue.pop_used(completion) == QueueError::kUsedIndexAhead);
  }
  SECTION("a chain completed twice") {
    REQUIRE(queue.submit(chain, 2, 6) == QueueError::kOk);  // a second chain, head 2
    device_uses(memory, 8, 0, 1);
    REQUIRE(queue.pop_used(completion) == QueueError::kOk);
    CHECK(completion.token == 5);
    device_uses(memory, 8, 0, 1);  // head 0 again, while only head 2 is in flight
    CHECK(queue.pop_used(completion) == QueueError::kUsedIdNotInFlight);
  }
  // After a refusal the queue stays broken: nothing the device writes later is acted on.
  CHECK(queue.broken());
  CHECK(queue.pop_used(completion) == QueueError::kBroken);
  CHECK(queue.submit(chain, 2, 9) == QueueError::kBroken);
  CHECK(completion.token != 9);
}
