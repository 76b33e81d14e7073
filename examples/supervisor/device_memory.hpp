// The root task's device memory: carving a device untyped of exactly one range (a device's
// registers, a BAR) out of the device untyped the kernel listed in BootInfo.
//
// How this works: a device untyped splits into smaller device untyped, carved in order from its
// start (children are aligned to their size, and the kernel keeps one watermark per untyped).
// To reach [paddr, paddr + bytes) inside a block, the carver fills the gap between the block's
// watermark and paddr with the largest aligned padding blocks (kept, never handed out: deleting
// them would let the next retype start the block afresh), then carves the range itself. Ranges
// of one block must therefore be carved in increasing address order; a range below the
// watermark is refused (kAlreadyCarved), which is also what carving a range twice gets.
#pragma once

#include <bit>
#include <cstdint>
#include <string_view>

#include "ukernel/syscall.hpp"

namespace supervisor {

using ukernel::Error;
using ukernel::word;

enum class CarveError : std::uint8_t {
  kNone,
  kBadRange,       // empty, not a power of two of at least a page, or not aligned to its size
  kNotHeld,        // no device untyped of BootInfo holds all of it
  kAlreadyCarved,  // below what was carved from its block already (twice, or out of order)
  kKernelRefused,  // a retype failed (Carved::kernel says why; e.g. no free slot)
};

constexpr std::string_view carve_error_text(CarveError e) {
  switch (e) {
    case CarveError::kNone:
      return "no error";
    case CarveError::kBadRange:
      return "not a power of two of at least a page aligned to its size";
    case CarveError::kNotHeld:
      return "no device untyped holds the range";
    case CarveError::kAlreadyCarved:
      return "the range was carved already (or one above it in the same block)";
    case CarveError::kKernelRefused:
      return "the kernel refused to split the device untyped";
  }
  return "unknown error";
}

struct [[nodiscard]] Carved {
  word slot = 0;  // the device untyped of exactly the range, in the root task's CSpace
  CarveError error = CarveError::kNone;
  Error kernel = Error::kOk;
  constexpr bool ok() const { return error == CarveError::kNone; }
};

class DeviceMemory {
 public:
  explicit DeviceMemory(const ukernel::BootInfo& info) : info_(&info) {}

  // A device untyped of exactly [paddr, paddr + bytes), in a slot of the root CNode from
  // `next_slot()` (which also gives the padding's slots). A range that is not carved leaves the
  // block as it was, except for padding carved before a retype failed (the watermark counts it).
  template <class NextSlot>
  Carved carve(word paddr, word bytes, NextSlot next_slot) {
    // (Not std::has_single_bit: a popcount needs libgcc, which bare-metal images do not link.)
    if (bytes < info_->page_size || (bytes & (bytes - 1)) != 0 || paddr % bytes != 0)
      return {0, CarveError::kBadRange, Error::kInvalidArgument};
    word block = find(paddr, bytes);
    if (block == info_->untyped_count) return {0, CarveError::kNotHeld, Error::kInvalidArgument};
    word offset = paddr - info_->untyped[block].paddr;
    word& watermark = watermarks_[block];
    if (offset < watermark) return {0, CarveError::kAlreadyCarved, Error::kInvalidArgument};
    word untyped = ukernel::kFirstUntypedSlot + block;
    while (watermark < offset) {
      // The largest block aligned at the watermark that ends at or before the range.
      word pad = watermark == 0 ? std::bit_floor(offset) : watermark & (~watermark + 1);
      while (pad > offset - watermark)
        pad >>= 1;
      Error e = split(untyped, pad, next_slot());
      if (e != Error::kOk) return {0, CarveError::kKernelRefused, e};
      watermark += pad;
    }
    word slot = next_slot();
    Error e = split(untyped, bytes, slot);
    if (e != Error::kOk) return {0, CarveError::kKernelRefused, e};
    watermark = offset + bytes;
    return {slot, CarveError::kNone, Error::kOk};
  }

 private:
  static Error split(word untyped, word bytes, word slot) {
    return ukernel::retype(untyped, ukernel::ObjectType::kUntyped,
                           unsigned(std::bit_width(bytes) - 1), ukernel::kRootCNodeSlot, slot);
  }
  // The device entry of BootInfo that holds all of the range (untyped_count: none).
  word find(word paddr, word bytes) const {
    for (word i = 0; i < info_->untyped_count; ++i) {
      const ukernel::BootInfo::Untyped& u = info_->untyped[i];
      word size = word{1} << u.size_bits;
      if (u.is_device != 0 && paddr >= u.paddr && paddr - u.paddr < size &&
          bytes <= size - (paddr - u.paddr))
        return i;
    }
    return info_->untyped_count;
  }

  const ukernel::BootInfo* info_;
  word watermarks_[ukernel::kMaxBootUntyped] = {};
};

}  // namespace supervisor
