// SpscRing: the semantics of boost::lockfree::spsc_queue, and a stream between two address
// spaces through a shared frame.
#include <boost/lockfree/spsc_queue.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "support/root_kit.hpp"
#include "ukernel/ring.hpp"

using namespace ukernel;

TEST_CASE("ring: the same results as boost::lockfree::spsc_queue on random operations") {
  constexpr std::size_t kCapacity = 7;
  using Ring = SpscRing<std::uint32_t, kCapacity>;
  alignas(64) static std::byte memory[sizeof(Ring)];
  Ring* ring = Ring::create(memory);
  RingProducer<std::uint32_t, kCapacity> producer(*ring);
  RingConsumer<std::uint32_t, kCapacity> consumer(*Ring::attach(memory));
  boost::lockfree::spsc_queue<std::uint32_t, boost::lockfree::capacity<kCapacity>> reference;
  std::mt19937 random(7);
  for (std::uint32_t i = 0; i < 20000; ++i) {
    if (random() % 2) {
      bool pushed = reference.push(i);
      REQUIRE(producer.push(i) == (pushed ? RingStatus::kOk : RingStatus::kFull));
    } else {
      std::uint32_t a = 0, b = 0;
      bool got = reference.pop(b);
      REQUIRE(consumer.pop(a) == (got ? RingStatus::kOk : RingStatus::kEmpty));
      if (got) REQUIRE(a == b);
    }
    REQUIRE(consumer.read_available() == reference.read_available());
    REQUIRE(producer.write_available() == reference.write_available());
  }
}

TEST_CASE("ring: peek reads ahead without popping, discard pops unread, across the wrap") {
  constexpr std::size_t kCapacity = 5;
  using Ring = SpscRing<std::uint32_t, kCapacity>;
  alignas(64) static std::byte memory[sizeof(Ring)];
  Ring* ring = Ring::create(memory);
  RingProducer<std::uint32_t, kCapacity> producer(*ring);
  RingConsumer<std::uint32_t, kCapacity> consumer(*Ring::attach(memory));
  std::uint32_t next_pushed = 0, next_expected = 0;
  for (int round = 0; round < 7; ++round) {  // the indices wrap (6 slots) several times
    while (producer.push(next_pushed) == RingStatus::kOk)
      ++next_pushed;
    REQUIRE(consumer.read_available() == kCapacity);
    for (std::size_t i = 0; i < kCapacity; ++i) {
      std::uint32_t value = 0;
      REQUIRE(consumer.peek(i, value) == RingStatus::kOk);
      REQUIRE(value == next_expected + i);
    }
    std::uint32_t beyond = 0xdead;
    REQUIRE(consumer.peek(kCapacity, beyond) == RingStatus::kEmpty);
    REQUIRE(beyond == 0xdead);
    // Nothing was popped: the producer still has no room.
    REQUIRE(producer.write_available() == 0);
    REQUIRE(consumer.discard(kCapacity + 1) == RingStatus::kEmpty);
    REQUIRE(consumer.read_available() == kCapacity);
    std::size_t count = 1 + std::size_t(round) % 3;
    REQUIRE(consumer.discard(count) == RingStatus::kOk);
    next_expected += std::uint32_t(count);
    REQUIRE(producer.write_available() == count);
    std::uint32_t value = 0;
    REQUIRE(consumer.pop(value) == RingStatus::kOk);
    REQUIRE(value == next_expected++);
  }
  // A consumer attached later (a restarted one) starts where the shared index says.
  RingConsumer<std::uint32_t, kCapacity> again(*Ring::attach(memory));
  std::uint32_t value = 0;
  REQUIRE(again.peek(0, value) == RingStatus::kOk);
  REQUIRE(value == next_expected);
}

namespace {

// The ring's shared bytes, as a hostile peer sees them: the layout SpscRing documents.
struct RawRing {
  alignas(64) std::uint32_t head;
  alignas(64) std::uint32_t tail;
  alignas(64) std::uint32_t slots[8];
};
using Hostile = SpscRing<std::uint32_t, 7>;
static_assert(sizeof(RawRing) == sizeof(Hostile));

// A heap block of exactly the ring's size, so that ASan reports any access past it.
struct Region {
  std::unique_ptr<std::byte[]> bytes{new std::byte[sizeof(Hostile)]()};
  RawRing& raw() { return *reinterpret_cast<RawRing*>(bytes.get()); }
};

}  // namespace

TEST_CASE("ring: a peer index out of range is refused, for each side") {
  for (std::uint32_t bad : {8u, 9u, 1000u, 0x80000000u, 0xffffffffu}) {
    INFO("index " << bad);
    Region region;
    Hostile* ring = Hostile::create(region.bytes.get());
    RingProducer<std::uint32_t, 7> producer(*ring);
    RingConsumer<std::uint32_t, 7> consumer(*ring);
    REQUIRE(producer.push(1) == RingStatus::kOk);
    region.raw().head = bad;  // the producer is hostile: the consumer must refuse
    std::uint32_t out = 0;
    CHECK(consumer.pop(out) == RingStatus::kCorrupt);
    CHECK(consumer.peek(0, out) == RingStatus::kCorrupt);
    CHECK(consumer.discard(1) == RingStatus::kCorrupt);
    CHECK(consumer.read_available() == 0);
    CHECK(consumer.corrupt());
    region.raw().head = 1;  // and it stays refused: a broken peer is not believed again
    CHECK(consumer.pop(out) == RingStatus::kCorrupt);
    CHECK(out == 0);

    Region other;
    Hostile* ring2 = Hostile::create(other.bytes.get());
    RingProducer<std::uint32_t, 7> producer2(*ring2);
    other.raw().tail = bad;  // the consumer is hostile: the producer must refuse
    CHECK(producer2.push(5) == RingStatus::kCorrupt);
    CHECK(producer2.write_available() == 0);
    CHECK(other.raw().slots[0] == 0);  // nothing was written
  }
}

TEST_CASE("ring: a peer that rewrites the other side's own index is caught by its shadow") {
  Region region;
  Hostile* ring = Hostile::create(region.bytes.get());
  RingProducer<std::uint32_t, 7> producer(*ring);
  RingConsumer<std::uint32_t, 7> consumer(*ring);
  for (std::uint32_t i = 0; i < 3; ++i)
    REQUIRE(producer.push(i) == RingStatus::kOk);
  region.raw().tail = 2;  // in range, but not where the consumer is: replays or skips
  std::uint32_t out = 0;
  CHECK(consumer.pop(out) == RingStatus::kCorrupt);
  region.raw().head = 5;  // the consumer rewrites the producer's index
  CHECK(producer.push(9) == RingStatus::kCorrupt);
}

TEST_CASE("ring: random garbage in the indices and slots never sends a side out of bounds") {
  std::mt19937 random(2026);
  std::uint64_t corrupt_seen = 0, values_seen = 0;
  for (int round = 0; round < 2000; ++round) {
    Region region;
    Hostile* ring = Hostile::create(region.bytes.get());
    RingProducer<std::uint32_t, 7> producer(*ring);
    RingConsumer<std::uint32_t, 7> consumer(*ring);
    for (int op = 0; op < 40; ++op) {
      switch (random() % 4) {
        case 0: {  // the hostile peer writes a random word somewhere in the region
          // Half the time one of the two indices (words 0 and 16), else any word.
          std::size_t at = random() % 2 ? (random() % 2) * 16
                                        : random() % (sizeof(Hostile) / sizeof(std::uint32_t));
          std::uint32_t value = random() % 3 == 0 ? random() : random() % 10;
          reinterpret_cast<std::uint32_t*>(region.bytes.get())[at] = value;
          break;
        }
        case 1: {
          RingStatus s = producer.push(std::uint32_t(op));
          REQUIRE((s == RingStatus::kOk || s == RingStatus::kFull || s == RingStatus::kCorrupt));
          break;
        }
        default: {
          std::uint32_t out = 0;
          RingStatus s = consumer.pop(out);
          REQUIRE((s == RingStatus::kOk || s == RingStatus::kEmpty || s == RingStatus::kCorrupt));
          if (s == RingStatus::kOk) ++values_seen;
          break;
        }
      }
      REQUIRE(producer.write_available() <= 7);
      REQUIRE(consumer.read_available() <= 7);
    }
    if (producer.corrupt() || consumer.corrupt()) ++corrupt_seen;
  }
  INFO("rounds with corruption found " << corrupt_seen << ", values popped " << values_seen);
  CHECK(corrupt_seen > 1000);  // garbage is noticed, not silently taken
  CHECK(values_seen > 1000);   // and the ring worked between the attacks
}

namespace {

struct Record {
  std::uint64_t sequence;
  std::uint64_t payload[3];
};
using Stream = SpscRing<Record, 64>;
constexpr std::uint64_t kRecords = 5000;  // 160 KB: far beyond one message
constexpr word kProducerAddress = 0x50000000;
constexpr word kConsumerAddress = 0x70000000;

struct {
  word data_ready = 0;  // notification: the consumer waits on it
  word space_free = 0;  // notification: the producer waits on it
  std::uint64_t received = 0;
  std::uint64_t out_of_order = 0;
  // Each side's view: the same bytes (one frame), each reachable only at its own address.
  void* producer_view = nullptr;
  void* consumer_view = nullptr;
  bool producer_sees_consumer_address = true;
  bool consumer_sees_producer_address = true;
} g;

void producer(word) {
  void* memory = arch::user_pointer(kProducerAddress, sizeof(Stream));
  g.producer_view = memory;
  g.producer_sees_consumer_address = arch::user_pointer(kConsumerAddress, 1) != nullptr;
  RingProducer<Record, 64> ring(*Stream::create(memory));
  for (std::uint64_t i = 0; i < kRecords;) {
    if (ring.push(Record{i, {i * 3, i * 5, i * 7}}) == RingStatus::kOk) {
      ++i;
      if (i % 16 == 0 || i == kRecords) (void)signal(g.data_ready);
    } else {
      (void)signal(g.data_ready);
      (void)wait(g.space_free);
    }
  }
}

void consumer(word) {
  (void)wait(g.data_ready);  // the producer has made the ring
  void* memory = arch::user_pointer(kConsumerAddress, sizeof(Stream));
  g.consumer_view = memory;
  g.consumer_sees_producer_address = arch::user_pointer(kProducerAddress, 1) != nullptr;
  RingConsumer<Record, 64> ring(*Stream::attach(memory));
  for (bool first = true; g.received < kRecords; first = false) {
    if (!first) (void)wait(g.data_ready);
    Record r;
    while (ring.pop(r) == RingStatus::kOk) {
      if (r.sequence != g.received || r.payload[2] != r.sequence * 7) ++g.out_of_order;
      ++g.received;
    }
    (void)signal(g.space_free);
  }
}

void root(word info) {
  test::RootKit kit(info);
  word shared = kit.make(ObjectType::kFrame, 16);  // 64 KiB, enough for the ring
  word shared_copy = kit.mint(shared, Rights::kRead | Rights::kWrite, 0);
  word producer_space = kit.make(ObjectType::kAddressSpace, 16);
  word consumer_space = kit.make(ObjectType::kAddressSpace, 16);
  if (map_frame(producer_space, shared, kProducerAddress, Rights::kRead | Rights::kWrite) !=
          Error::kOk ||
      map_frame(consumer_space, shared_copy, kConsumerAddress, Rights::kRead | Rights::kWrite) !=
          Error::kOk)
    return;
  g.data_ready = kit.mint(kit.make(ObjectType::kNotification), Rights::kAll, 1);
  g.space_free = kit.mint(kit.make(ObjectType::kNotification), Rights::kAll, 1);
  kit.spawn_in(consumer_space, consumer, 0, 100);
  kit.spawn_in(producer_space, producer, 0, 100);
}

}  // namespace

TEST_CASE("ring: a stream between two address spaces through a shared frame") {
  for (unsigned preempt : {0u, 3u}) {
    g = {};
    hosted::Simulation sim({.seed = 11, .preempt_one_in = preempt});
    sim.run(root);
    INFO("preempt_one_in " << preempt);
    REQUIRE(g.producer_view != nullptr);
    CHECK(g.producer_view == g.consumer_view);      // one frame, seen by both
    CHECK_FALSE(g.producer_sees_consumer_address);  // and two address spaces: neither sees
    CHECK_FALSE(g.consumer_sees_producer_address);  // the other's mapping
    CHECK(g.received == kRecords);
    CHECK(g.out_of_order == 0);
  }
}
