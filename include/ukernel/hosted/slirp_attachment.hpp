// The libslirp attachment (host side): a network device plugged into QEMU's user-mode network.
//
// How this works: SlirpAttachment is a NetAttachment (hosted/net_wire.hpp) whose other side is a
// libslirp instance, the user-mode TCP/IP emulation QEMU's `-netdev user` uses. Frames the device
// sends go into slirp (slirp_input); slirp's answers (ARP, DHCP from its built-in server, TCP
// from host sockets it proxies) are queued and handed to the device from deliver(). Host TCP ports
// are forwarded to the guest as with QEMU's `hostfwd=tcp:127.0.0.1:PORT-:GUEST_PORT`: a host
// client connecting to 127.0.0.1:PORT reaches the guest's port. No root is needed: slirp uses
// ordinary sockets.
//
// Real time, not the virtual clock: libslirp 4.7 (Debian 12) takes configuration versions up
// to 4, which have no way to drive its TCP timers from a virtual clock, so slirp's clock is
// CLOCK_MONOTONIC and a run over it is not deterministic. It is for real clients (curl, ab);
// deterministic tests use the simulated wire. Whoever runs the system calls poll() when it is
// idle, with the time until its own next event as the timeout, and keeps its virtual clock up
// with real time (tests/net/slirp_rig.hpp does both).
//
// The default network is QEMU's: 10.0.2.0/24, the gateway (slirp itself) 10.0.2.2, DNS
// 10.0.2.3, DHCP leases from 10.0.2.15, which is also where forwarded ports go. The network is
// restricted by default: the guest reaches slirp's own services (DHCP, the forwarded
// connections) and nothing beyond the host.
//
// This is a separate library (ukernel_hosted_slirp) so that the hosted back-end does not depend
// on libslirp. Simulation code on the host side, single-threaded: call everything from one
// thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ukernel/hosted/net_wire.hpp"

struct Slirp;
struct pollfd;

namespace ukernel::hosted {

class SlirpAttachment final : public NetAttachment {
 public:
  // Addresses in host byte order (10.0.2.15 is 0x0a00020f).
  struct Forward {
    std::uint16_t host_port = 0;  // on 127.0.0.1
    std::uint16_t guest_port = 80;
  };
  struct Options {
    std::uint32_t network = 0x0a000200;
    std::uint32_t netmask = 0xffffff00;
    std::uint32_t gateway = 0x0a000202;  // slirp's own address
    std::uint32_t dns = 0x0a000203;
    std::uint32_t dhcp_start = 0x0a00020f;  // the first lease, and where forwards go
    bool restricted = true;                 // no traffic beyond the host
    bool dhcp = true;                       // slirp's built-in DHCP server answers
    std::vector<Forward> forwards;          // TCP, 127.0.0.1:host_port -> guest:guest_port
    std::size_t max_queued_frames = 1024;   // towards the device, between two polls
  };

  struct Stats {
    std::uint64_t frames_to_network = 0;    // from the device into slirp
    std::uint64_t frames_from_network = 0;  // handed to the device
    std::uint64_t frames_refused = 0;       // from the device, not 14 to 1514 bytes
    std::uint64_t frames_dropped = 0;       // towards the device: the queue was full or
                                            // nothing was attached
    std::uint64_t guest_errors = 0;         // slirp's reports of guest misbehaviour
  };

  // Creates the slirp network. Null, with the reason in *error, if slirp refuses the
  // configuration or a forward cannot be set up (the host port is taken, for one).
  static std::unique_ptr<SlirpAttachment> create(const Options& options, std::string* error);
  ~SlirpAttachment();
  SlirpAttachment(const SlirpAttachment&) = delete;
  SlirpAttachment& operator=(const SlirpAttachment&) = delete;

  // NetAttachment.
  bool send(std::span<const std::byte> frame) override;
  void attach(WireEndpoint* endpoint) override { endpoint_ = endpoint; }

  // Waits up to timeout_ms (0: does not wait; at once if frames are queued) for slirp's
  // sockets, and lets slirp handle what is ready and its timers. What slirp sends the device is
  // queued (up to Options::max_queued_frames; more is dropped and counted, and TCP retransmits).
  void poll(int timeout_ms);
  // Hands at most max_frames queued frames to the attached device (as many as it has receive
  // buffers for: VirtioNetModel::receive_buffers()); returns how many.
  std::size_t deliver(std::size_t max_frames);
  std::size_t queued() const { return to_device_.size(); }

  // The time slirp's clock reads (CLOCK_MONOTONIC), in nanoseconds.
  static std::uint64_t now_ns();
  // The last guest error slirp reported (empty: none).
  const std::string& last_guest_error() const { return last_guest_error_; }
  const Stats& stats() const { return stats_; }
  const Options& options() const { return options_; }

 private:
  struct Timer;
  explicit SlirpAttachment(const Options& options);
  void queue_for_device(std::span<const std::byte> frame);
  void run_timers();

  friend struct SlirpCallbacks;  // libslirp's callbacks (slirp_attachment.cpp)

  Options options_;
  Slirp* slirp_ = nullptr;
  WireEndpoint* endpoint_ = nullptr;
  std::deque<std::vector<std::byte>> to_device_;
  std::vector<std::unique_ptr<Timer>> timers_;
  std::vector<pollfd> poll_fds_;
  std::string last_guest_error_;
  Stats stats_;
};

}  // namespace ukernel::hosted
