// The virtio-blk device backend (host side): a block device backed by an image file.
//
// How this works: VirtioBlkModel is the block half of a VirtioPciFunction. Each chain it is
// given is parsed as a virtio-blk request (virtio 1.2, 5.2.6): the device-readable bytes are the
// 16-byte header (type, reserved, sector) followed by the data of a write, the device-writable
// bytes are the data of a read followed by the status byte, however the driver split them into
// descriptors. The request is served at a virtual time chosen by the test (a fixed schedule or
// a seeded pseudo-random delay, so runs repeat exactly) through Bus::at(): then the data moves
// with pread/pwrite on the image's file descriptor, the status byte is written and the chain
// completes. Errors the test injects (by request number or by sector range, or a fault
// schedule's blkfail, hosted/faults.hpp) make the status IOERR without touching the image. A data
// or status buffer outside RAM fails the request with IOERR (or, if the status byte itself is
// outside RAM, completes it with nothing written).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <vector>

#include "ukernel/abi.hpp"
#include "ukernel/hosted/virtio_pci.hpp"

namespace ukernel::hosted {

class VirtioBlkModel final : public VirtioBackend {
 public:
  struct Options {
    std::uint16_t queue_size = 128;  // what queue 0 offers (tests set bad ones)
    std::uint32_t seg_max = 0;       // 0: VIRTIO_BLK_F_SEG_MAX not offered
    std::uint32_t size_max = 0;      // 0: VIRTIO_BLK_F_SIZE_MAX not offered
    bool flush = true;               // VIRTIO_BLK_F_FLUSH
    bool read_only = false;          // VIRTIO_BLK_F_RO
  };

  struct Stats {
    unsigned requests = 0;  // completed, any status
    unsigned reads = 0, writes = 0, flushes = 0, errors = 0, unsupported = 0;
  };

  // `fd` is an open image of `capacity_sectors` 512-byte sectors (the model does not own it).
  VirtioBlkModel(int fd, word capacity_sectors, const Options& options);

  // Delay before a request is served: delay(n) for the n-th request (from 0) since the last
  // reset. Default: 0 (served when the notification arrives, in order).
  void set_delay(std::function<std::uint64_t(unsigned request)> delay) {
    delay_ = std::move(delay);
  }
  // Delays drawn from [min_ns, max_ns] by a generator seeded with `seed`: out-of-order
  // completions, the same order for the same seed.
  void set_random_delays(std::uint64_t seed, std::uint64_t min_ns, std::uint64_t max_ns);
  // The n-th request (from 0) fails with IOERR.
  void fail_request(unsigned request) { failing_requests_.insert(request); }
  // Reads and writes touching [first, first + count) fail with IOERR.
  void fail_sectors(word first, word count) { failing_sectors_.push_back({first, count}); }

  const Stats& stats() const { return stats_; }

  std::uint16_t device_type() const override { return 2; }
  std::uint64_t features() const override;
  std::uint16_t queue_count() const override { return 1; }
  std::uint16_t queue_max_size(std::uint16_t queue) const override {
    return queue == 0 ? options_.queue_size : 0;
  }
  word config_bytes() const override { return 0x3c; }
  word config_read(word offset, unsigned width) override;
  void process(VirtioPciFunction& function, VirtioChain chain) override;
  void reset() override { submitted_ = 0; }

 private:
  struct SectorRange {
    word first, count;
  };
  // `injected`: a fault schedule fails this request (hosted/faults.hpp's blkfail).
  std::uint8_t serve(VirtioPciFunction& function, const VirtioChain& chain, unsigned number,
                     bool injected, std::uint32_t& written);

  int fd_;
  word capacity_sectors_;
  Options options_;
  std::function<std::uint64_t(unsigned)> delay_;
  std::set<unsigned> failing_requests_;
  std::vector<SectorRange> failing_sectors_;
  unsigned submitted_ = 0;
  Stats stats_;
};

}  // namespace ukernel::hosted
