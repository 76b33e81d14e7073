// SpscRing: the semantics of boost::lockfree::spsc_queue, and a stream between two address
// spaces through a shared frame.
#include <boost/lockfree/spsc_queue.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

#include "support/root_kit.hpp"
#include "ukernel/ring.hpp"

using namespace ukernel;

TEST_CASE("ring: the same results as boost::lockfree::spsc_queue on random operations") {
  constexpr std::size_t kCapacity = 7;
  alignas(64) static std::byte memory[sizeof(SpscRing<std::uint32_t, kCapacity>)];
  auto* ring = SpscRing<std::uint32_t, kCapacity>::create(memory);
  boost::lockfree::spsc_queue<std::uint32_t, boost::lockfree::capacity<kCapacity>> reference;
  std::mt19937 random(7);
  for (std::uint32_t i = 0; i < 20000; ++i) {
    if (random() % 2) {
      REQUIRE(ring->push(i) == reference.push(i));
    } else {
      std::uint32_t a = 0, b = 0;
      bool got = ring->pop(a);
      REQUIRE(got == reference.pop(b));
      if (got) REQUIRE(a == b);
    }
    REQUIRE(ring->read_available() == reference.read_available());
    REQUIRE(ring->write_available() == reference.write_available());
  }
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
  bool different_spaces = false;
} g;

void producer(word) {
  auto* ring = Stream::create(arch::user_pointer(kProducerAddress, sizeof(Stream)));
  for (std::uint64_t i = 0; i < kRecords;) {
    if (ring->push(Record{i, {i * 3, i * 5, i * 7}})) {
      ++i;
      if (i % 16 == 0 || i == kRecords) (void)signal(g.data_ready);
    } else {
      (void)signal(g.data_ready);
      (void)wait(g.space_free);
    }
  }
}

void consumer(word) {
  auto* ring = Stream::attach(arch::user_pointer(kConsumerAddress, sizeof(Stream)));
  while (g.received < kRecords) {
    (void)wait(g.data_ready);
    Record r;
    while (ring->pop(r)) {
      if (r.sequence != g.received || r.payload[2] != r.sequence * 7) ++g.out_of_order;
      ++g.received;
    }
    (void)signal(g.space_free);
  }
}

// A thread in its own address space (with its own IPC buffer), sharing the root's CSpace.
word spawn_in(test::RootKit& kit, word space, hosted::Entry entry, word priority) {
  word thread = kit.make(ObjectType::kThread);
  word ipc = kit.make(ObjectType::kFrame, 12);
  if (map_frame(space, ipc, 0x1000, Rights::kRead | Rights::kWrite) != Error::kOk) return 0;
  if (thread_configure(thread, kRootCNodeSlot, space, ipc, 0x1000, 0) != Error::kOk) return 0;
  if (thread_set_priority(thread, priority) != Error::kOk) return 0;
  return thread_restart(thread, hosted::entry_address(entry), 0, 0) == Error::kOk ? thread : 0;
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
  g.different_spaces = producer_space != consumer_space;
  spawn_in(kit, consumer_space, consumer, 100);
  spawn_in(kit, producer_space, producer, 100);
}

}  // namespace

TEST_CASE("ring: a stream between two address spaces through a shared frame") {
  for (unsigned preempt : {0u, 3u}) {
    g = {};
    hosted::Simulation sim({.seed = 11, .preempt_one_in = preempt});
    sim.run(root);
    INFO("preempt_one_in " << preempt);
    CHECK(g.different_spaces);
    CHECK(g.received == kRecords);
    CHECK(g.out_of_order == 0);
  }
}
