// A single-producer/single-consumer ring that lives in a shared memory region, for streams of
// data between two address spaces without copying through the kernel.
//
// Its semantics are those of boost::lockfree::spsc_queue<T, capacity<N>>: push fails when N
// elements are queued, pop fails when none are, both are wait-free, and one thread may push
// while one other pops (tests/runtime/ring_test.cpp checks it against Boost on random
// operation sequences). Unlike spsc_queue it holds no pointers, so the same bytes work when the
// region is mapped at different addresses in the two spaces, on every back-end. Pair it with a
// notification to wake the consumer.
//
// How this works: SpscRing is only the shared layout (two indices and the slots). Each side
// works through a view in its own memory, RingProducer or RingConsumer, which keeps a shadow of
// its own index. The peer can write anything into the region at any time, so every index read
// from it is untrusted: a peer index outside [0, slots), or an own index that differs from the
// shadow (the peer rewrote it), makes the operation return RingStatus::kCorrupt without touching
// a slot, and the view stays corrupt from then on (a peer that broke the protocol once is not
// believed again; make a new ring to start over). A slot's bytes are copied out once, so a
// caller validates a copy the peer can no longer change.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

namespace ukernel {

// The result of a push or pop. kCorrupt: the shared indices are not ones a correct peer could
// have written; nothing was read or written.
enum class RingStatus : std::uint8_t { kOk, kFull, kEmpty, kCorrupt };

template <class T, std::size_t N>
class RingProducer;
template <class T, std::size_t N>
class RingConsumer;

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

 private:
  friend class RingProducer<T, N>;
  friend class RingConsumer<T, N>;
  static constexpr std::uint32_t kSlots = std::uint32_t(N + 1);  // one slot tells full from empty
  static std::uint32_t advance(std::uint32_t i) { return i + 1 == kSlots ? 0 : i + 1; }
  static std::uint32_t distance(std::uint32_t from, std::uint32_t to) {
    return to >= from ? to - from : kSlots - from + to;
  }

  SpscRing() = default;

  alignas(64) std::atomic<std::uint32_t> head_{0};  // next slot the producer writes
  alignas(64) std::atomic<std::uint32_t> tail_{0};  // next slot the consumer reads
  alignas(64) T slots_[kSlots];
};

// The producer's view of a ring. Attach it when the ring is made (or, for a producer that
// restarts while the ring lives on, to take over where the region says its predecessor was:
// that first reading of the own index is checked like every other).
template <class T, std::size_t N>
class RingProducer {
  using Ring = SpscRing<T, N>;

 public:
  RingProducer() = default;
  explicit RingProducer(Ring& ring) : ring_(&ring) {
    head_ = ring.head_.load(std::memory_order_relaxed);
    corrupt_ = head_ >= Ring::kSlots;
  }

  [[nodiscard]] RingStatus push(const T& value) {
    std::uint32_t tail = 0;
    if (!read_indices(tail)) return RingStatus::kCorrupt;
    std::uint32_t next = Ring::advance(head_);
    if (next == tail) return RingStatus::kFull;
    ring_->slots_[head_] = value;
    head_ = next;
    ring_->head_.store(next, std::memory_order_release);
    return RingStatus::kOk;
  }
  // Free slots; 0 when the ring is corrupt.
  std::size_t write_available() {
    std::uint32_t tail = 0;
    if (!read_indices(tail)) return 0;
    return N - Ring::distance(tail, head_);
  }
  bool corrupt() const { return corrupt_; }
  bool attached() const { return ring_ != nullptr; }

 private:
  bool read_indices(std::uint32_t& tail) {
    if (corrupt_ || ring_ == nullptr) return false;
    tail = ring_->tail_.load(std::memory_order_acquire);
    corrupt_ = tail >= Ring::kSlots || ring_->head_.load(std::memory_order_relaxed) != head_;
    return !corrupt_;
  }

  Ring* ring_ = nullptr;
  std::uint32_t head_ = 0;  // the shadow of ring_->head_
  bool corrupt_ = true;     // until attached
};

// The consumer's view of a ring; see RingProducer.
template <class T, std::size_t N>
class RingConsumer {
  using Ring = SpscRing<T, N>;

 public:
  RingConsumer() = default;
  explicit RingConsumer(Ring& ring) : ring_(&ring) {
    tail_ = ring.tail_.load(std::memory_order_relaxed);
    corrupt_ = tail_ >= Ring::kSlots;
  }

  [[nodiscard]] RingStatus pop(T& out) {
    std::uint32_t head = 0;
    if (!read_indices(head)) return RingStatus::kCorrupt;
    if (tail_ == head) return RingStatus::kEmpty;
    out = ring_->slots_[tail_];
    tail_ = Ring::advance(tail_);
    ring_->tail_.store(tail_, std::memory_order_release);
    return RingStatus::kOk;
  }
  // The element `offset` places behind the next one pop() would return, left in the ring
  // (kEmpty: no more than `offset` are queued). With discard(), a consumer can finish with
  // elements before it gives their slots back.
  [[nodiscard]] RingStatus peek(std::size_t offset, T& out) {
    std::uint32_t head = 0;
    if (!read_indices(head)) return RingStatus::kCorrupt;
    if (offset >= Ring::distance(tail_, head)) return RingStatus::kEmpty;
    std::size_t slot = (std::size_t{tail_} + offset) % Ring::kSlots;
    out = ring_->slots_[slot];
    return RingStatus::kOk;
  }
  // Pops `count` elements unread (kEmpty, and nothing popped: fewer are queued).
  [[nodiscard]] RingStatus discard(std::size_t count) {
    std::uint32_t head = 0;
    if (!read_indices(head)) return RingStatus::kCorrupt;
    if (count > Ring::distance(tail_, head)) return RingStatus::kEmpty;
    tail_ = std::uint32_t((std::size_t{tail_} + count) % Ring::kSlots);
    ring_->tail_.store(tail_, std::memory_order_release);
    return RingStatus::kOk;
  }
  // Queued elements; 0 when the ring is corrupt.
  std::size_t read_available() {
    std::uint32_t head = 0;
    if (!read_indices(head)) return 0;
    return Ring::distance(tail_, head);
  }
  bool corrupt() const { return corrupt_; }
  bool attached() const { return ring_ != nullptr; }

 private:
  bool read_indices(std::uint32_t& head) {
    if (corrupt_ || ring_ == nullptr) return false;
    head = ring_->head_.load(std::memory_order_acquire);
    corrupt_ = head >= Ring::kSlots || ring_->tail_.load(std::memory_order_relaxed) != tail_;
    return !corrupt_;
  }

  Ring* ring_ = nullptr;
  std::uint32_t tail_ = 0;  // the shadow of ring_->tail_
  bool corrupt_ = true;     // until attached
};

}  // namespace ukernel
