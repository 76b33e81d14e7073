// A PCI function's type-0 configuration space (see include/ukernel/hosted/pci_function.hpp).
#include "ukernel/hosted/pci_function.hpp"

namespace ukernel::hosted {

namespace {

constexpr word kCommand = 0x04;
constexpr word kStatus = 0x06;
constexpr word kBar0 = 0x10;
constexpr word kCapabilitiesPointer = 0x34;
constexpr word kInterruptLine = 0x3c;
constexpr std::uint16_t kWritableCommandBits = (1u << 1) | (1u << 2) | (1u << 10);
constexpr std::uint16_t kMsixWritableBits = (1u << 15) | (1u << 14);

}  // namespace

PciFunction::PciFunction(const PciIdentity& identity) {
  store(0x00, 2, identity.vendor);
  store(0x02, 2, identity.device);
  store(0x08, 1, identity.revision);
  store(0x09, 1, identity.programming_interface);
  store(0x0a, 1, identity.subclass);
  store(0x0b, 1, identity.class_code);
  store(0x0e, 1, 0);  // header type 0, single function
  store(0x2c, 2, identity.subsystem_vendor);
  store(0x2e, 2, identity.subsystem);
  store(0x3d, 1, identity.interrupt_pin);
}

void PciFunction::store(word offset, unsigned width, word value) {
  for (unsigned i = 0; i < width; ++i)
    bytes_[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

void PciFunction::add_memory_bar(unsigned index, word size, bool is_64bit, MmioDevice& device) {
  bars_[index] = {size, is_64bit, false, 0, &device};
  if (is_64bit && index + 1 < bars_.size()) bars_[index + 1] = {0, false, true, 0, nullptr};
}

word PciFunction::add_capability(std::uint8_t id, const std::vector<std::uint8_t>& body) {
  const word at = next_capability_at_;
  store(at, 1, id);
  store(at + 1, 1, 0);
  for (std::size_t i = 0; i < body.size(); ++i)
    bytes_[at + 2 + i] = body[i];
  if (last_capability_ == 0) {
    store(kCapabilitiesPointer, 1, at);
    store(kStatus, 2, config_read(kStatus, 2) | (1u << 4));
  } else {
    store(last_capability_ + 1, 1, at);
  }
  last_capability_ = at;
  next_capability_at_ = (at + 2 + body.size() + 3) & ~word{3};
  return at;
}

word PciFunction::add_msix_capability(unsigned entries, unsigned bar, word table_offset,
                                      word pba_offset) {
  const word control = (entries - 1) & 0x7ff;
  const word table = table_offset | bar;
  const word pba = pba_offset | bar;
  msix_capability_ = add_capability(
      0x11, {static_cast<std::uint8_t>(control), static_cast<std::uint8_t>(control >> 8),
             static_cast<std::uint8_t>(table), static_cast<std::uint8_t>(table >> 8),
             static_cast<std::uint8_t>(table >> 16), static_cast<std::uint8_t>(table >> 24),
             static_cast<std::uint8_t>(pba), static_cast<std::uint8_t>(pba >> 8),
             static_cast<std::uint8_t>(pba >> 16), static_cast<std::uint8_t>(pba >> 24)});
  return msix_capability_;
}

word PciFunction::bar_register(unsigned index) const {
  const Bar& bar = bars_[index];
  if (bar.upper_half) {
    const Bar& lower = bars_[index - 1];
    return (lower.address & ~(lower.size - 1)) >> 32;
  }
  if (bar.size == 0) return 0;
  return (bar.address & 0xffffffff & ~(bar.size - 1)) | (bar.is_64bit ? 0x4 : 0x0);
}

word PciFunction::config_read(word offset, unsigned width) const {
  if (offset >= kConfigBytes || width > kConfigBytes - offset) return (word{1} << (8 * width)) - 1;
  word value = 0;
  for (unsigned i = 0; i < width; ++i) {
    const word at = offset + i;
    word byte = bytes_[at];
    if (at >= kBar0 && at < kBar0 + 24) {
      const auto index = static_cast<unsigned>((at - kBar0) / 4);
      byte = (bar_register(index) >> (8 * ((at - kBar0) % 4))) & 0xff;
    }
    value |= byte << (8 * i);
  }
  return value;
}

void PciFunction::write_bar(unsigned index, std::uint32_t value) {
  Bar& bar = bars_[index];
  if (bar.upper_half) {
    Bar& lower = bars_[index - 1];
    lower.address = (lower.address & 0xffffffff) | (word{value} << 32);
    return;
  }
  if (bar.size == 0) return;
  // Writing all ones probes the size: the address bits below the size read back as zero, which
  // masking with ~(size - 1) does for any value.
  bar.address = (bar.address & ~word{0xffffffff}) | (value & ~word{0xf});
}

void PciFunction::config_write(word offset, unsigned width, word value) {
  if (offset >= kConfigBytes || width > kConfigBytes - offset) return;
  const bool touches_command = offset <= kCommand + 1 && offset + width > kCommand;
  for (unsigned i = 0; i < width; ++i) {
    const word at = offset + i;
    const auto byte = static_cast<std::uint8_t>(value >> (8 * i));
    if (at == kCommand || at == kCommand + 1) {
      const unsigned shift = at == kCommand ? 0 : 8;
      const auto mask = static_cast<std::uint8_t>(kWritableCommandBits >> shift);
      bytes_[at] = byte & mask;
    } else if (at >= kBar0 && at < kBar0 + 24) {
      const auto index = static_cast<unsigned>((at - kBar0) / 4);
      const unsigned shift = static_cast<unsigned>(8 * ((at - kBar0) % 4));
      auto current = static_cast<std::uint32_t>(bar_register(index));
      if (bars_[index].size != 0 && !bars_[index].upper_half)
        current = static_cast<std::uint32_t>(bars_[index].address);
      current = (current & ~(0xffu << shift)) | (std::uint32_t{byte} << shift);
      write_bar(index, current);
    } else if (at == kInterruptLine) {
      bytes_[at] = byte;
    } else if (msix_capability_ != 0 &&
               (at == msix_capability_ + 2 || at == msix_capability_ + 3)) {
      const unsigned shift = at == msix_capability_ + 2 ? 0 : 8;
      const auto mask = static_cast<std::uint8_t>(kMsixWritableBits >> shift);
      bytes_[at] = static_cast<std::uint8_t>((bytes_[at] & ~mask) | (byte & mask));
    }
    // Everything else is read-only.
  }
  if (touches_command) command_writes_.push_back(command());
}

std::uint16_t PciFunction::command() const {
  return static_cast<std::uint16_t>(config_read(kCommand, 2));
}

bool PciFunction::msix_enabled() const {
  return msix_capability_ != 0 && (config_read(msix_capability_ + 2, 2) & (1u << 15)) != 0;
}

bool PciFunction::msix_function_masked() const {
  return msix_capability_ != 0 && (config_read(msix_capability_ + 2, 2) & (1u << 14)) != 0;
}

std::vector<DecodedBar> PciFunction::decoded_bars() const {
  std::vector<DecodedBar> decoded;
  if ((command() & (1u << 1)) == 0) return decoded;
  for (unsigned i = 0; i < bars_.size(); ++i) {
    const Bar& bar = bars_[i];
    if (bar.size == 0 || bar.upper_half) continue;
    const word base = bar.address & ~(bar.size - 1) & ~word{0xf};
    // An unassigned BAR (0) or one left holding the probe pattern decodes nothing.
    if (base == 0 || (base | (bar.size - 1) | 0xf) == (bar.is_64bit ? ~word{0} : 0xffffffff))
      continue;
    decoded.push_back({i, base, bar.size, bar.device});
  }
  return decoded;
}

}  // namespace ukernel::hosted
