// The block-device contract the FAT32 library reads and writes through.
//
// A device has 512-byte sectors, a sector count, reads and writes of whole sectors at an LBA, and
// a flush that returns once every write before it is on stable storage. Each call returns
// kOk or kIoError; the library passes kIoError to its caller as FsError::kIoError. A device
// (virtio-blk client, file-backed test device) satisfies BlockDevice; Volume holds it as a
// DeviceRef, so the library itself is compiled once, not per device type.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ukernel::fat32 {

inline constexpr std::size_t kDeviceSectorSize = 512;

enum class BlockStatus : std::uint8_t { kOk, kIoError };

// read/write move exactly data.size() bytes, a multiple of kDeviceSectorSize, at sector lba.
template <typename D>
concept BlockDevice = requires(D& d, std::uint64_t lba, std::span<std::byte> out,
                               std::span<const std::byte> in) {
  { d.sector_count() } -> std::convertible_to<std::uint64_t>;
  { d.read(lba, out) } -> std::same_as<BlockStatus>;
  { d.write(lba, in) } -> std::same_as<BlockStatus>;
  { d.flush() } -> std::same_as<BlockStatus>;
};

// A BlockDevice seen through three function pointers (no virtual calls, no allocation).
class DeviceRef {
 public:
  DeviceRef() = default;
  template <BlockDevice D>
  explicit DeviceRef(D& device)
      : device_(&device),
        sectors_(static_cast<std::uint64_t>(device.sector_count())),
        read_([](void* d, std::uint64_t lba, std::span<std::byte> out) {
          return static_cast<D*>(d)->read(lba, out);
        }),
        write_([](void* d, std::uint64_t lba, std::span<const std::byte> in) {
          return static_cast<D*>(d)->write(lba, in);
        }),
        flush_([](void* d) { return static_cast<D*>(d)->flush(); }) {}

  bool valid() const { return device_ != nullptr; }
  std::uint64_t sector_count() const { return sectors_; }
  BlockStatus read(std::uint64_t lba, std::span<std::byte> out) const {
    return read_(device_, lba, out);
  }
  BlockStatus write(std::uint64_t lba, std::span<const std::byte> in) const {
    return write_(device_, lba, in);
  }
  BlockStatus flush() const { return flush_(device_); }

 private:
  void* device_ = nullptr;
  std::uint64_t sectors_ = 0;
  BlockStatus (*read_)(void*, std::uint64_t, std::span<std::byte>) = nullptr;
  BlockStatus (*write_)(void*, std::uint64_t, std::span<const std::byte>) = nullptr;
  BlockStatus (*flush_)(void*) = nullptr;
};

}  // namespace ukernel::fat32
