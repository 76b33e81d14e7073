// The virtio-net device backend (see include/ukernel/hosted/virtio_net_model.hpp).
#include "ukernel/hosted/virtio_net_model.hpp"

#include <cstring>
#include <vector>

#include "state.hpp"

namespace ukernel::hosted {

namespace {

constexpr std::uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
constexpr std::uint8_t kGsoNone = 0;    // VIRTIO_NET_HDR_GSO_NONE
constexpr std::uint16_t kQueueReceive = 0;
constexpr std::uint16_t kQueueTransmit = 1;
constexpr word kEthernetHeader = 14;

std::uint16_t load_be16(std::span<const std::byte> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[at]) << 8) |
                                    std::to_integer<unsigned>(bytes[at + 1]));
}
void store_le16(std::span<std::byte> bytes, std::size_t at, std::uint16_t value) {
  bytes[at] = static_cast<std::byte>(value & 0xff);
  bytes[at + 1] = static_cast<std::byte>(value >> 8);
}

}  // namespace

VirtioNetModel::VirtioNetModel(NetAttachment& attachment, const Options& options)
    : attachment_(attachment), options_(options) {
  attachment_.attach(this);
}

VirtioNetModel::~VirtioNetModel() {
  attachment_.attach(nullptr);
}

std::uint64_t VirtioNetModel::features() const {
  std::uint64_t features = 0;
  if (options_.offer_mac) features |= kFeatureMac;
  if (options_.offer_guest_csum) features |= kFeatureGuestCsum;
  return features;
}

word VirtioNetModel::config_read(word offset, unsigned width) {
  // struct virtio_net_config: mac[6], status, max_virtqueue_pairs, mtu. Only MAC is offered;
  // the rest reads as a link that is up, one pair and a 1500-byte MTU.
  std::byte config[12] = {};
  for (std::size_t i = 0; i < 6; ++i)
    config[i] = static_cast<std::byte>(options_.mac[i]);
  config[6] = std::byte{1};
  config[8] = std::byte{1};
  config[10] = std::byte{1500 & 0xff};
  config[11] = std::byte{1500 >> 8};
  if (offset > sizeof config || width > sizeof config - offset) return ~word{0};
  word value = 0;
  std::memcpy(&value, config + offset, width);
  return value;
}

void VirtioNetModel::process(VirtioPciFunction& function, VirtioChain chain) {
  function_ = &function;
  if (chain.queue == kQueueReceive) {
    rx_buffers_.push_back(std::move(chain));
    return;
  }
  transmit(function, chain);
}

void VirtioNetModel::transmit(VirtioPciFunction& function, const VirtioChain& chain) {
  word readable = 0;
  for (const VirtioSegment& segment : chain.segments)
    if (!segment.device_writes) readable += segment.length;
  std::byte header[kHeaderBytes];
  const word frame_bytes = readable >= kHeaderBytes ? readable - kHeaderBytes : 0;
  bool ok = readable >= kHeaderBytes && frame_bytes >= NetWire::kMinFrameBytes &&
            frame_bytes <= NetWire::kMaxFrameBytes &&
            read_chain(function.bus(), chain, 0, header, kHeaderBytes);
  // Neither checksum offload (VIRTIO_NET_F_CSUM) nor GSO is offered: a header asking for them
  // is a driver error.
  ok = ok && (std::to_integer<std::uint8_t>(header[0]) & kNeedsCsum) == 0 &&
       std::to_integer<std::uint8_t>(header[1]) == kGsoNone;
  std::vector<std::byte> frame(ok ? frame_bytes : 0);
  ok = ok && read_chain(function.bus(), chain, kHeaderBytes, frame.data(), frame_bytes);
  // A fault schedule's netdrop (hosted/faults.hpp) loses the frame on the wire: the driver's
  // transmission completes as if it had gone out.
  arch::HostedState& state = arch::hosted();
  if (ok && state.faults != nullptr && arch::fault_at_net_frame(state)) {
    ++stats_.tx_lost_by_fault;
  } else if (ok && attachment_.send(frame)) {
    ++stats_.tx_frames;
  } else {
    ++stats_.tx_errors;
  }
  function.complete(chain, 0);
}

void VirtioNetModel::receive(std::span<const std::byte> frame) {
  arch::HostedState& state = arch::hosted();
  if (state.faults != nullptr && arch::fault_at_net_frame(state)) {
    ++stats_.rx_lost_by_fault;
    return;
  }
  if (function_ == nullptr || rx_buffers_.empty()) {
    ++stats_.rx_dropped_no_buffer;
    return;
  }
  VirtioChain& chain = rx_buffers_.front();
  word writable = 0;
  for (const VirtioSegment& segment : chain.segments)
    if (segment.device_writes) writable += segment.length;
  if (writable < kHeaderBytes + frame.size()) {
    ++stats_.rx_dropped_too_big;
    return;
  }
  const VirtioChain buffer = std::move(chain);
  rx_buffers_.pop_front();

  std::vector<std::byte> bytes(kHeaderBytes + frame.size());
  std::span<std::byte> header = std::span(bytes).first(kHeaderBytes);
  std::span<std::byte> copy = std::span(bytes).subspan(kHeaderBytes);
  std::memcpy(copy.data(), frame.data(), frame.size());
  store_le16(header, 10, 1);  // num_buffers: without MRG_RXBUF always one
  if (make_partial(copy, header)) ++stats_.rx_partial_checksums;
  if (!write_chain(function_->bus(), buffer, 0, bytes.data(), bytes.size())) {
    ++stats_.rx_bad_buffer;
    function_->complete(buffer, 0);
    return;
  }
  ++stats_.rx_frames;
  const auto written = static_cast<std::uint32_t>(bytes.size());
  function_->complete(buffer, options_.forced_rx_length != 0 ? options_.forced_rx_length : written);
}

bool VirtioNetModel::make_partial(std::span<std::byte> frame, std::span<std::byte> header) const {
  if (!options_.partial_checksums || (function_->driver_features() & kFeatureGuestCsum) == 0)
    return false;
  // IPv4 (no VLAN tag), not a fragment, carrying TCP or UDP with a checksum.
  if (frame.size() < kEthernetHeader + 20 || load_be16(frame, 12) != 0x0800) return false;
  std::span<std::byte> ip = frame.subspan(kEthernetHeader);
  const std::size_t ihl = (std::to_integer<std::size_t>(ip[0]) & 0xf) * 4;
  const std::size_t total = load_be16(ip, 2);
  if ((std::to_integer<unsigned>(ip[0]) >> 4) != 4 || ihl < 20 || total < ihl ||
      total > ip.size() || (load_be16(ip, 6) & 0x3fff) != 0)
    return false;
  const unsigned protocol = std::to_integer<unsigned>(ip[9]);
  const std::size_t field = protocol == 6 ? 16 : protocol == 17 ? 6 : 0;
  const std::size_t transport_bytes = total - ihl;
  if (field == 0 || transport_bytes < field + 2) return false;
  if (protocol == 17 && load_be16(ip, ihl + 6) == 0) return false;  // UDP without a checksum
  // The pseudo-header sum, folded but not complemented, in place of the checksum: what a host
  // stack that offloads the rest leaves there.
  std::uint32_t sum = protocol + static_cast<std::uint32_t>(transport_bytes);
  for (std::size_t i = 12; i < 20; i += 2)
    sum += load_be16(ip, i);
  while ((sum >> 16) != 0)
    sum = (sum & 0xffff) + (sum >> 16);
  ip[ihl + field] = static_cast<std::byte>(sum >> 8);
  ip[ihl + field + 1] = static_cast<std::byte>(sum & 0xff);
  header[0] = std::byte{kNeedsCsum};
  store_le16(header, 6, static_cast<std::uint16_t>(kEthernetHeader + ihl));  // csum_start
  store_le16(header, 8, static_cast<std::uint16_t>(field));                  // csum_offset
  return true;
}

}  // namespace ukernel::hosted
