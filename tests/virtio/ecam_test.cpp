// The ECAM host bridge and the PCI configuration-space model: empty slots, read-only identity,
// BAR sizing and assignment, command-register decoding (the bridge asks the router to attach
// and detach BAR ranges), the capability walk, and the virtio-blk driver reaching its device
// through the BAR the bridge routed.
#include <catch2/catch.hpp>

#include <map>

#include "ukernel/hosted/ecam.hpp"
#include "virtio/test_bus.hpp"

namespace {

using ukernel::word;
using ukernel::hosted::DecodedBar;
using ukernel::hosted::EcamHostBridge;
using ukernel::hosted::VirtioPciFunction;
using virtio_test::BlkRig;

constexpr word kSlot = (0u << 20) | (3u << 15) | (0u << 12);  // bus 0, device 3, function 0
constexpr word kBarBase = 0xe000'0000;

// What the machine does with the bridge's routing requests: a map of decoded ranges.
struct Router {
  std::map<word, DecodedBar> routed;
  unsigned attaches = 0, detaches = 0;
  void operator()(const DecodedBar& bar, bool attach) {
    if (attach) {
      routed[bar.base] = bar;
      ++attaches;
    } else {
      routed.erase(bar.base);
      ++detaches;
    }
  }
};

struct EcamRig : BlkRig {
  EcamRig() {
    function.pci().config_write(ukernel::virtio::pci::kCommand, 2, 0);  // as after reset
    bridge.add_function(0, 3, 0, function.pci());
    bridge.set_router([this](const DecodedBar& bar, bool attach) { router(bar, attach); });
  }
  word config(word offset, unsigned width) { return bridge.read(kSlot + offset, width); }
  void set_config(word offset, unsigned width, word value) {
    bridge.write(kSlot + offset, width, value);
  }
  EcamHostBridge bridge{1};
  Router router;
};

}  // namespace

TEST_CASE("an empty ECAM slot reads all ones and ignores writes") {
  EcamRig rig;
  CHECK(rig.bridge.read(0, 2) == 0xffff);
  CHECK(rig.bridge.read((1u << 15) + 0x10, 4) == 0xffffffff);
  rig.bridge.write(0x04, 2, 0x6);
  CHECK(rig.bridge.read(0x04, 2) == 0xffff);
  CHECK(rig.bridge.read(rig.bridge.window_bytes() + kSlot, 4) == 0xffffffff);  // past the window
  CHECK(rig.router.attaches == 0);
}

TEST_CASE("the function's identity and status are read-only") {
  EcamRig rig;
  CHECK(rig.config(0x00, 2) == 0x1af4);
  CHECK(rig.config(0x02, 2) == 0x1042);
  CHECK(rig.config(0x00, 4) == 0x1042'1af4);
  CHECK(rig.config(0x08, 1) == 1);     // revision 1: modern
  CHECK(rig.config(0x0b, 1) == 0x01);  // mass storage
  CHECK((rig.config(0x06, 2) & 0x10) != 0);
  rig.set_config(0x00, 4, 0);
  rig.set_config(0x06, 2, 0);
  CHECK(rig.config(0x00, 4) == 0x1042'1af4);
  CHECK((rig.config(0x06, 2) & 0x10) != 0);
  // Only memory space, bus master and INTx disable are writable in the command register.
  rig.set_config(0x04, 2, 0xffff);
  CHECK(rig.config(0x04, 2) == ((1u << 1) | (1u << 2) | (1u << 10)));
}

TEST_CASE("BARs are sized by writing all ones, then assigned and decoded") {
  EcamRig rig;
  // BAR 0 is a 64-bit memory BAR of 32 KiB: low bits 0b0100.
  CHECK(rig.config(0x10, 4) == 0x4);
  rig.set_config(0x10, 4, 0xffffffff);
  rig.set_config(0x14, 4, 0xffffffff);
  CHECK(rig.config(0x10, 4) == (0xffffffff & ~(VirtioPciFunction::kBarBytes - 1)) + 0x4);
  CHECK(rig.config(0x14, 4) == 0xffffffff);
  // An unimplemented BAR reads 0 and stays 0.
  rig.set_config(0x18, 4, 0xffffffff);
  CHECK(rig.config(0x18, 4) == 0);
  // Decoding on while the BAR holds the probe pattern routes nothing.
  rig.set_config(0x04, 2, 0x2);
  CHECK(rig.router.attaches == 0);
  rig.set_config(0x04, 2, 0);

  rig.set_config(0x10, 4, kBarBase + 0x123);  // low bits below the size are not writable
  rig.set_config(0x14, 4, 0);
  CHECK(rig.config(0x10, 4) == kBarBase + 0x4);
  CHECK(rig.router.routed.empty());
  rig.set_config(0x04, 2, (1u << 1) | (1u << 2));
  REQUIRE(rig.router.routed.count(kBarBase) == 1);
  CHECK(rig.router.routed[kBarBase].size == VirtioPciFunction::kBarBytes);
  CHECK(rig.router.routed[kBarBase].device == &rig.function);
  // Moving the BAR while decoding detaches the old range and attaches the new one.
  rig.set_config(0x10, 4, kBarBase + 0x10000);
  CHECK(rig.router.routed.count(kBarBase) == 0);
  CHECK(rig.router.routed.count(kBarBase + 0x10000) == 1);
  // Memory decoding off: nothing routed.
  rig.set_config(0x04, 2, 1u << 2);
  CHECK(rig.router.routed.empty());
  CHECK(rig.router.attaches == 2);
  CHECK(rig.router.detaches == 2);
}

TEST_CASE("the capability walk through ECAM finds the virtio structures and MSI-X") {
  EcamRig rig;
  std::vector<std::uint8_t> ids;
  std::vector<std::uint8_t> types;
  for (word at = rig.config(0x34, 1); at != 0; at = rig.config(at + 1, 1)) {
    REQUIRE(at >= 0x40);
    REQUIRE(ids.size() < 48);
    ids.push_back(static_cast<std::uint8_t>(rig.config(at, 1)));
    if (ids.back() == 0x09) types.push_back(static_cast<std::uint8_t>(rig.config(at + 3, 1)));
  }
  CHECK(ids == std::vector<std::uint8_t>{0x09, 0x09, 0x09, 0x09, 0x11});
  CHECK(types == std::vector<std::uint8_t>{1, 3, 4, 2});
  // MSI-X: enable and function-mask bits are writable, the table size is not.
  const word msix = 0x40 + 16 * 3 + 20;
  REQUIRE(rig.config(msix, 1) == 0x11);
  rig.set_config(msix + 2, 2, 0xffff);
  CHECK(rig.config(msix + 2, 2) == (0xc000 | 3));
  CHECK(rig.function.pci().msix_enabled());
  CHECK(rig.function.pci().msix_function_masked());
}

TEST_CASE("the driver reaches the device through the BAR the bridge routed") {
  EcamRig rig;
  rig.set_config(0x10, 4, kBarBase);
  rig.set_config(0x14, 4, 0);
  rig.set_config(0x04, 2, (1u << 1) | (1u << 2));
  REQUIRE(rig.router.routed.count(kBarBase) == 1);
  const DecodedBar& bar = rig.router.routed[kBarBase];

  // What a PCI server hands the driver: the configuration space read through ECAM, and a
  // window on the routed BAR.
  std::vector<std::uint8_t> config(4096);
  for (word i = 0; i < config.size(); i += 4) {
    const word value = rig.config(i, 4);
    for (unsigned b = 0; b < 4; ++b)
      config[i + b] = static_cast<std::uint8_t>(value >> (8 * b));
  }
  ukernel::virtio::BarSizes sizes;
  sizes.size[bar.index] = bar.size;
  ukernel::virtio::PciLayout layout;
  REQUIRE(ukernel::virtio::parse_pci_layout(config.data(), config.size(), sizes, layout) ==
          ukernel::virtio::LayoutError::kOk);
  virtio_test::ModelWindow window{bar.device};
  ukernel::virtio::BarWindows<virtio_test::ModelWindow> bars;
  bars.bar[bar.index] = &window;
  REQUIRE(rig.driver.init(layout, bars, rig.queue_memory, rig.request_memory) ==
          virtio_blk::Error::kOk);
  auto buffer = rig.bus.allocate(512);
  REQUIRE(rig.driver.submit(virtio_blk::Operation::kRead, 5, buffer, 0) == virtio_blk::Error::kOk);
  const auto done = rig.finish();
  REQUIRE(done.size() == 1);
  CHECK(done[0].result == virtio_blk::Error::kOk);
  CHECK(std::memcmp(buffer.cpu, rig.image.read(5 * 512, 512).data(), 512) == 0);
}

TEST_CASE("without bus mastering the device does no DMA") {
  EcamRig rig;
  rig.function.pci().config_write(0x04, 2, 1u << 1);  // memory decoding only
  REQUIRE(rig.init() == virtio_blk::Error::kOk);
  const unsigned dma_before = rig.bus.dma_calls;
  REQUIRE(rig.driver.submit(virtio_blk::Operation::kRead, 0, rig.bus.allocate(512), 0) ==
          virtio_blk::Error::kOk);
  rig.bus.run();
  CHECK(rig.bus.dma_calls == dma_before);
  virtio_blk::Completion completion;
  CHECK(rig.driver.next_completion(completion) == virtio_blk::Error::kNone);
}
