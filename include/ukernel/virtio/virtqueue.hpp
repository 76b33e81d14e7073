// A split virtqueue (virtio 1.x, 2.7): the driver's side.
//
// How this works: the descriptor table, the available ring and the used ring live in one
// DmaRegion the device reads and writes. The driver keeps everything it relies on in its own
// memory, never in the shared rings: the free list of descriptors, and for each chain in flight
// its descriptors, its length in device-writable bytes and the caller's token. submit() takes
// descriptors from the free list, writes them, and publishes the chain's head in the available
// ring (release ordering); the caller then notifies the device. pop_used() reads the device's
// used ring and checks each element before acting on it: the used index must not run ahead of
// what is in flight, the id must name the head of a chain in flight, and the written length must
// not exceed the chain's writable bytes. An element that fails is refused with an error and
// nothing of it is followed; the queue then stays broken (every later call reports kBroken),
// since a device that wrote it can no longer be trusted: the driver resets it.
//
// Freestanding server code: fixed arrays sized by kMaxSize, no heap.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "ukernel/abi.hpp"
#include "ukernel/virtio/window.hpp"

namespace ukernel::virtio {

static_assert(std::endian::native == std::endian::little,
              "virtio 1.x structures are little-endian; these views read them natively");

inline constexpr std::uint16_t kDescriptorNext = 1;
inline constexpr std::uint16_t kDescriptorWrite = 2;

enum class QueueError {
  kOk,
  kSizeZero,            // the device offers no queue here
  kSizeNotPowerOfTwo,   //
  kSizeTooLarge,        // larger than this driver's queue can hold
  kMemoryTooSmall,      // the DmaRegion cannot hold the rings for this size
  kMemoryMisaligned,    // the region (CPU or bus address) is not 16-byte aligned
  kNotReady,            // init() has not succeeded
  kBadChain,            // no buffers, or a buffer of length 0
  kNoDescriptors,       // not enough free descriptors for the chain
  kEmpty,               // no used element waiting
  kUsedIndexAhead,      // the device's used index counts more completions than are in flight
  kUsedIdOutOfRange,    // used element id >= queue size
  kUsedIdNotInFlight,   // used element id is not the head of a chain in flight
  kUsedLengthTooLarge,  // more bytes written than the chain's device-writable buffers hold
  kBroken,              // an earlier element was refused; reset the device
};

inline const char* describe(QueueError error) {
  switch (error) {
    case QueueError::kOk:
      return "ok";
    case QueueError::kSizeZero:
      return "queue size 0";
    case QueueError::kSizeNotPowerOfTwo:
      return "queue size not a power of two";
    case QueueError::kSizeTooLarge:
      return "queue size larger than the driver holds";
    case QueueError::kMemoryTooSmall:
      return "ring memory too small";
    case QueueError::kMemoryMisaligned:
      return "ring memory misaligned";
    case QueueError::kNotReady:
      return "queue not initialised";
    case QueueError::kBadChain:
      return "empty chain or zero-length buffer";
    case QueueError::kNoDescriptors:
      return "no free descriptors";
    case QueueError::kEmpty:
      return "no used element";
    case QueueError::kUsedIndexAhead:
      return "used index ahead of the requests in flight";
    case QueueError::kUsedIdOutOfRange:
      return "used id out of range";
    case QueueError::kUsedIdNotInFlight:
      return "used id not in flight";
    case QueueError::kUsedLengthTooLarge:
      return "used length larger than the buffers";
    case QueueError::kBroken:
      return "queue broken by an earlier bad used element";
  }
  return "unknown queue error";
}

// One buffer of a chain: bus address, length, and whether the device writes it (else reads).
struct QueueBuffer {
  word bus = 0;
  std::uint32_t length = 0;
  bool device_writes = false;
};

struct QueueCompletion {
  std::uint32_t token = 0;    // what the caller passed to submit()
  std::uint32_t written = 0;  // bytes the device says it wrote (checked <= writable bytes)
};

// Ring layout for `size` entries (virtio 2.7: descriptor table 16-byte aligned, available ring
// 2-byte, used ring 4-byte aligned), all in one region.
struct RingLayout {
  std::size_t avail_offset;
  std::size_t used_offset;
  std::size_t total;
};
constexpr RingLayout ring_layout(std::uint16_t size) {
  const std::size_t descriptors = std::size_t{16} * size;
  const std::size_t avail = 6 + std::size_t{2} * size;  // flags, idx, ring[], used_event
  const std::size_t used_offset = (descriptors + avail + 3) & ~std::size_t{3};
  return {descriptors, used_offset, used_offset + 6 + std::size_t{8} * size};
}

template <std::uint16_t kMaxSize>
class SplitQueue {
  static_assert(kMaxSize > 0 && (kMaxSize & (kMaxSize - 1)) == 0, "a power of two");

 public:
  static constexpr std::uint16_t kCapacity = kMaxSize;

  // Checks `size` (the device's, untrusted) and `memory`, clears the rings, frees every
  // descriptor. Nothing changes on error.
  [[nodiscard]] QueueError init(std::uint16_t size, DmaRegion memory) {
    if (size == 0) return QueueError::kSizeZero;
    if ((size & (size - 1)) != 0) return QueueError::kSizeNotPowerOfTwo;
    if (size > kMaxSize) return QueueError::kSizeTooLarge;
    if (memory.cpu == nullptr || memory.bytes < ring_layout(size).total)
      return QueueError::kMemoryTooSmall;
    if ((reinterpret_cast<std::uintptr_t>(memory.cpu) & 15) != 0 || (memory.bus & 15) != 0)
      return QueueError::kMemoryMisaligned;
    size_ = size;
    memory_ = memory;
    layout_ = ring_layout(size);
    for (std::size_t i = 0; i < layout_.total; ++i)
      memory.cpu[i] = std::byte{0};
    for (std::uint16_t i = 0; i < size; ++i) {
      next_[i] = static_cast<std::uint16_t>(i + 1);
      in_flight_[i] = {};
    }
    free_head_ = 0;
    free_count_ = size;
    avail_index_ = 0;
    last_used_ = 0;
    chains_in_flight_ = 0;
    broken_ = false;
    return QueueError::kOk;
  }

  bool ready() const { return size_ != 0; }
  std::uint16_t size() const { return size_; }
  std::uint16_t free_descriptors() const { return free_count_; }
  std::uint16_t in_flight() const { return chains_in_flight_; }
  bool broken() const { return broken_; }
  word descriptor_bus() const { return memory_.bus; }
  word avail_bus() const { return memory_.bus + layout_.avail_offset; }
  word used_bus() const { return memory_.bus + layout_.used_offset; }

  // Publishes a chain of `count` buffers (device-readable ones first, as the specification
  // asks) under `token`. The caller notifies the device afterwards.
  [[nodiscard]] QueueError submit(const QueueBuffer* buffers, unsigned count, std::uint32_t token) {
    if (!ready()) return QueueError::kNotReady;
    if (broken_) return QueueError::kBroken;
    if (buffers == nullptr || count == 0) return QueueError::kBadChain;
    std::uint32_t writable = 0;
    for (unsigned i = 0; i < count; ++i) {
      if (buffers[i].length == 0) return QueueError::kBadChain;
      if (buffers[i].device_writes) writable += buffers[i].length;
    }
    if (count > free_count_) return QueueError::kNoDescriptors;

    const std::uint16_t head = free_head_;
    std::uint16_t index = head;
    for (unsigned i = 0; i < count; ++i) {
      const bool last = i + 1 == count;
      std::byte* descriptor = memory_.cpu + std::size_t{16} * index;
      store<std::uint64_t>(descriptor, buffers[i].bus);
      store<std::uint32_t>(descriptor + 8, buffers[i].length);
      store<std::uint16_t>(descriptor + 12, static_cast<std::uint16_t>(
                                                (last ? 0 : kDescriptorNext) |
                                                (buffers[i].device_writes ? kDescriptorWrite : 0)));
      store<std::uint16_t>(descriptor + 14, last ? 0 : next_[index]);
      if (!last) index = next_[index];
    }
    free_head_ = next_[index];
    free_count_ = static_cast<std::uint16_t>(free_count_ - count);
    in_flight_[head] = {true, static_cast<std::uint16_t>(count), writable, token};
    ++chains_in_flight_;

    std::byte* avail = memory_.cpu + layout_.avail_offset;
    store<std::uint16_t>(avail + 4 + 2 * (avail_index_ & (size_ - 1)), head);
    ++avail_index_;
    // The descriptors and the ring entry are visible before the index that publishes them.
    std::atomic_thread_fence(std::memory_order_release);
    store<std::uint16_t>(avail + 2, avail_index_);
    // And the index before the notification the caller sends next.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return QueueError::kOk;
  }

  // Takes the next used element, checked (see the top of this file). kEmpty if none.
  [[nodiscard]] QueueError pop_used(QueueCompletion& completion) {
    if (!ready()) return QueueError::kNotReady;
    if (broken_) return QueueError::kBroken;
    const std::byte* used = memory_.cpu + layout_.used_offset;
    const std::uint16_t device_index = load<std::uint16_t>(used + 2);
    std::atomic_thread_fence(std::memory_order_acquire);
    const auto waiting = static_cast<std::uint16_t>(device_index - last_used_);
    if (waiting == 0) return QueueError::kEmpty;
    if (waiting > chains_in_flight_) return refuse(QueueError::kUsedIndexAhead);
    const std::byte* element = used + 4 + std::size_t{8} * (last_used_ & (size_ - 1));
    const std::uint32_t id = load<std::uint32_t>(element);
    const std::uint32_t written = load<std::uint32_t>(element + 4);
    if (id >= size_) return refuse(QueueError::kUsedIdOutOfRange);
    InFlight& chain = in_flight_[id];
    if (!chain.busy) return refuse(QueueError::kUsedIdNotInFlight);
    if (written > chain.writable) return refuse(QueueError::kUsedLengthTooLarge);

    // Return the chain's descriptors from the driver's own links, not the shared table.
    std::uint16_t last = static_cast<std::uint16_t>(id);
    for (std::uint16_t i = 1; i < chain.count; ++i)
      last = next_[last];
    next_[last] = free_head_;
    free_head_ = static_cast<std::uint16_t>(id);
    free_count_ = static_cast<std::uint16_t>(free_count_ + chain.count);
    completion = {chain.token, written};
    chain = {};
    --chains_in_flight_;
    ++last_used_;
    return QueueError::kOk;
  }

 private:
  struct InFlight {
    bool busy = false;
    std::uint16_t count = 0;
    std::uint32_t writable = 0;
    std::uint32_t token = 0;
  };

  template <typename T>
  static void store(std::byte* at, T value) {
    __atomic_store_n(reinterpret_cast<T*>(at), value, __ATOMIC_RELAXED);
  }
  template <typename T>
  static T load(const std::byte* at) {
    return __atomic_load_n(reinterpret_cast<const T*>(at), __ATOMIC_RELAXED);
  }
  QueueError refuse(QueueError error) {
    broken_ = true;
    return error;
  }

  DmaRegion memory_{};
  RingLayout layout_{};
  std::uint16_t size_ = 0;
  std::uint16_t next_[kMaxSize] = {};  // the driver's own descriptor links (free list, chains)
  InFlight in_flight_[kMaxSize] = {};  // indexed by chain head
  std::uint16_t free_head_ = 0;
  std::uint16_t free_count_ = 0;
  std::uint16_t avail_index_ = 0;
  std::uint16_t last_used_ = 0;
  std::uint16_t chains_in_flight_ = 0;
  bool broken_ = false;
};

}  // namespace ukernel::virtio
