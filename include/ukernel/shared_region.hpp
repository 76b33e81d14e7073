// A memory region shared between two address spaces (one frame, mapped in both), as one side
// sees it: where it starts here and how large it is. Every offset and length that arrives from
// the peer (a request's data offset, a packet's position) is checked against it with slice(),
// which cannot overflow, before a byte is touched. Protocols that pass rings and bulk data
// through a region (ukernel/block.hpp; later, packets) carve it with the same helper.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ukernel {

class SharedRegion {
 public:
  SharedRegion() = default;
  SharedRegion(void* base, std::size_t bytes)
      : base_(static_cast<std::byte*>(base)), bytes_(bytes) {}

  std::byte* base() const { return base_; }
  std::size_t size() const { return bytes_; }
  bool empty() const { return base_ == nullptr || bytes_ == 0; }

  // True if [offset, offset + length) lies inside the region (written so that no sum wraps).
  bool contains(std::uint64_t offset, std::uint64_t length) const {
    return offset <= bytes_ && length <= bytes_ - offset;
  }
  // Those bytes, or an empty span if any of them lies outside the region.
  std::span<std::byte> slice(std::uint64_t offset, std::uint64_t length) const {
    if (base_ == nullptr || !contains(offset, length)) return {};
    return {base_ + offset, std::size_t(length)};
  }
  // The part from `offset` to the end, as a region of its own (empty if outside).
  SharedRegion tail_from(std::uint64_t offset) const {
    if (base_ == nullptr || offset > bytes_) return {};
    return {base_ + offset, bytes_ - std::size_t(offset)};
  }

 private:
  std::byte* base_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace ukernel
