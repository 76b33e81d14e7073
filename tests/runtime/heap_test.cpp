// The per-server heap: random allocation against a model, coalescing, bad frees refused, and a
// server whose heap lives in a frame it was given.
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <vector>

#include "support/root_kit.hpp"
#include "ukernel/heap.hpp"

using namespace ukernel;

TEST_CASE("heap: random allocations never overlap, and freeing all coalesces") {
  alignas(16) static std::byte memory[64 * 1024];
  Heap heap(memory, sizeof memory);
  struct Live {
    std::byte* p;
    std::size_t n;
    unsigned char fill;
  };
  std::vector<Live> live;
  std::mt19937 random(3);
  for (int i = 0; i < 20000; ++i) {
    if (live.empty() || random() % 3 != 0) {
      std::size_t n = 1 + random() % 700;
      auto* p = static_cast<std::byte*>(heap.allocate(n));
      if (p == nullptr) continue;
      REQUIRE(reinterpret_cast<std::uintptr_t>(p) % Heap::kAlignment == 0);
      REQUIRE(p >= memory);
      REQUIRE(p + n <= memory + sizeof memory);
      auto fill = static_cast<unsigned char>(i);
      std::memset(p, fill, n);
      live.push_back({p, n, fill});
    } else {
      std::size_t k = random() % live.size();
      for (std::size_t b = 0; b < live[k].n; ++b)
        REQUIRE(live[k].p[b] == std::byte{live[k].fill});
      REQUIRE(heap.free(live[k].p));
      live[k] = live.back();
      live.pop_back();
    }
  }
  for (const Live& l : live)
    REQUIRE(heap.free(l.p));
  CHECK(heap.used() == 0);
  CHECK(heap.free_blocks() == 1);
  CHECK(heap.allocate(heap.capacity() - 64) != nullptr);  // one block again
}

TEST_CASE("heap: bad frees are refused and change nothing") {
  alignas(16) static std::byte memory[4096];
  Heap heap(memory, sizeof memory);
  void* p = heap.allocate(100);
  REQUIRE(p != nullptr);
  std::size_t used = heap.used();
  int outside = 0;
  CHECK_FALSE(heap.free(&outside));
  CHECK_FALSE(heap.free(static_cast<std::byte*>(p) + 16));
  CHECK(heap.used() == used);
  CHECK(heap.free(p));
  CHECK_FALSE(heap.free(p));  // twice
  CHECK(heap.used() == 0);
  CHECK(heap.allocate(0) == nullptr);
  CHECK(heap.allocate(1 << 20) == nullptr);
}

namespace {
constexpr word kHeapAddress = 0x60000000;
struct {
  bool allocated = false;
  std::size_t capacity = 0;
} g;

void server(word) {
  Heap heap(arch::user_pointer(kHeapAddress, 1 << 16), 1 << 16);
  void* a = heap.allocate(1000);
  void* b = heap.allocate(50000);
  g.allocated = a != nullptr && b != nullptr && heap.allocate(20000) == nullptr;
  g.capacity = heap.capacity();
}

void root(word info) {
  test::RootKit kit(info);
  word frame = kit.make(ObjectType::kFrame, 16);
  if (map_frame(kRootAddressSpaceSlot, frame, kHeapAddress, Rights::kRead | Rights::kWrite) !=
      Error::kOk)
    return;
  kit.spawn(server, 0, 100);
}
}  // namespace

TEST_CASE("heap: a server's heap is the memory it was given") {
  hosted::Simulation sim;
  sim.run(root);
  CHECK(g.allocated);
  CHECK(g.capacity == (1u << 16));
}
