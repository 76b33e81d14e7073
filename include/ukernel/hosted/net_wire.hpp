// A simulated Ethernet wire (host side): two ends, frames carried on the virtual clock.
//
// How this works: NetWire is a point-to-point cable with two ends, 0 and 1. Whatever is attached
// to an end (a virtio-net device model, a WirePeer in a test) sends a frame with send(side, ...);
// the wire schedules its arrival at the other end `latency_ns` later through Bus::at(), so every
// delivery is an event of the machine's clock (the current Simulation's, through
// machine_bus(), or a test bus) and a run repeats exactly. Faults are seeded and applied in the
// order frames are sent: loss, duplication, reordering (an extra delay), and a filter the test
// writes to drop or delay chosen frames. Every frame sent is folded into trace(), a hash a test
// compares across runs. Ethernet frames here have no FCS: 14 to kMaxFrameBytes bytes.
//
// Simulation code on the host side; the wire must outlive the events it scheduled (keep it as
// long as the bus runs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <vector>

#include "ukernel/hosted/bus.hpp"

namespace ukernel::hosted {

// Something attached to one end of a wire: it is handed the frames the other end sent.
class WireEndpoint {
 public:
  virtual void receive(std::span<const std::byte> frame) = 0;

 protected:
  ~WireEndpoint() = default;
};

// What a network device is plugged into: an end of a NetWire (NetWire::end), or a libslirp
// network (hosted/slirp_attachment.hpp, a separate library). The device sends its frames with
// send(); the attachment hands the frames arriving for the device to the endpoint given to
// attach(), from its own event loop (the wire's: the bus's clock; slirp's: its poll()).
class NetAttachment {
 public:
  // Carries one Ethernet frame (no FCS) away from the device; false if it was refused (too
  // short or too long, or the attachment cannot take it), and then it is counted there.
  virtual bool send(std::span<const std::byte> frame) = 0;
  // Attaches the endpoint arriving frames are handed to; nullptr detaches.
  virtual void attach(WireEndpoint* endpoint) = 0;

 protected:
  ~NetAttachment() = default;
};

struct WireFaults {
  unsigned loss_percent = 0;
  unsigned duplicate_percent = 0;
  unsigned reorder_percent = 0;  // delayed by 1 to 8 latencies more than the others
};

// What the filter decides for one frame.
struct FrameVerdict {
  bool drop = false;
  std::uint64_t extra_delay_ns = 0;
};

class NetWire {
 public:
  static constexpr std::size_t kMinFrameBytes = 14;    // an Ethernet header
  static constexpr std::size_t kMaxFrameBytes = 1514;  // header + 1500-byte MTU, no FCS
  static constexpr std::uint64_t kDefaultLatencyNs = 10'000;

  struct Stats {
    std::uint64_t sent = 0;       // frames handed to send() and accepted
    std::uint64_t refused = 0;    // too short or too long: never on the wire
    std::uint64_t delivered = 0;  // handed to an endpoint
    std::uint64_t lost = 0;       // seeded loss or the filter
    std::uint64_t duplicated = 0;
    std::uint64_t unattached = 0;  // arrived at an end with nothing attached
  };

  explicit NetWire(Bus& bus, std::uint64_t seed = 1, WireFaults faults = {},
                   std::uint64_t latency_ns = kDefaultLatencyNs);
  NetWire(const NetWire&) = delete;
  NetWire& operator=(const NetWire&) = delete;

  // Attaches `endpoint` to end `side` (0 or 1); nullptr detaches. Frames already on their way
  // reach whatever is attached when they arrive.
  void attach(int side, WireEndpoint* endpoint);

  // End `side` as a device's attachment. A side other than 0 or 1 gives an end that refuses
  // every frame (counted in refused) and attaches nothing.
  NetAttachment& end(int side) { return (side == 0 || side == 1) ? end_[side] : end_[2]; }

  // Sends `frame` from end `side` to the other end. False (and nothing is carried) for a side
  // other than 0 or 1 or a frame outside [kMinFrameBytes, kMaxFrameBytes].
  bool send(int side, std::span<const std::byte> frame);

  // The test's fault hook: called for every accepted frame with its sending side and its number
  // (from 0, over both directions) before the seeded faults.
  void set_filter(
      std::function<FrameVerdict(int side, std::uint64_t number, std::span<const std::byte>)>
          filter) {
    filter_ = std::move(filter);
  }
  void set_faults(WireFaults faults) { faults_ = faults; }

  const Stats& stats() const { return stats_; }
  // A hash of every accepted frame (side, time, bytes), in order.
  std::uint64_t trace() const { return trace_; }

 private:
  void schedule(int to, std::uint64_t at_ns, std::vector<std::byte> frame);
  bool roll(unsigned percent) { return percent != 0 && random_() % 100 < percent; }

  Bus& bus_;
  std::mt19937_64 random_;
  WireFaults faults_;
  std::uint64_t latency_ns_;
  class End final : public NetAttachment {
   public:
    End(NetWire& wire, int side) : wire_(wire), side_(side) {}
    bool send(std::span<const std::byte> frame) override { return wire_.send(side_, frame); }
    void attach(WireEndpoint* endpoint) override { wire_.attach(side_, endpoint); }

   private:
    NetWire& wire_;
    int side_;
  };

  WireEndpoint* ends_[2] = {nullptr, nullptr};
  End end_[3] = {{*this, 0}, {*this, 1}, {*this, -1}};
  std::function<FrameVerdict(int, std::uint64_t, std::span<const std::byte>)> filter_;
  Stats stats_;
  std::uint64_t trace_ = 0xcbf29ce484222325ULL;
};

// A packet-level test peer on one end of a wire: it keeps the frames it receives (or hands each
// to `on_receive`, if set) and sends raw frames.
class WirePeer final : public WireEndpoint {
 public:
  WirePeer(NetWire& wire, int side);
  ~WirePeer();
  WirePeer(const WirePeer&) = delete;
  WirePeer& operator=(const WirePeer&) = delete;

  bool send(std::span<const std::byte> frame) { return wire_.send(side_, frame); }
  // The `LinkRef` shape (stack/link.hpp), so a TCP/IP stack can sit on a peer directly.
  bool transmit(std::span<const std::byte> frame) { return send(frame); }
  void receive(std::span<const std::byte> frame) override;

  std::vector<std::vector<std::byte>> received;
  std::function<void(std::span<const std::byte>)> on_receive;

 private:
  NetWire& wire_;
  int side_;
};

}  // namespace ukernel::hosted
