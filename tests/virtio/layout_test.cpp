// parse_pci_layout against the virtio function model's configuration space, and against
// corrupted copies of it: every hostile capability list is refused with its own error.
#include <catch2/catch.hpp>

#include "virtio/test_bus.hpp"

namespace {

using ukernel::virtio::LayoutError;
using ukernel::virtio::PciLayout;
using virtio_test::BlkRig;

// The offset of the first capability with ID `id` and (for vendor capabilities) cfg_type.
std::size_t find_capability(const std::vector<std::uint8_t>& config, std::uint8_t id,
                            std::uint8_t type = 0) {
  for (std::size_t at = config[0x34]; at != 0; at = config[at + 1]) {
    if (config[at] == id && (id != 0x09 || config[at + 3] == type)) return at;
  }
  FAIL("capability not found");
  return 0;
}

LayoutError parse(const std::vector<std::uint8_t>& config, const BlkRig& rig, PciLayout& layout) {
  return ukernel::virtio::parse_pci_layout(config.data(), config.size(), rig.bar_sizes(), layout);
}

}  // namespace

TEST_CASE("the virtio-blk function's capabilities locate its four structures and MSI-X") {
  BlkRig rig;
  PciLayout layout;
  REQUIRE(rig.parse(layout) == LayoutError::kOk);
  using F = ukernel::hosted::VirtioPciFunction;
  CHECK(layout.device_type == 2);
  CHECK(layout.common.present);
  CHECK(layout.common.bar == 0);
  CHECK(layout.common.offset == F::kCommonOffset);
  CHECK(layout.common.length == F::kCommonBytes);
  CHECK(layout.isr.offset == F::kIsrOffset);
  CHECK(layout.device.offset == F::kDeviceOffset);
  CHECK(layout.notify.offset == F::kNotifyOffset);
  CHECK(layout.notify_off_multiplier == 4);
  REQUIRE(layout.msix.present);
  CHECK(layout.msix.table_size == 4);
  CHECK(layout.msix.table_offset == F::kMsixTableOffset);
  CHECK(layout.msix.pba_offset == F::kPbaOffset);
}

TEST_CASE("hostile capability lists are refused with a clear error") {
  BlkRig rig;
  std::vector<std::uint8_t> config = rig.config();
  PciLayout layout;

  SECTION("too short") {
    CHECK(ukernel::virtio::parse_pci_layout(config.data(), 32, rig.bar_sizes(), layout) ==
          LayoutError::kConfigTooShort);
  }
  SECTION("a transitional (legacy) device ID") {
    config[2] = 0x01;
    config[3] = 0x10;  // 0x1001
    CHECK(parse(config, rig, layout) == LayoutError::kNotModernVirtio);
  }
  SECTION("no capability list bit") {
    config[6] &= static_cast<std::uint8_t>(~0x10);
    CHECK(parse(config, rig, layout) == LayoutError::kNoCapabilityList);
  }
  SECTION("a pointer into the header") {
    config[0x34] = 0x20;
    CHECK(parse(config, rig, layout) == LayoutError::kCapabilityPointerBad);
  }
  SECTION("a loop in the list") {
    const std::size_t first = config[0x34];
    const std::size_t second = config[first + 1];
    config[second + 1] = static_cast<std::uint8_t>(first);
    CHECK(parse(config, rig, layout) == LayoutError::kCapabilityLoop);
  }
  SECTION("a capability running past the space") {
    const std::size_t common = find_capability(config, 0x09, 1);
    config[common + 2] = 8;  // cap_len shorter than virtio_pci_cap
    CHECK(parse(config, rig, layout) == LayoutError::kCapabilityTruncated);
  }
  SECTION("a structure outside its BAR") {
    const std::size_t device = find_capability(config, 0x09, 4);
    config[device + 8] = 0xf0;
    config[device + 9] = 0x7f;  // offset 0x7ff0, past the 32 KiB BAR with its length
    CHECK(parse(config, rig, layout) == LayoutError::kCapabilityOutsideBar);
  }
  SECTION("a huge length that would wrap") {
    const std::size_t notify = find_capability(config, 0x09, 2);
    for (int i = 12; i < 16; ++i)
      config[notify + i] = 0xff;
    CHECK(parse(config, rig, layout) == LayoutError::kCapabilityOutsideBar);
  }
  SECTION("a structure in a BAR that is not mapped") {
    const std::size_t isr = find_capability(config, 0x09, 3);
    config[isr + 4] = 2;
    CHECK(parse(config, rig, layout) == LayoutError::kBarNotMapped);
  }
  SECTION("a reserved BAR value is ignored, and then the ISR is missing") {
    const std::size_t isr = find_capability(config, 0x09, 3);
    config[isr + 4] = 7;
    CHECK(parse(config, rig, layout) == LayoutError::kMissingIsr);
  }
  SECTION("a common configuration too short for the transport") {
    const std::size_t common = find_capability(config, 0x09, 1);
    config[common + 12] = 0x10;
    CHECK(parse(config, rig, layout) == LayoutError::kStructureTooShort);
  }
  SECTION("no common configuration") {
    const std::size_t common = find_capability(config, 0x09, 1);
    config[common + 3] = 0x7f;  // an unknown cfg_type
    CHECK(parse(config, rig, layout) == LayoutError::kMissingCommon);
  }
  SECTION("a notification capability without its multiplier") {
    const std::size_t notify = find_capability(config, 0x09, 2);
    config[notify + 2] = 16;
    CHECK(parse(config, rig, layout) == LayoutError::kCapabilityTruncated);
  }
  SECTION("an MSI-X table past its BAR") {
    const std::size_t msix = find_capability(config, 0x11);
    config[msix + 2] = 0xff;
    config[msix + 3] = 0x07;  // 2048 entries: 32 KiB of table from 0x4000
    CHECK(parse(config, rig, layout) == LayoutError::kMsixOutsideBar);
  }
  CHECK(ukernel::virtio::describe(LayoutError::kCapabilityLoop) != std::string("unknown"));
}
