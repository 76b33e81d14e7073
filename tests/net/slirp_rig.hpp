// The TCP/IP stack over the device path on a real-time attachment, for real host clients: the
// stack on a packet session, the virtio-net driver core and its bridge (examples/netdrv), the
// hosted virtio-net model plugged into a SlirpAttachment with 127.0.0.1:PORT forwarded to the
// guest's port 80 (SlirpRig), or a TAP interface with Linux's stack behind it (AttachedRig over a
// TapAttachment). The same path as DeviceRig (device_rig.hpp), but another attachment.
//
// The loop is what a hosted system's idle loop does with slirp: wait in slirp's poll() until
// the next event of the bus or the stack (at most kMaxWaitMs), keep the bus's virtual clock
// equal to the real time since the rig started, hand slirp's frames to the device as it has
// buffers, and let the driver and the stack run. Not deterministic (slirp is real time): tests
// over it are for real clients; everything deterministic runs over the simulated wire.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netdrv/net_bridge.hpp"
#include "stack/dhcp.hpp"
#include "stack/stack.hpp"
#include "ukernel/hosted/slirp_attachment.hpp"
#include "ukernel/hosted/tap_attachment.hpp"
#include "ukernel/hosted/virtio_net_model.hpp"
#include "ukernel/packet_client.hpp"
#include "virtio/test_bus.hpp"

namespace ukernel::net::test {

using SlirpNetDriver = virtio_net::VirtioNet<virtio_test::ModelWindow, 128>;
using SlirpBridge = netdrv::NetBridge<SlirpNetDriver>;

// A TCP port on 127.0.0.1 that is free now (the kernel's choice; slirp binds it next).
inline std::uint16_t free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

// The rig over any real-time attachment with poll(timeout_ms), deliver(max) and queued():
// SlirpAttachment or TapAttachment.
template <typename Attachment>
class AttachedRig {
 public:
  static constexpr std::uint32_t kBuffers = 160;
  static constexpr std::uint32_t kReceiveBuffers = 96;
  static constexpr std::size_t kConnections = 64;
  static constexpr int kMaxWaitMs = 5;
  static constexpr std::uint64_t kNsPerMs = 1'000'000;
  static constexpr MacAddress kMac{0x52, 0x54, 0x00, 0x12, 0x34, 0x57};

  // A rig on `attachment` whose stack has no address yet (DHCP or set_address gives it one).
  // A null attachment leaves the rig not ok(), with `error` as the reason.
  AttachedRig(std::unique_ptr<Attachment> attachment, std::string error)
      : bus_(16 << 20),
        pool_(std::make_unique<TcpConnection[]>(kConnections)),
        attachment_(std::move(attachment)),
        error_(std::move(error)) {
    if (attachment_ == nullptr) return;
    start_ns_ = hosted::SlirpAttachment::now_ns();
    hosted::VirtioNetModel::Options model_options;
    model_options.mac = kMac;
    model_.emplace(*attachment_, model_options);
    function_.emplace(bus_, *model_, hosted::VirtioPciFunction::Options{});
    window_.device = &*function_;
    function_->pci().config_write(
        virtio::pci::kCommand, 2,
        virtio::pci::kCommandMemorySpace | virtio::pci::kCommandBusMaster);
    bars_.bar[0] = &window_;
    queue_memory_ = bus_.allocate(SlirpNetDriver::kQueueMemoryBytes, 4096);
    region_ = bus_.allocate(packet::kDataOffset + kBuffers * packet::kBufferBytes, 4096);
    if (!start_driver()) {
      error_ = "the driver did not start on the model";
      return;
    }
    StackConfig config;
    for (std::size_t i = 0; i < 6; ++i)
      config.mac[i] = std::uint8_t(geometry_.mac >> (40 - 8 * i));
    for (std::size_t i = 0; i < config.isn_key.size(); ++i)
      config.isn_key[i] = static_cast<std::uint8_t>(start_ns_ >> (i % 8 * 8));
    stack.emplace(config, LinkRef(port), std::span(pool_.get(), kConnections));
    dhcp.emplace(*stack, start_ns_);
    ok_ = true;
  }

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const Attachment& attachment() const { return *attachment_; }
  const hosted::VirtioNetModel& model() const { return *model_; }

  std::uint64_t now_ms() const { return bus_.now_ns() / kNsPerMs; }

  // One turn of the idle loop (see the top of this file).
  void step() {
    service();
    std::uint64_t next = bus_.next_event_ns();
    for (std::uint64_t due_ms : {stack->next_deadline(), dhcp->next_deadline()})
      if (due_ms != 0 && (next == 0 || due_ms * kNsPerMs < next)) next = due_ms * kNsPerMs;
    std::uint64_t wait_ms = kMaxWaitMs;
    if (next != 0)
      wait_ms = next <= bus_.now_ns()
                    ? 0
                    : std::min<std::uint64_t>((next - bus_.now_ns()) / kNsPerMs, kMaxWaitMs);
    attachment_->poll(static_cast<int>(wait_ms));
    bus_.run_until(hosted::SlirpAttachment::now_ns() - start_ns_);
    bus_.msis.clear();
    for (int round = 0; round < 64 && attachment_->queued() != 0; ++round) {
      if (attachment_->deliver(model_->receive_buffers()) == 0) break;
      service();
    }
    stack->poll(now_ms());
    dhcp->poll(now_ms());
    service();
  }

  // Steps until done() or limit_ms of real time; returns whether done() became true.
  bool run_until(const std::function<bool()>& done, std::uint64_t limit_ms) {
    const std::uint64_t end = now_ms() + limit_ms;
    while (!done()) {
      if (now_ms() >= end) return false;
      step();
    }
    return true;
  }

 private:
  [[nodiscard]] bool start_driver() {
    driver_ = std::make_unique<SlirpNetDriver>();
    std::vector<std::uint8_t> config(4096);
    for (word i = 0; i < config.size(); ++i)
      config[i] = static_cast<std::uint8_t>(function_->pci().config_read(i, 1));
    virtio::BarSizes sizes;
    sizes.size[0] = hosted::VirtioPciFunction::kBarBytes;
    virtio::PciLayout layout;
    const std::uint8_t fallback[6] = {};
    if (virtio::parse_pci_layout(config.data(), config.size(), sizes, layout) !=
            virtio::LayoutError::kOk ||
        driver_->init(layout, bars_, queue_memory_, fallback) != virtio_net::Error::kOk)
      return false;
    bridge_ = std::make_unique<SlirpBridge>(*driver_);
    const SharedRegion region(region_.cpu, region_.bytes);
    if (!bridge_->open(region, region_.bus, geometry_)) return false;
    if (!port.attach(region, geometry_, kReceiveBuffers)) return false;
    service();
    return true;
  }

  // The driver server's and the stack server's work when notified, until neither has news.
  void service() {
    for (int pass = 0; pass < 16; ++pass) {
      if (!bridge_->device_done()) ++device_faults;  // the model broke a queue: a bug
      bool news = bridge_->take_posted();
      port.poll([this](std::span<const std::byte> frame) { stack->input(frame, now_ms()); });
      port.reclaim();
      bridge_->pump();
      news = port.take_kick() || news;
      if (!news) return;
    }
  }

  virtio_test::TestBus bus_;
  std::unique_ptr<TcpConnection[]> pool_;
  std::unique_ptr<Attachment> attachment_;
  std::optional<hosted::VirtioNetModel> model_;
  std::optional<hosted::VirtioPciFunction> function_;
  virtio_test::ModelWindow window_;
  virtio::BarWindows<virtio_test::ModelWindow> bars_;
  virtio::DmaRegion queue_memory_, region_;
  std::unique_ptr<SlirpNetDriver> driver_;
  std::unique_ptr<SlirpBridge> bridge_;
  packet::Geometry geometry_;
  std::uint64_t start_ns_ = 0;
  std::string error_;
  bool ok_ = false;

 public:
  packet::StackPort port;
  unsigned device_faults = 0;
  std::optional<Stack> stack;
  std::optional<DhcpClient> dhcp;
};

// The rig on libslirp, with 127.0.0.1:host_port() (a free port) forwarded to port 80.
class SlirpRig : public AttachedRig<hosted::SlirpAttachment> {
 public:
  // restricted: the attachment's default (see hosted/slirp_attachment.hpp); false is QEMU's.
  explicit SlirpRig(bool restricted = true) : SlirpRig(make(restricted)) {}
  std::uint16_t host_port() const { return attachment().options().forwards[0].host_port; }
  const hosted::SlirpAttachment& slirp() const { return attachment(); }

 private:
  struct Made {
    std::unique_ptr<hosted::SlirpAttachment> slirp;
    std::string error;
  };
  explicit SlirpRig(Made made) : AttachedRig(std::move(made.slirp), std::move(made.error)) {}
  static Made make(bool restricted) {
    Made made;
    hosted::SlirpAttachment::Options options;
    options.restricted = restricted;
    for (int attempt = 0; attempt < 8 && made.slirp == nullptr; ++attempt) {
      options.forwards = {{free_local_port(), 80}};
      made.slirp = hosted::SlirpAttachment::create(options, &made.error);
    }
    return made;
  }
};

}  // namespace ukernel::net::test
