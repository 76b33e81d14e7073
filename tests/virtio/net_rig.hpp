// A virtio-net rig for the tests: the test bus, a simulated wire, the virtio-net model and its
// PCI function on end 0, a packet-level peer on end 1, and the driver, wired as a PCI server
// would wire them (BAR 0 mapped, memory decoding and bus mastering on).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "netdrv/virtio_net.hpp"
#include "ukernel/hosted/net_wire.hpp"
#include "ukernel/hosted/virtio_net_model.hpp"
#include "virtio/test_bus.hpp"

namespace virtio_test {

using NetDriver = virtio_net::VirtioNet<ModelWindow, 64>;
inline constexpr std::uint8_t kFallbackMac[6] = {0x02, 0, 0, 0, 0, 0x99};

struct NetRig {
  explicit NetRig(ukernel::hosted::VirtioNetModel::Options model_options = {},
                  std::uint64_t seed = 1, ukernel::hosted::WireFaults faults = {})
      : bus(8 << 20),
        wire(bus, seed, faults),
        model(wire, 0, model_options),
        function(bus, model, {}),
        peer(wire, 1),
        window{&function} {
    function.pci().config_write(
        ukernel::virtio::pci::kCommand, 2,
        ukernel::virtio::pci::kCommandMemorySpace | ukernel::virtio::pci::kCommandBusMaster);
    queue_memory = bus.allocate(NetDriver::kQueueMemoryBytes, 4096);
    bars.bar[0] = &window;
  }

  virtio_net::Error init() {
    std::vector<std::uint8_t> config(4096);
    for (ukernel::word i = 0; i < config.size(); ++i)
      config[i] = static_cast<std::uint8_t>(function.pci().config_read(i, 1));
    ukernel::virtio::BarSizes sizes;
    sizes.size[0] = ukernel::hosted::VirtioPciFunction::kBarBytes;
    ukernel::virtio::PciLayout layout;
    if (ukernel::virtio::parse_pci_layout(config.data(), config.size(), sizes, layout) !=
        ukernel::virtio::LayoutError::kOk)
      return virtio_net::Error::kTransport;
    return driver.init(layout, bars, queue_memory, kFallbackMac);
  }

  TestBus bus;
  ukernel::hosted::NetWire wire;
  ukernel::hosted::VirtioNetModel model;
  ukernel::hosted::VirtioPciFunction function;
  ukernel::hosted::WirePeer peer;
  ModelWindow window;
  ukernel::virtio::BarWindows<ModelWindow> bars;
  DmaRegion queue_memory;
  NetDriver driver;
};

}  // namespace virtio_test
