// The TCP/IP stack over the whole device path, on the test bus's virtual clock: stack A sits on
// a packet session (ukernel/packet_client.hpp) whose region the test (the "system") owns; the
// net driver core and its bridge (examples/netdrv) serve the session against the virtio-net
// model on end 0 of a simulated wire; end 1 is a packet-level peer, raw or carrying stack B.
// The driver can be crashed (its objects destroyed, the device left running) and restarted (a
// fresh driver resets the device and opens the session afresh; the stack re-attaches), as the
// example system's supervisor would do with the driver server.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "net/tcp_harness.hpp"
#include "netdrv/net_bridge.hpp"
#include "ukernel/hosted/net_wire.hpp"
#include "ukernel/hosted/virtio_net_model.hpp"
#include "ukernel/packet_client.hpp"
#include "virtio/test_bus.hpp"

namespace ukernel::net::test {

using NetDriver = virtio_net::VirtioNet<virtio_test::ModelWindow, 128>;
using Bridge = netdrv::NetBridge<NetDriver>;

class DeviceRig {
 public:
  static constexpr std::uint32_t kBuffers = 96;
  static constexpr std::uint32_t kReceiveBuffers = 48;
  static constexpr std::uint64_t kNsPerMs = 1'000'000;

  explicit DeviceRig(bool peer_stack, std::uint64_t seed = 1, hosted::WireFaults faults = {})
      : bus_(8 << 20),
        wire(bus_, seed, faults),
        model(wire, 0, model_options()),
        function_(bus_, model, {}),
        window_{&function_},
        peer(wire, 1),
        pool_a_(std::make_unique<TcpConnection[]>(8)),
        pool_b_(std::make_unique<TcpConnection[]>(8)) {
    function_.pci().config_write(virtio::pci::kCommand, 2,
                                 virtio::pci::kCommandMemorySpace | virtio::pci::kCommandBusMaster);
    bars_.bar[0] = &window_;
    queue_memory_ = bus_.allocate(NetDriver::kQueueMemoryBytes, 4096);
    region_ = bus_.allocate(packet::kDataOffset + kBuffers * packet::kBufferBytes, 4096);
    REQUIRE(start_driver());
    // The stack learns its MAC from the session's geometry.
    StackConfig config = config_for(0);
    for (std::size_t i = 0; i < 6; ++i)
      config.mac[i] = std::uint8_t(geometry_.mac >> (40 - 8 * i));
    a.emplace(config, LinkRef(port), std::span(pool_a_.get(), 8));
    if (peer_stack) {
      b.emplace(config_for(1), LinkRef(peer), std::span(pool_b_.get(), 8));
      peer.on_receive = [this](std::span<const std::byte> frame) { b->input(frame, now_ms()); };
    }
  }

  static hosted::VirtioNetModel::Options model_options() {
    hosted::VirtioNetModel::Options options;
    options.mac = {kMacA[0], kMacA[1], kMacA[2], kMacA[3], kMacA[4], kMacA[5]};
    options.partial_checksums = true;  // every TCP/UDP frame arrives with NEEDS_CSUM
    return options;
  }

  // A fresh driver: reset and bring up the device, open the session, re-attach the stack.
  [[nodiscard]] bool start_driver() {
    driver_ = std::make_unique<NetDriver>();
    std::vector<std::uint8_t> config(4096);
    for (word i = 0; i < config.size(); ++i)
      config[i] = static_cast<std::uint8_t>(function_.pci().config_read(i, 1));
    virtio::BarSizes sizes;
    sizes.size[0] = hosted::VirtioPciFunction::kBarBytes;
    virtio::PciLayout layout;
    const std::uint8_t fallback[6] = {};
    if (virtio::parse_pci_layout(config.data(), config.size(), sizes, layout) !=
            virtio::LayoutError::kOk ||
        driver_->init(layout, bars_, queue_memory_, fallback) != virtio_net::Error::kOk)
      return false;
    bridge_ = std::make_unique<Bridge>(*driver_);
    const SharedRegion region(region_.cpu, region_.bytes);
    if (!bridge_->open(region, region_.bus, geometry_)) return false;
    if (!port.attach(region, geometry_, kReceiveBuffers)) return false;
    service();
    return true;
  }
  // The driver dies: its state is gone, the device keeps what it was lent until the next reset.
  void crash_driver() {
    bridge_.reset();
    driver_.reset();
  }
  bool driver_running() const { return driver_ != nullptr; }

  // What the driver server and the stack server do when notified, until neither has news.
  void service() {
    for (int pass = 0; pass < 16; ++pass) {
      bool news = false;
      if (bridge_ != nullptr) {
        if (!bridge_->device_done()) {
          device_faults++;
          crash_driver();
        } else {
          news = bridge_->take_posted();
        }
      }
      port.poll([this](std::span<const std::byte> frame) { a->input(frame, now_ms()); });
      port.reclaim();
      if (bridge_ != nullptr) bridge_->pump();
      news = port.take_kick() || news;
      if (!news) return;
    }
  }

  std::uint64_t now_ms() const { return bus_.now_ns() / kNsPerMs; }

  // Advance to the next event: a device or wire event, or a stack timer.
  void step() {
    service();  // what the stack queued since (socket calls): the stack kicks the driver
    std::uint64_t next = bus_.next_event_ns();
    for (const Stack* stack : {a ? &*a : nullptr, b ? &*b : nullptr}) {
      if (stack == nullptr || stack->next_deadline() == 0) continue;
      const std::uint64_t due = stack->next_deadline() * kNsPerMs;
      if (next == 0 || due < next) next = due;
    }
    if (next == 0) next = bus_.now_ns() + kNsPerMs;
    if (bus_.next_event_ns() != 0 && bus_.next_event_ns() <= next) {
      bus_.step();
    } else {
      bus_.run_until(std::max(next, bus_.now_ns()));
    }
    service();
    a->poll(now_ms());
    if (b) b->poll(now_ms());
    service();
  }
  bool run_until(const std::function<bool()>& done, std::uint64_t limit_ms) {
    const std::uint64_t end = now_ms() + limit_ms;
    while (!done()) {
      if (now_ms() >= end) return false;
      step();
    }
    return true;
  }
  void run_for(std::uint64_t ms) {
    const std::uint64_t end = now_ms() + ms;
    (void)run_until([&] { return now_ms() >= end; }, ms + 1);
  }

  NetDriver* driver() { return driver_.get(); }

 private:
  virtio_test::TestBus bus_;

 public:
  hosted::NetWire wire;
  hosted::VirtioNetModel model;

 private:
  hosted::VirtioPciFunction function_;
  virtio_test::ModelWindow window_;
  virtio::BarWindows<virtio_test::ModelWindow> bars_;
  virtio::DmaRegion queue_memory_, region_;
  std::unique_ptr<NetDriver> driver_;
  std::unique_ptr<Bridge> bridge_;
  packet::Geometry geometry_;

 public:
  hosted::WirePeer peer;
  packet::StackPort port;
  unsigned device_faults = 0;

 private:
  std::unique_ptr<TcpConnection[]> pool_a_, pool_b_;

 public:
  std::optional<Stack> a, b;
};

}  // namespace ukernel::net::test
