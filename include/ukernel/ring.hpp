// A single-producer/single-consumer ring that lives in a shared memory region, for streams of
// data between two address spaces without copying through the kernel.
//
// Its semantics are those of boost::lockfree::spsc_queue<T, capacity<N>>: push fails when N
// elements are queued, pop fails when none are, both are wait-free, and one thread may push
// while one other pops (tests/runtime/ring_test.cpp checks it against Boost on random
// operation sequences). Unlike spsc_queue it holds no pointers, so the same bytes work when the
// region is mapped at different addresses in the two spaces, on every back-end. Pair it with a
// notification to wake the consumer.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

namespace ukernel {

template <class T, std::size_t N>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "SpscRing: elements are copied as bytes");
  static_assert(N > 0 && N < (std::size_t{1} << 31), "SpscRing: capacity out of range");
  static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

 public:
  static constexpr std::size_t kCapacity = N;

  // Makes an empty ring in `memory` (the shared region; at least sizeof(SpscRing) bytes).
  static SpscRing* create(void* memory) { return new (memory) SpscRing; }
  // The ring another space created in the same region.
  static SpscRing* attach(void* memory) { return std::launder(static_cast<SpscRing*>(memory)); }

  // Producer side.
  bool push(const T& value) {
    std::uint32_t head = head_.load(std::memory_order_relaxed);
    std::uint32_t next = advance(head);
    if (next == tail_.load(std::memory_order_acquire)) return false;  // full
    slots_[head] = value;
    head_.store(next, std::memory_order_release);
    return true;
  }
  std::size_t write_available() const {
    return N -
           distance(tail_.load(std::memory_order_acquire), head_.load(std::memory_order_relaxed));
  }

  // Consumer side.
  bool pop(T& out) {
    std::uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_.load(std::memory_order_acquire)) return false;  // empty
    out = slots_[tail];
    tail_.store(advance(tail), std::memory_order_release);
    return true;
  }
  std::size_t read_available() const {
    return distance(tail_.load(std::memory_order_relaxed), head_.load(std::memory_order_acquire));
  }
  bool empty() const { return read_available() == 0; }

 private:
  static constexpr std::uint32_t kSlots = std::uint32_t(N + 1);  // one slot tells full from empty
  static std::uint32_t advance(std::uint32_t i) { return i + 1 == kSlots ? 0 : i + 1; }
  static std::size_t distance(std::uint32_t from, std::uint32_t to) {
    return to >= from ? to - from : kSlots - from + to;
  }

  SpscRing() = default;

  alignas(64) std::atomic<std::uint32_t> head_{0};  // next slot the producer writes
  alignas(64) std::atomic<std::uint32_t> tail_{0};  // next slot the consumer reads
  alignas(64) T slots_[kSlots];
};

}  // namespace ukernel
