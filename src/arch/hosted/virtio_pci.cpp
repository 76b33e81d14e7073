// The modern virtio PCI function model (see include/ukernel/hosted/virtio_pci.hpp).
#include "ukernel/hosted/virtio_pci.hpp"

#include <algorithm>
#include <cstring>

namespace ukernel::hosted {

namespace {

constexpr std::uint64_t kVersion1 = std::uint64_t{1} << 32;
constexpr std::uint8_t kFeaturesOk = 8;
constexpr std::uint8_t kDriverOk = 4;
constexpr std::uint8_t kNeedsReset = 64;
constexpr std::uint16_t kDescriptorNext = 1;
constexpr std::uint16_t kDescriptorWrite = 2;
constexpr std::uint16_t kDescriptorIndirect = 4;
constexpr std::uint16_t kAvailNoInterrupt = 1;
constexpr std::uint16_t kCommandBusMaster = 1u << 2;
constexpr std::uint16_t kCommandInterruptDisable = 1u << 10;

// The common configuration's fields: offset and width (virtio 1.2, 4.1.4.3).
struct Field {
  word offset;
  unsigned width;
};
constexpr Field kCommonFields[] = {
    {0x00, 4}, {0x04, 4}, {0x08, 4}, {0x0c, 4}, {0x10, 2}, {0x12, 2}, {0x14, 1}, {0x15, 1},
    {0x16, 2}, {0x18, 2}, {0x1a, 2}, {0x1c, 2}, {0x1e, 2}, {0x20, 8}, {0x28, 8}, {0x30, 8},
};

word all_ones(unsigned width) {
  return width >= 8 ? ~word{0} : (word{1} << (8 * width)) - 1;
}

template <typename T>
T load(const std::byte* at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  return value;
}
template <typename T>
void store(std::byte* at, T value) {
  std::memcpy(at, &value, sizeof value);
}

std::vector<std::uint8_t> virtio_capability(std::uint8_t type, word offset, word length,
                                            std::uint32_t multiplier, bool notify) {
  // After ID and next: cap_len, cfg_type, bar, id, padding[2], offset, length (+ multiplier).
  std::vector<std::uint8_t> body = {static_cast<std::uint8_t>(notify ? 20 : 16), type, 0, 0, 0, 0};
  for (word value : {offset, length}) {
    for (unsigned i = 0; i < 4; ++i)
      body.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
  if (notify) {
    for (unsigned i = 0; i < 4; ++i)
      body.push_back(static_cast<std::uint8_t>(multiplier >> (8 * i)));
  }
  return body;
}

}  // namespace

bool read_chain(Bus& bus, const VirtioChain& chain, word skip, std::byte* out, word bytes) {
  for (const VirtioSegment& segment : chain.segments) {
    if (segment.device_writes || bytes == 0) continue;
    if (skip >= segment.length) {
      skip -= segment.length;
      continue;
    }
    const word take = std::min<word>(segment.length - skip, bytes);
    const std::byte* from = bus.dma(segment.address + skip, take);
    if (from == nullptr) return false;
    std::memcpy(out, from, take);
    out += take;
    bytes -= take;
    skip = 0;
  }
  return bytes == 0;
}

bool write_chain(Bus& bus, const VirtioChain& chain, word skip, const std::byte* in, word bytes) {
  for (const VirtioSegment& segment : chain.segments) {
    if (!segment.device_writes || bytes == 0) continue;
    if (skip >= segment.length) {
      skip -= segment.length;
      continue;
    }
    const word put = std::min<word>(segment.length - skip, bytes);
    std::byte* to = bus.dma(segment.address + skip, put);
    if (to == nullptr) return false;
    std::memcpy(to, in, put);
    in += put;
    bytes -= put;
    skip = 0;
  }
  return bytes == 0;
}

VirtioPciFunction::VirtioPciFunction(Bus& bus, VirtioBackend& backend, const Options& options)
    : bus_(bus),
      backend_(backend),
      options_(options),
      pci_(PciIdentity{.vendor = 0x1af4,
                       .device = static_cast<std::uint16_t>(0x1040 + backend.device_type()),
                       .revision = 1,
                       .class_code = 0x01,  // mass storage (as QEMU's virtio-blk-pci)
                       .subclass = 0x00,
                       .programming_interface = 0,
                       .subsystem_vendor = 0x1af4,
                       .subsystem = 0x1100,
                       .interrupt_pin = 1}) {
  pci_.add_memory_bar(0, kBarBytes, true, *this);
  pci_.add_capability(0x09, virtio_capability(1, kCommonOffset, kCommonBytes, 0, false));
  pci_.add_capability(0x09, virtio_capability(3, kIsrOffset, 1, 0, false));
  pci_.add_capability(0x09, virtio_capability(4, kDeviceOffset, backend.config_bytes(), 0, false));
  pci_.add_capability(
      0x09, virtio_capability(2, kNotifyOffset, kNotifyBytes, options.notify_off_multiplier, true));
  if (options.msix_vectors > 0) {
    pci_.add_msix_capability(options.msix_vectors, 0, kMsixTableOffset, kPbaOffset);
  }
  pci_.config_write(0x3c, 1, options.intx_line);
  reset();
}

std::uint64_t VirtioPciFunction::offered_features() const {
  return backend_.features() | (misbehaviour_.hide_version_1 ? 0 : kVersion1);
}

void VirtioPciFunction::reset() {
  ++epoch_;
  status_ = 0;
  isr_ = 0;
  device_feature_select_ = 0;
  driver_feature_select_ = 0;
  driver_features_ = 0;
  config_vector_ = kNoVector;
  queue_select_ = 0;
  queues_.assign(backend_.queue_count(), Queue{});
  for (std::uint16_t i = 0; i < queues_.size(); ++i)
    queues_[i].size = backend_.queue_max_size(i);
  msix_.assign(options_.msix_vectors, MsixEntry{});
  backend_.reset();
}

word VirtioPciFunction::read(word offset, unsigned width) {
  if (offset >= kCommonOffset && offset + width <= kCommonOffset + kCommonBytes)
    return common_read(offset - kCommonOffset, width);
  if (offset == kIsrOffset && width == 1) {
    const std::uint8_t isr = isr_;
    isr_ = 0;  // reading acknowledges
    return isr;
  }
  if (offset >= kDeviceOffset && offset + width <= kDeviceOffset + backend_.config_bytes())
    return backend_.config_read(offset - kDeviceOffset, width);
  if (!msix_.empty() && offset >= kMsixTableOffset &&
      offset + width <= kMsixTableOffset + 16 * msix_.size())
    return msix_read(offset - kMsixTableOffset, width);
  if (!msix_.empty() && offset >= kPbaOffset &&
      offset + width <= kPbaOffset + 8 * ((msix_.size() + 63) / 64)) {
    word bits = 0;
    for (unsigned i = 0; i < 8 * width; ++i) {
      const word entry = (offset - kPbaOffset) * 8 + i;
      if (entry < msix_.size() && msix_[entry].pending) bits |= word{1} << i;
    }
    return bits;
  }
  return all_ones(width);
}

void VirtioPciFunction::write(word offset, unsigned width, word value) {
  if (offset >= kCommonOffset && offset + width <= kCommonOffset + kCommonBytes) {
    common_write(offset - kCommonOffset, width, value);
  } else if (offset >= kNotifyOffset && offset + width <= kNotifyOffset + kNotifyBytes) {
    const word multiplier = options_.notify_off_multiplier;
    const word at = offset - kNotifyOffset;
    // Queue q's notification address is q * multiplier (queue_notify_off reads q).
    if (multiplier == 0) {
      notify(static_cast<std::uint16_t>(value));
    } else if (at % multiplier == 0) {
      notify(static_cast<std::uint16_t>(at / multiplier));
    }
  } else if (!msix_.empty() && offset >= kMsixTableOffset &&
             offset + width <= kMsixTableOffset + 16 * msix_.size()) {
    msix_write(offset - kMsixTableOffset, width, value);
  }
  // The ISR, the PBA and the device configuration of these backends are read-only.
}

word VirtioPciFunction::common_field(word field) const {
  const Queue* queue = queue_select_ < queues_.size() ? &queues_[queue_select_] : nullptr;
  switch (field) {
    case 0x00:
      return device_feature_select_;
    case 0x04:
      return device_feature_select_ < 2
                 ? (offered_features() >> (32 * device_feature_select_)) & 0xffffffff
                 : 0;
    case 0x08:
      return driver_feature_select_;
    case 0x0c:
      return driver_feature_select_ < 2
                 ? (driver_features_ >> (32 * driver_feature_select_)) & 0xffffffff
                 : 0;
    case 0x10:
      return misbehaviour_.refuse_vectors ? kNoVector : config_vector_;
    case 0x12:
      return queues_.size();
    case 0x14:
      return misbehaviour_.stuck_in_reset && status_ == 0 ? 0x40 : status_;
    case 0x15:
      return config_generation_;
    case 0x16:
      return queue_select_;
    case 0x18:
      return queue != nullptr ? queue->size : 0;
    case 0x1a:
      return queue != nullptr && !misbehaviour_.refuse_vectors ? queue->vector : kNoVector;
    case 0x1c:
      return queue != nullptr && queue->enabled ? 1 : 0;
    case 0x1e:
      return queue_select_;
    case 0x20:
      return queue != nullptr ? queue->desc : 0;
    case 0x28:
      return queue != nullptr ? queue->driver : 0;
    case 0x30:
      return queue != nullptr ? queue->device : 0;
    default:
      return 0;
  }
}

word VirtioPciFunction::common_read(word offset, unsigned width) const {
  // Any aligned access: assemble it byte by byte from the fields it covers.
  word value = 0;
  for (unsigned i = 0; i < width; ++i) {
    const word at = offset + i;
    for (const Field& field : kCommonFields) {
      if (at >= field.offset && at < field.offset + field.width) {
        value |= ((common_field(field.offset) >> (8 * (at - field.offset))) & 0xff) << (8 * i);
        break;
      }
    }
  }
  return value;
}

void VirtioPciFunction::common_write(word offset, unsigned width, word value) {
  Queue* queue = queue_select_ < queues_.size() ? &queues_[queue_select_] : nullptr;
  // The ring addresses take 64-bit writes or two 32-bit halves.
  if (offset >= 0x20 && offset < 0x38) {
    if (queue == nullptr || queue->enabled) return;
    word& address = offset < 0x28 ? queue->desc : offset < 0x30 ? queue->driver : queue->device;
    const word half = (offset - 0x20) % 8;
    if (width == 8 && half == 0) {
      address = value;
    } else if (width == 4) {
      address = half == 0 ? (address & ~word{0xffffffff}) | (value & 0xffffffff)
                          : (address & 0xffffffff) | ((value & 0xffffffff) << 32);
    }
    return;
  }
  switch (offset) {
    case 0x00:
      if (width == 4) device_feature_select_ = static_cast<std::uint32_t>(value);
      break;
    case 0x08:
      if (width == 4) driver_feature_select_ = static_cast<std::uint32_t>(value);
      break;
    case 0x0c:
      if (width == 4 && driver_feature_select_ < 2 && (status_ & kFeaturesOk) == 0) {
        const unsigned shift = 32 * driver_feature_select_;
        driver_features_ =
            (driver_features_ & ~(word{0xffffffff} << shift)) | ((value & 0xffffffff) << shift);
      }
      break;
    case 0x10:
      if (width == 2)
        config_vector_ = value < msix_.size() ? static_cast<std::uint16_t>(value) : kNoVector;
      break;
    case 0x14:
      if (width == 1) set_status(static_cast<std::uint8_t>(value));
      break;
    case 0x16:
      if (width == 2) queue_select_ = static_cast<std::uint16_t>(value);
      break;
    case 0x18:
      // The driver may ask for a smaller power of two than the maximum.
      if (width == 2 && queue != nullptr && !queue->enabled && value != 0 &&
          (value & (value - 1)) == 0 && value <= backend_.queue_max_size(queue_select_))
        queue->size = static_cast<std::uint16_t>(value);
      break;
    case 0x1a:
      if (width == 2 && queue != nullptr)
        queue->vector = value < msix_.size() ? static_cast<std::uint16_t>(value) : kNoVector;
      break;
    case 0x1c:
      if (width == 2 && queue != nullptr && value == 1) queue->enabled = true;
      break;
    default:
      break;  // read-only fields
  }
}

void VirtioPciFunction::set_status(std::uint8_t value) {
  if (value == 0) {
    reset();
    return;
  }
  if ((value & kFeaturesOk) != 0 && (status_ & kFeaturesOk) == 0) {
    // The device accepts the features only if it offered all of them and VERSION_1 is among
    // them (this model drives no legacy interface).
    const bool subset = (driver_features_ & ~offered_features()) == 0;
    if (misbehaviour_.refuse_features_ok || !subset || (driver_features_ & kVersion1) == 0)
      value = static_cast<std::uint8_t>(value & ~kFeaturesOk);
  }
  status_ = value;
}

void VirtioPciFunction::needs_reset() {
  status_ |= kNeedsReset;
  isr_ |= 2;
  interrupt(config_vector_);
}

bool VirtioPciFunction::walk(const Queue& queue, std::uint16_t head,
                             std::vector<VirtioSegment>& segments) {
  std::uint16_t index = head;
  bool seen_writable = false;
  // A chain has at most `size` descriptors; one longer has a loop.
  for (unsigned steps = 0; steps < queue.size; ++steps) {
    if (index >= queue.size) return false;
    const std::byte* descriptor = bus_.dma(queue.desc + word{16} * index, 16);
    if (descriptor == nullptr) return false;
    const auto address = load<std::uint64_t>(descriptor);
    const auto length = load<std::uint32_t>(descriptor + 8);
    const auto flags = load<std::uint16_t>(descriptor + 12);
    const auto next = load<std::uint16_t>(descriptor + 14);
    if ((flags & kDescriptorIndirect) != 0) return false;  // not offered
    const bool writes = (flags & kDescriptorWrite) != 0;
    if (seen_writable && !writes) return false;  // readable buffers come first
    seen_writable = seen_writable || writes;
    segments.push_back({address, length, writes});
    if ((flags & kDescriptorNext) == 0) return true;
    index = next;
  }
  return false;
}

void VirtioPciFunction::notify(std::uint16_t queue_index) {
  ++notifications_;
  if ((status_ & kDriverOk) == 0 || (status_ & kNeedsReset) != 0) return;
  if ((pci_.command() & kCommandBusMaster) == 0) return;  // no DMA without bus mastering
  if (queue_index >= queues_.size() || !queues_[queue_index].enabled) return;
  Queue& queue = queues_[queue_index];
  const std::byte* avail = bus_.dma(queue.driver, 4 + word{2} * queue.size);
  if (avail == nullptr || bus_.dma(queue.device, 4 + word{8} * queue.size) == nullptr) {
    needs_reset();
    return;
  }
  const auto avail_index = load<std::uint16_t>(avail + 2);
  // More new entries than the ring holds is a driver bug: the device stops, as hardware may.
  if (static_cast<std::uint16_t>(avail_index - queue.last_avail) > queue.size) {
    needs_reset();
    return;
  }
  while (queue.last_avail != avail_index) {
    const auto head = load<std::uint16_t>(avail + 4 + 2 * (queue.last_avail % queue.size));
    ++queue.last_avail;
    VirtioChain chain{queue_index, head, epoch_, {}};
    if (head >= queue.size) {
      needs_reset();
      return;
    }
    if (!walk(queue, head, chain.segments)) {
      chain.segments.clear();
      complete(chain, 0);
      continue;
    }
    backend_.process(*this, std::move(chain));
  }
}

void VirtioPciFunction::complete(const VirtioChain& chain, std::uint32_t written) {
  if (chain.epoch != epoch_ || chain.queue >= queues_.size()) return;
  Queue& queue = queues_[chain.queue];
  if (!queue.enabled) return;
  std::byte* used = bus_.dma(queue.device, 4 + word{8} * queue.size);
  const std::byte* avail = bus_.dma(queue.driver, 4);
  if (used == nullptr || avail == nullptr) {
    needs_reset();
    return;
  }
  std::byte* element = used + 4 + 8 * (queue.used_index % queue.size);
  store<std::uint32_t>(element, chain.head);
  store<std::uint32_t>(element + 4, written);
  ++queue.used_index;
  store<std::uint16_t>(used + 2, queue.used_index);
  if ((load<std::uint16_t>(avail) & kAvailNoInterrupt) == 0) {
    isr_ |= 1;
    interrupt(queue.vector);
  }
}

void VirtioPciFunction::interrupt(std::uint16_t vector) {
  if (pci_.msix_enabled()) {
    if (vector < msix_.size()) deliver_msix(vector);
    return;  // with MSI-X on, no vector means no interrupt
  }
  if ((pci_.command() & kCommandInterruptDisable) == 0) bus_.raise_line(options_.intx_line);
}

void VirtioPciFunction::deliver_msix(unsigned entry) {
  MsixEntry& msix = msix_[entry];
  if ((msix.control & 1) != 0 || pci_.msix_function_masked()) {
    msix.pending = true;
    return;
  }
  msix.pending = false;
  bus_.msi((word{msix.address_high} << 32) | msix.address_low, msix.data);
}

word VirtioPciFunction::msix_read(word offset, unsigned width) const {
  word value = 0;
  for (unsigned i = 0; i < width; i += 4) {
    const MsixEntry& entry = msix_[(offset + i) / 16];
    const std::uint32_t fields[4] = {entry.address_low, entry.address_high, entry.data,
                                     entry.control};
    value |= word{fields[((offset + i) % 16) / 4]} << (8 * i);
  }
  return width < 4 ? value & all_ones(width) : value;
}

void VirtioPciFunction::msix_write(word offset, unsigned width, word value) {
  if (width < 4) return;  // table entries take dword or qword writes
  for (unsigned i = 0; i < width; i += 4) {
    const word entry_index = (offset + i) / 16;
    MsixEntry& entry = msix_[entry_index];
    const auto part = static_cast<std::uint32_t>(value >> (8 * i));
    switch (((offset + i) % 16) / 4) {
      case 0:
        entry.address_low = part & ~3u;
        break;
      case 1:
        entry.address_high = part;
        break;
      case 2:
        entry.data = part;
        break;
      default:
        entry.control = part & 1;
        if (entry.control == 0 && entry.pending) deliver_msix(static_cast<unsigned>(entry_index));
        break;
    }
  }
}

}  // namespace ukernel::hosted
