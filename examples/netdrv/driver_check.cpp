// Instantiates the virtio-net driver core, the net bridge and the packet protocol's two sides
// with the flags every server gets (no exceptions, no RTTI, -Wconversion), for a window with
// ukernel::Mmio's members: the driver source must build as server code, not only in host tests.
#include "netdrv/net_bridge.hpp"
#include "ukernel/packet_client.hpp"

namespace {

struct Window {
  volatile ukernel::word* base;
  ukernel::word read(ukernel::word offset, unsigned) const { return base[offset / 8]; }
  void write(ukernel::word offset, unsigned, ukernel::word value) const {
    base[offset / 8] = value;
  }
};

}  // namespace

template class virtio_net::VirtioNet<Window>;
template class netdrv::NetBridge<virtio_net::VirtioNet<Window>>;

// The stack's side, with a callback, as a server would call it.
std::size_t packet_client_check(ukernel::packet::StackPort& port, std::size_t& bytes) {
  return port.poll([&](std::span<const std::byte> frame) { bytes += frame.size(); });
}
