// The net driver server's core, free of system calls so the host tests drive it against the
// device model: one packet session (ukernel/packet_server.hpp) fed to a VirtioNet driver.
//
// The session's region is seen by the driver at `cpu` and by the device at `bus`; a buffer goes
// to the device as bus + kDataOffset + offset + (kFrameOffset - kHeaderBytes), so the device's
// header lands just before the frame and the frame where the stack expects it: in place.
// pump() lends the device the session's checked buffers while the driver has descriptors;
// device_done() gives back what the device finished (a frame the driver refused is kDropped,
// never data) and says whether the stack got news. A device that breaks its rings makes
// device_done() return false: the server stops and is restarted, and the stack re-opens.
#pragma once

#include <cstddef>
#include <cstdint>

#include "netdrv/virtio_net.hpp"
#include "ukernel/packet_server.hpp"

namespace netdrv {

using ukernel::word;
namespace packet = ukernel::packet;

static_assert(packet::kFrameOffset >= virtio_net::kHeaderBytes,
              "the device header fits in front of the frame");
inline constexpr std::size_t kDeviceOffset = packet::kFrameOffset - virtio_net::kHeaderBytes;

template <class Driver>
class NetBridge {
 public:
  explicit NetBridge(Driver& driver) : driver_(driver) {}

  // Starts the session afresh over `region` (bus address `bus`): the geometry, or false if the
  // device is not ready or the region cannot hold the layout.
  [[nodiscard]] bool open(ukernel::SharedRegion region, word bus, packet::Geometry& geometry) {
    if (!driver_.ready() || bus == 0) return false;
    std::uint64_t mac = 0;
    for (std::size_t i = 0; i < 6; ++i)
      mac = (mac << 8) | driver_.mac()[i];
    geometry = packet::geometry_for(region.size(), mac);
    bus_ = bus;
    posted_ = false;
    return session_.open(region, geometry);
  }

  packet::DriverSession& session() { return session_; }

  // Hands the device the buffers and frames the stack queued, while it has room.
  void pump() {
    std::uint64_t offset = 0;
    while (driver_.can_post_receive() && session_.next_fill(offset)) {
      if (driver_.post_receive(device_region(offset), token(offset)) != virtio_net::Error::kOk) {
        (void)session_.received(offset, 0, packet::Status::kDropped);
        posted_ = true;
      }
    }
    packet::Entry e;
    while (driver_.can_transmit() && session_.next_transmit(e)) {
      if (driver_.transmit(device_region(e.offset), e.length, token(e.offset)) !=
          virtio_net::Error::kOk) {
        (void)session_.sent(e.offset, packet::Status::kDropped);
        posted_ = true;
      }
    }
  }

  // Gives back everything the device finished; false if the device broke a queue.
  [[nodiscard]] bool device_done() {
    virtio_net::Received received;
    for (;;) {
      const virtio_net::Error error = driver_.next_received(received);
      if (error == virtio_net::Error::kNone) break;
      if (error != virtio_net::Error::kOk) return false;
      const bool ok = received.result == virtio_net::Error::kOk;
      (void)session_.received(offset_of(received.token), std::uint32_t(received.length),
                              ok ? packet::Status::kOk : packet::Status::kDropped);
      posted_ = true;
    }
    std::uint32_t sent = 0;
    for (;;) {
      const virtio_net::Error error = driver_.next_transmitted(sent);
      if (error == virtio_net::Error::kNone) break;
      if (error != virtio_net::Error::kOk) return false;
      (void)session_.sent(offset_of(sent), packet::Status::kOk);
      posted_ = true;
    }
    return true;
  }

  // True once if the stack got entries since the last call.
  bool take_posted() {
    const bool posted = posted_;
    posted_ = false;
    return posted;
  }

 private:
  // The device's view of a buffer: from its header room to the buffer's end.
  ukernel::virtio::DmaRegion device_region(std::uint64_t offset) const {
    std::byte* cpu = session_.buffer(offset).data();
    return {cpu + kDeviceOffset, bus_ + packet::kDataOffset + offset + kDeviceOffset,
            packet::kBufferBytes - kDeviceOffset};
  }
  static std::uint32_t token(std::uint64_t offset) { return packet::buffer_index(offset); }
  static std::uint64_t offset_of(std::uint32_t token) {
    return std::uint64_t(token) * packet::kBufferBytes;
  }

  Driver& driver_;
  packet::DriverSession session_;
  word bus_ = 0;
  bool posted_ = false;
};

}  // namespace netdrv
