// What the virtio tests share: a Bus with a RAM buffer and an event list as its clock, a
// RegisterWindow that forwards to a device model, and a virtio-blk rig (image file, model,
// function, driver) built the way a PCI server would build it.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "blk/virtio_blk.hpp"
#include "ukernel/hosted/bus.hpp"
#include "ukernel/hosted/virtio_blk_model.hpp"
#include "ukernel/hosted/virtio_pci.hpp"
#include "ukernel/virtio/pci_layout.hpp"
#include "ukernel/virtio/window.hpp"

namespace virtio_test {

using ukernel::word;
using ukernel::virtio::DmaRegion;

class TestBus final : public ukernel::hosted::Bus {
 public:
  static constexpr word kRamBase = 0x4000'0000;

  explicit TestBus(std::size_t ram_bytes) : ram_(ram_bytes) {}

  std::byte* dma(word address, std::size_t bytes) override {
    ++dma_calls;
    if (address < kRamBase || address - kRamBase > ram_.size() ||
        bytes > ram_.size() - (address - kRamBase))
      return nullptr;
    return ram_.data() + (address - kRamBase);
  }
  std::uint64_t now_ns() const override { return now_; }
  void at(std::uint64_t at_ns, std::function<void()> work) override {
    events_.emplace(std::pair{at_ns < now_ ? now_ : at_ns, sequence_++}, std::move(work));
  }
  void msi(word address, std::uint32_t data) override { msis.push_back({address, data}); }
  void raise_line(unsigned line) override { lines.push_back(line); }

  // Runs the earliest event, advancing the clock to it. False if there is none.
  bool step() {
    if (events_.empty()) return false;
    auto node = events_.extract(events_.begin());
    now_ = node.key().first;
    node.mapped()();
    return true;
  }
  void run() {
    while (step()) {
    }
  }
  std::size_t pending_events() const { return events_.size(); }
  // The time of the earliest event (0 if none).
  std::uint64_t next_event_ns() const { return events_.empty() ? 0 : events_.begin()->first.first; }
  // Runs every event due by `until_ns`, then sets the clock to it.
  void run_until(std::uint64_t until_ns) {
    while (!events_.empty() && events_.begin()->first.first <= until_ns)
      step();
    if (until_ns > now_) now_ = until_ns;
  }

  // A region of RAM, `align`-aligned, handed out once.
  DmaRegion allocate(std::size_t bytes, std::size_t align = 16) {
    next_ = (next_ + align - 1) / align * align;
    DmaRegion region{ram_.data() + next_, kRamBase + next_, bytes};
    next_ += bytes;
    return region;
  }

  std::vector<std::pair<word, std::uint32_t>> msis;
  std::vector<unsigned> lines;
  unsigned dma_calls = 0;

 private:
  std::vector<std::byte> ram_;
  std::size_t next_ = 0;
  std::uint64_t now_ = 0;
  std::uint64_t sequence_ = 0;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::function<void()>> events_;
};

// ukernel::Mmio's two members, forwarded to a device model.
struct ModelWindow {
  ukernel::hosted::MmioDevice* device = nullptr;
  word read(word offset, unsigned width) const { return device->read(offset, width); }
  void write(word offset, unsigned width, word value) const { device->write(offset, width, value); }
};
static_assert(ukernel::virtio::RegisterWindow<ModelWindow>);

// A temporary image file of `sectors` sectors, each byte a function of its offset.
class ImageFile {
 public:
  explicit ImageFile(word sectors) {
    char name[] = "/tmp/ukernel-virtio-XXXXXX";
    fd_ = ::mkstemp(name);
    ::unlink(name);
    std::vector<std::uint8_t> bytes(sectors * 512);
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = pattern(i);
    [[maybe_unused]] const auto wrote = ::pwrite(fd_, bytes.data(), bytes.size(), 0);
  }
  ~ImageFile() { ::close(fd_); }
  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;

  static std::uint8_t pattern(std::size_t offset) {
    return static_cast<std::uint8_t>((offset * 7 + (offset >> 9) * 13) & 0xff);
  }
  int fd() const { return fd_; }
  std::vector<std::uint8_t> read(word offset, std::size_t bytes) const {
    std::vector<std::uint8_t> out(bytes);
    [[maybe_unused]] const auto got = ::pread(fd_, out.data(), bytes, static_cast<off_t>(offset));
    return out;
  }

 private:
  int fd_ = -1;
};

using Driver = virtio_blk::VirtioBlk<ModelWindow, 64, 16>;

// The image, the device (model + PCI function) and the driver, wired as a PCI server would:
// BAR 0 mapped, memory decoding and bus mastering enabled, the configuration space read.
struct BlkRig {
  static constexpr word kSectors = 2048;  // 1 MiB

  explicit BlkRig(ukernel::hosted::VirtioBlkModel::Options model_options = {},
                  ukernel::hosted::VirtioPciFunction::Options function_options = {})
      : bus(4 << 20),
        image(kSectors),
        model(image.fd(), kSectors, model_options),
        function(bus, model, function_options),
        window{&function} {
    function.pci().config_write(
        ukernel::virtio::pci::kCommand, 2,
        ukernel::virtio::pci::kCommandMemorySpace | ukernel::virtio::pci::kCommandBusMaster);
    queue_memory = bus.allocate(Driver::kQueueMemoryBytes);
    request_memory = bus.allocate(Driver::kRequestMemoryBytes);
    bars.bar[0] = &window;
  }

  // The configuration space as the PCI server would copy it.
  std::vector<std::uint8_t> config() {
    std::vector<std::uint8_t> bytes(4096);
    for (word i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<std::uint8_t>(function.pci().config_read(i, 1));
    return bytes;
  }
  ukernel::virtio::BarSizes bar_sizes() const {
    ukernel::virtio::BarSizes sizes;
    sizes.size[0] = ukernel::hosted::VirtioPciFunction::kBarBytes;
    return sizes;
  }
  ukernel::virtio::LayoutError parse(ukernel::virtio::PciLayout& layout) {
    const std::vector<std::uint8_t> bytes = config();
    return ukernel::virtio::parse_pci_layout(bytes.data(), bytes.size(), bar_sizes(), layout);
  }
  virtio_blk::Error init(Driver::Interrupts interrupts = {}) {
    ukernel::virtio::PciLayout layout;
    if (parse(layout) != ukernel::virtio::LayoutError::kOk) return virtio_blk::Error::kTransport;
    return driver.init(layout, bars, queue_memory, request_memory, interrupts);
  }

  // Runs the device until idle and collects every completion.
  std::vector<virtio_blk::Completion> finish() {
    bus.run();
    std::vector<virtio_blk::Completion> done;
    virtio_blk::Completion completion;
    while (driver.next_completion(completion) == virtio_blk::Error::kOk)
      done.push_back(completion);
    return done;
  }

  TestBus bus;
  ImageFile image;
  ukernel::hosted::VirtioBlkModel model;
  ukernel::hosted::VirtioPciFunction function;
  ModelWindow window;
  ukernel::virtio::BarWindows<ModelWindow> bars;
  DmaRegion queue_memory, request_memory;
  Driver driver;
};

}  // namespace virtio_test
