// The virtio-net device backend (host side): a network card on a simulated wire.
//
// How this works: VirtioNetModel is the network half of a VirtioPciFunction (device type 1,
// modern only, so VERSION_1 and its 12-byte struct virtio_net_hdr on every buffer; virtio 1.2,
// 5.1) and the WireEndpoint of a NetAttachment: an end of a simulated NetWire (deterministic,
// on the bus's clock) or a libslirp network (hosted/slirp_attachment.hpp, real time, for real
// clients). "The wire" below is whichever it is plugged into. Queue 0 is the receive queue: each
// chain the driver makes available there is a device-writable buffer, kept in order until a frame
// arrives from the wire; the frame is then written behind a header (num_buffers 1, no GSO) and the
// chain completes with 12 + length bytes written. A frame that finds no buffer, or a buffer too
// small for it (no VIRTIO_NET_F_MRG_RXBUF: each buffer must hold a whole frame), is dropped and
// counted, as a card drops what it cannot store. Queue 1 is the transmit queue: each chain's
// device-readable bytes are a header and one frame, which goes onto the wire; a chain whose
// header asks for what was not negotiated (GSO, a checksum without VIRTIO_NET_F_CSUM) or whose
// frame is not 14 to 1514 bytes is completed without sending, and counted.
//
// Features offered: MAC (the address in the device configuration) and GUEST_CSUM. With
// GUEST_CSUM negotiated and Options::partial_checksums set, received TCP and UDP packets arrive
// as a Linux host hands them over a tap: flags NEEDS_CSUM, csum_start/csum_offset naming the
// checksum field, which holds only the pseudo-header sum. That is not a bad checksum; the
// driver must complete it (the test of "NEEDS_CSUM is not a bad checksum").
#pragma once

#include <array>
#include <cstdint>
#include <deque>

#include "ukernel/abi.hpp"
#include "ukernel/hosted/net_wire.hpp"
#include "ukernel/hosted/virtio_pci.hpp"

namespace ukernel::hosted {

class VirtioNetModel final : public VirtioBackend, public WireEndpoint {
 public:
  static constexpr word kHeaderBytes = 12;  // struct virtio_net_hdr with VERSION_1
  static constexpr std::uint64_t kFeatureCsum = 1u << 0;
  static constexpr std::uint64_t kFeatureGuestCsum = 1u << 1;
  static constexpr std::uint64_t kFeatureMac = 1u << 5;

  struct Options {
    std::array<std::uint8_t, 6> mac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    std::uint16_t queue_size = 256;  // both queues (tests set bad ones)
    bool offer_mac = true;
    bool offer_guest_csum = true;
    bool partial_checksums = false;  // see the top of this file
    // Misbehaviour, for the driver's checks: every receive completes with this many bytes
    // written (0: the true count).
    std::uint32_t forced_rx_length = 0;
  };

  struct Stats {
    std::uint64_t rx_frames = 0;             // written into a buffer and completed
    std::uint64_t rx_dropped_no_buffer = 0;  // no receive buffer available
    std::uint64_t rx_dropped_too_big = 0;    // the next buffer cannot hold the frame
    std::uint64_t rx_bad_buffer = 0;         // the buffer is not RAM: completed, nothing written
    std::uint64_t rx_partial_checksums = 0;  // delivered with NEEDS_CSUM
    std::uint64_t tx_frames = 0;             // put on the wire
    std::uint64_t tx_errors = 0;             // completed without sending
    // Lost to a fault schedule's netdrop (hosted/faults.hpp): sent frames the wire lost (their
    // transmission completes as usual), frames from the wire never delivered.
    std::uint64_t tx_lost_by_fault = 0;
    std::uint64_t rx_lost_by_fault = 0;
  };

  // Plugs the model into `attachment` (it detaches when destroyed); the attachment must outlive
  // the model.
  VirtioNetModel(NetAttachment& attachment, const Options& options);
  // Attaches the model to end `side` of `wire`.
  VirtioNetModel(NetWire& wire, int side, const Options& options)
      : VirtioNetModel(wire.end(side), options) {}
  ~VirtioNetModel();
  VirtioNetModel(const VirtioNetModel&) = delete;
  VirtioNetModel& operator=(const VirtioNetModel&) = delete;

  const Stats& stats() const { return stats_; }
  std::size_t receive_buffers() const { return rx_buffers_.size(); }

  // VirtioBackend.
  std::uint16_t device_type() const override { return 1; }
  std::uint64_t features() const override;
  std::uint16_t queue_count() const override { return 2; }
  std::uint16_t queue_max_size(std::uint16_t queue) const override {
    return queue < 2 ? options_.queue_size : 0;
  }
  word config_bytes() const override { return 12; }
  word config_read(word offset, unsigned width) override;
  void process(VirtioPciFunction& function, VirtioChain chain) override;
  void reset() override { rx_buffers_.clear(); }

  // WireEndpoint: a frame arrives from the wire.
  void receive(std::span<const std::byte> frame) override;

 private:
  void transmit(VirtioPciFunction& function, const VirtioChain& chain);
  // Fills `header` for `frame`, making the checksum partial when asked to; returns whether it
  // did.
  bool make_partial(std::span<std::byte> frame, std::span<std::byte> header) const;

  NetAttachment& attachment_;
  Options options_;
  VirtioPciFunction* function_ = nullptr;  // learnt from the first chain
  std::deque<VirtioChain> rx_buffers_;
  Stats stats_;
};

}  // namespace ukernel::hosted
