// What booting the root task (src/arch/baremetal/kernel_main.cpp) needs from a PC: the device
// regions handed to the root task, and the banner's PCID line.
//
// Device memory: the regions of kDeviceRegions become device untyped for the root task (after
// the RAM blocks), the only way a device's registers reach user space.
#include <array>
#include <span>

#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/machine.hpp"
#include "arch/root_task.hpp"
#include "core/kernel.hpp"

namespace ukernel::x86 {
namespace {

// Device regions handed to the root task, from ACPI (platform_tables()): the HPET's registers
// (0xfed00000 on QEMU's pc and q35) and each MCFG ECAM window (q35: 0xb0000000, 256 MiB), so a
// PCI server can map config space. The kernel's own devices, the local APIC and the I/O APICs,
// are never among them, so no thread can reprogram them.
constexpr bool outside(const core::MemoryRegion& r, word begin, word size) {
  return r.paddr + r.size <= begin || r.paddr >= begin + size;
}
std::array<core::MemoryRegion, 1 + acpi::kMaxEcamSegments> device_regions;

}  // namespace
}  // namespace ukernel::x86

namespace ukernel::baremetal {

void print_boot_details() {
  using namespace x86;
  PcidSupport pcids = pcid_support();
  print("address spaces: PCIDs ",
        pcids.pcid ? (pcids.invpcid ? "on, INVPCID" : "on, no INVPCID") : "off (the CPU has none)",
        "\n");
  const acpi::Tables& acpi = platform_tables();
  print("ACPI: I/O APIC ", hex(acpi.madt.io_apics[0].address), ", local APIC ",
        hex(acpi.madt.local_apic_address), ", HPET ", hex(acpi.hpet.address), ", ECAM ",
        hex(acpi.ecam_count == 0 ? 0 : acpi.ecam[0].base), "\n");
}

// The device regions that are not RAM on this machine and not the kernel's own devices (a
// memory map or table that says otherwise is wrong: the region is left out rather than handed
// out twice).
std::span<const core::MemoryRegion> root_device_regions() {
  using namespace x86;
  const acpi::Tables& acpi = platform_tables();
  std::array<core::MemoryRegion, 1 + acpi::kMaxEcamSegments> candidates;
  std::size_t candidate_count = 0;
  if (acpi.hpet.present) candidates[candidate_count++] = {acpi.hpet.address, kPageSize};
  for (std::size_t i = 0; i < acpi.ecam_count; ++i)
    candidates[candidate_count++] = {acpi.ecam[i].base, acpi.ecam[i].size()};
  std::size_t count = 0;
  for (std::size_t c = 0; c < candidate_count; ++c) {
    const core::MemoryRegion& device = candidates[c];
    if (device.paddr % kPageSize != 0) continue;
    bool usable = outside(device, acpi.madt.local_apic_address, kPageSize);
    for (std::size_t i = 0; i < acpi.madt.io_apic_count; ++i)
      usable &= outside(device, acpi.madt.io_apics[i].address, kPageSize);
    for (const MemoryRegion& m : boot_memory_map())
      usable &= m.type != kMemoryRam || outside(device, m.base, m.size);
    if (usable) device_regions[count++] = device;
  }
  return std::span<const core::MemoryRegion>(device_regions.data(), count);
}

}  // namespace ukernel::baremetal
