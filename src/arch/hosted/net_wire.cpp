// The simulated Ethernet wire (see include/ukernel/hosted/net_wire.hpp).
#include "ukernel/hosted/net_wire.hpp"

namespace ukernel::hosted {

NetWire::NetWire(Bus& bus, std::uint64_t seed, WireFaults faults, std::uint64_t latency_ns)
    : bus_(bus), random_(seed), faults_(faults), latency_ns_(latency_ns) {}

void NetWire::attach(int side, WireEndpoint* endpoint) {
  if (side == 0 || side == 1) ends_[side] = endpoint;
}

bool NetWire::send(int side, std::span<const std::byte> frame) {
  if ((side != 0 && side != 1) || frame.size() < kMinFrameBytes || frame.size() > kMaxFrameBytes) {
    ++stats_.refused;
    return false;
  }
  const std::uint64_t number = stats_.sent++;
  const std::uint64_t now = bus_.now_ns();
  const auto mix = [this](std::uint64_t value) { trace_ = (trace_ ^ value) * 0x100000001b3ULL; };
  mix(static_cast<std::uint64_t>(side));
  mix(now);
  for (std::byte b : frame)
    mix(std::to_integer<std::uint64_t>(b));

  FrameVerdict verdict;
  if (filter_) verdict = filter_(side, number, frame);
  if (verdict.drop || roll(faults_.loss_percent)) {
    ++stats_.lost;
    return true;  // sent, as far as the sender can tell
  }
  const int copies = roll(faults_.duplicate_percent) ? 2 : 1;
  if (copies == 2) ++stats_.duplicated;
  for (int i = 0; i < copies; ++i) {
    std::uint64_t delay = latency_ns_ + verdict.extra_delay_ns;
    if (roll(faults_.reorder_percent)) delay += latency_ns_ * (1 + random_() % 8);
    schedule(1 - side, now + delay, std::vector<std::byte>(frame.begin(), frame.end()));
  }
  return true;
}

void NetWire::schedule(int to, std::uint64_t at_ns, std::vector<std::byte> frame) {
  bus_.at(at_ns, [this, to, frame = std::move(frame)] {
    WireEndpoint* endpoint = ends_[to];
    if (endpoint == nullptr) {
      ++stats_.unattached;
      return;
    }
    ++stats_.delivered;
    endpoint->receive(frame);
  });
}

WirePeer::WirePeer(NetWire& wire, int side) : wire_(wire), side_(side) {
  wire_.attach(side_, this);
}

WirePeer::~WirePeer() {
  wire_.attach(side_, nullptr);
}

void WirePeer::receive(std::span<const std::byte> frame) {
  if (on_receive) {
    on_receive(frame);
    return;
  }
  received.emplace_back(frame.begin(), frame.end());
}

}  // namespace ukernel::hosted
