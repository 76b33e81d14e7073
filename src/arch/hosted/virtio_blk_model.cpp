// The virtio-blk device backend (see include/ukernel/hosted/virtio_blk_model.hpp).
#include "ukernel/hosted/virtio_blk_model.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "state.hpp"

namespace ukernel::hosted {

namespace {

constexpr std::uint64_t kFeatureSizeMax = 1u << 1;
constexpr std::uint64_t kFeatureSegMax = 1u << 2;
constexpr std::uint64_t kFeatureReadOnly = 1u << 5;
constexpr std::uint64_t kFeatureBlockSize = 1u << 6;
constexpr std::uint64_t kFeatureFlush = 1u << 9;
constexpr std::uint32_t kTypeIn = 0;
constexpr std::uint32_t kTypeOut = 1;
constexpr std::uint32_t kTypeFlush = 4;
constexpr std::uint8_t kStatusOk = 0;
constexpr std::uint8_t kStatusIoError = 1;
constexpr std::uint8_t kStatusUnsupported = 2;
constexpr word kSectorBytes = 512;

// Every segment of one direction inside RAM?
bool all_in_ram(Bus& bus, const VirtioChain& chain, bool device_writes) {
  for (const VirtioSegment& segment : chain.segments) {
    if (segment.device_writes == device_writes &&
        bus.dma(segment.address, segment.length) == nullptr)
      return false;
  }
  return true;
}

}  // namespace

VirtioBlkModel::VirtioBlkModel(int fd, word capacity_sectors, const Options& options)
    : fd_(fd), capacity_sectors_(capacity_sectors), options_(options) {}

std::uint64_t VirtioBlkModel::features() const {
  std::uint64_t features = kFeatureBlockSize;
  if (options_.size_max != 0) features |= kFeatureSizeMax;
  if (options_.seg_max != 0) features |= kFeatureSegMax;
  if (options_.read_only) features |= kFeatureReadOnly;
  if (options_.flush) features |= kFeatureFlush;
  return features;
}

word VirtioBlkModel::config_read(word offset, unsigned width) {
  // struct virtio_blk_config up to blk_size; the rest (topology, ...) reads 0.
  std::byte config[0x3c] = {};
  std::memcpy(config + 0x00, &capacity_sectors_, 8);
  std::memcpy(config + 0x08, &options_.size_max, 4);
  std::memcpy(config + 0x0c, &options_.seg_max, 4);
  const std::uint32_t block_size = kSectorBytes;
  std::memcpy(config + 0x14, &block_size, 4);
  word value = 0;
  if (offset + width > sizeof config) return ~word{0};
  std::memcpy(&value, config + offset, width);
  return value;
}

void VirtioBlkModel::set_random_delays(std::uint64_t seed, std::uint64_t min_ns,
                                       std::uint64_t max_ns) {
  // splitmix64 of (seed, request number): each request's delay depends on nothing else.
  delay_ = [seed, min_ns, max_ns](unsigned request) {
    std::uint64_t z = seed + (std::uint64_t{request} + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return min_ns + (max_ns > min_ns ? z % (max_ns - min_ns + 1) : 0);
  };
}

void VirtioBlkModel::process(VirtioPciFunction& function, VirtioChain chain) {
  const unsigned number = submitted_++;
  std::uint64_t delay = delay_ ? delay_(number) : 0;
  // A fault schedule (hosted/faults.hpp: blkfail, blkdelay) counts requests over the whole run.
  arch::HostedState& state = arch::hosted();
  const bool injected = state.faults != nullptr && arch::fault_at_block_request(state, delay);
  Bus& bus = function.bus();
  bus.at(bus.now_ns() + delay, [this, &function, chain = std::move(chain), number, injected] {
    // A reset since the request arrived drops it (complete() checks the epoch too).
    if (chain.epoch != function.epoch()) return;
    std::uint32_t written = 0;
    const std::uint8_t status = serve(function, chain, number, injected, written);
    ++stats_.requests;
    if (status == kStatusIoError) ++stats_.errors;
    if (status == kStatusUnsupported) ++stats_.unsupported;
    function.complete(chain, written);
  });
}

std::uint8_t VirtioBlkModel::serve(VirtioPciFunction& function, const VirtioChain& chain,
                                   unsigned number, bool injected, std::uint32_t& written) {
  Bus& bus = function.bus();
  word readable = 0, writable = 0;
  for (const VirtioSegment& segment : chain.segments)
    (segment.device_writes ? writable : readable) += segment.length;
  written = 0;
  if (writable == 0) return kStatusIoError;  // no status byte: nothing can be reported
  const word status_at = writable - 1;
  const auto finish = [&](std::uint8_t status, word data_written) {
    const std::byte byte{status};
    if (!write_chain(bus, chain, status_at, &byte, 1)) {
      written = 0;  // the status byte is not RAM: complete with nothing written
      return status;
    }
    written = static_cast<std::uint32_t>(data_written + 1);
    return status;
  };

  std::byte header[16];
  if (readable < 16 || !read_chain(bus, chain, 0, header, 16)) return finish(kStatusIoError, 0);
  std::uint32_t type = 0;
  word sector = 0;
  std::memcpy(&type, header, 4);
  std::memcpy(&sector, header + 8, 8);

  if (type == kTypeFlush) {
    if (!options_.flush) return finish(kStatusUnsupported, 0);
    ++stats_.flushes;
    if (injected || failing_requests_.count(number) != 0 || ::fsync(fd_) != 0)
      return finish(kStatusIoError, 0);
    return finish(kStatusOk, 0);
  }
  if (type != kTypeIn && type != kTypeOut) return finish(kStatusUnsupported, 0);

  const word bytes = type == kTypeIn ? status_at : readable - 16;
  if (bytes % kSectorBytes != 0) return finish(kStatusIoError, 0);
  const word sectors = bytes / kSectorBytes;
  if (sector > capacity_sectors_ || sectors > capacity_sectors_ - sector)
    return finish(kStatusIoError, 0);
  if (type == kTypeOut && options_.read_only) return finish(kStatusIoError, 0);
  bool failing = injected || failing_requests_.count(number) != 0;
  for (const SectorRange& range : failing_sectors_)
    failing = failing || (sector < range.first + range.count && range.first < sector + sectors);
  if (failing) return finish(kStatusIoError, 0);
  // Bad data addresses fail the request before the image is touched.
  if (!all_in_ram(bus, chain, type == kTypeIn)) return finish(kStatusIoError, 0);

  std::vector<std::byte> data(bytes);
  const auto offset = static_cast<off_t>(sector * kSectorBytes);
  if (type == kTypeIn) {
    ++stats_.reads;
    if (::pread(fd_, data.data(), bytes, offset) != static_cast<ssize_t>(bytes))
      return finish(kStatusIoError, 0);
    if (!write_chain(bus, chain, 0, data.data(), bytes)) return finish(kStatusIoError, 0);
    return finish(kStatusOk, bytes);
  }
  ++stats_.writes;
  if (!read_chain(bus, chain, 16, data.data(), bytes)) return finish(kStatusIoError, 0);
  if (::pwrite(fd_, data.data(), bytes, offset) != static_cast<ssize_t>(bytes))
    return finish(kStatusIoError, 0);
  return finish(kStatusOk, 0);
}

}  // namespace ukernel::hosted
