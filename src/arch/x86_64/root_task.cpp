// What booting the root task (src/arch/baremetal/kernel_main.cpp) needs from a PC: the device
// regions handed to the root task, and the banner's PCID line.
//
// Device memory: the regions of kDeviceRegions become device untyped for the root task (after
// the RAM blocks), the only way a device's registers reach user space.
#include <array>
#include <span>

#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/interrupts.hpp"
#include "arch/machine.hpp"
#include "arch/root_task.hpp"
#include "core/kernel.hpp"

namespace ukernel::x86 {
namespace {

// Device regions handed to the root task, from ACPI (platform_tables()): the HPET's registers
// (0xfed00000 on QEMU's pc and q35), each MCFG ECAM window (q35: 0xb0000000, 256 MiB), so a
// PCI server can map config space, and the 32-bit PCI memory window (pci_window()), where the
// firmware put the BARs. The kernel's own devices, the local APIC and the I/O APICs, are never
// among them, so no thread can reprogram them.
constexpr bool outside(const core::MemoryRegion& r, word begin, word size) {
  return r.paddr + r.size <= begin || r.paddr >= begin + size;
}
std::array<core::MemoryRegion, 2 + acpi::kMaxEcamSegments> device_regions;

// Where the chipset stops forwarding memory cycles to PCI: the I/O APIC, HPET and local APIC
// live from here up, and the firmware's ROM at the top (the PC's "PCI hole" ends here).
constexpr word kPciHoleEnd = 0xfec00000;
constexpr word kWindowAlign = word{1} << 20;

// The 32-bit PCI memory window: the highest range below kPciHoleEnd that holds neither RAM nor
// anything else the memory map lists, nor an ECAM window, nor the kernel's devices. SeaBIOS
// assigns q35's 32-bit BARs upward from the end of the ECAM window (0xc0000000), so on QEMU this
// is 0xc0000000..0xfec00000 and contains them. Empty (size 0) if nothing is left.
core::MemoryRegion pci_window() {
  const acpi::Tables& acpi = platform_tables();
  word low = 0;  // the window's start: above everything excluded below kPciHoleEnd
  auto exclude = [&](word begin, word size) {
    if (size == 0 || begin >= kPciHoleEnd) return;
    word end = begin + size;
    if (end > low) low = end;
  };
  for (const MemoryRegion& m : boot_memory_map())
    exclude(m.base, m.size);
  for (std::size_t i = 0; i < acpi.ecam_count; ++i)
    exclude(acpi.ecam[i].base, acpi.ecam[i].size());
  exclude(acpi.madt.local_apic_address, kPageSize);
  for (std::size_t i = 0; i < acpi.madt.io_apic_count; ++i)
    exclude(acpi.madt.io_apics[i].address, kPageSize);
  if (acpi.hpet.present) exclude(acpi.hpet.address, kPageSize);
  low = (low + kWindowAlign - 1) & ~(kWindowAlign - 1);
  if (low >= kPciHoleEnd) return {0, 0};
  return {low, kPciHoleEnd - low};
}

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
  core::MemoryRegion window = pci_window();
  print("PCI: 32-bit window ", hex(window.paddr), "..", hex(window.paddr + window.size),
        ", MSI lines ", kWiredLines, "..", kIrqLines - 1, ", ",
        platform_tables().madt.override_count, " interrupt source overrides\n");
}

// The device regions that are not RAM on this machine and not the kernel's own devices (a
// memory map or table that says otherwise is wrong: the region is left out rather than handed
// out twice).
std::span<const core::MemoryRegion> root_device_regions() {
  using namespace x86;
  const acpi::Tables& acpi = platform_tables();
  std::array<core::MemoryRegion, 2 + acpi::kMaxEcamSegments> candidates;
  std::size_t candidate_count = 0;
  if (acpi.hpet.present) candidates[candidate_count++] = {acpi.hpet.address, kPageSize};
  for (std::size_t i = 0; i < acpi.ecam_count; ++i)
    candidates[candidate_count++] = {acpi.ecam[i].base, acpi.ecam[i].size()};
  if (acpi.ecam_count != 0) {
    core::MemoryRegion window = pci_window();
    if (window.size != 0) candidates[candidate_count++] = window;
  }
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

// The first MCFG segment's host bridge (segment groups other than 0 are not supported: QEMU
// has one). q35's BARs were assigned by SeaBIOS; the 64-bit window is not reported, because
// only AML (_CRS) says where it is.
BootInfo::PciHost root_pci_host() {
  using namespace x86;
  const acpi::Tables& acpi = platform_tables();
  if (acpi.ecam_count == 0) return {};
  const acpi::EcamSegment& ecam = acpi.ecam[0];
  core::MemoryRegion window = pci_window();
  BootInfo::PciHost host{};
  host.ecam_paddr = ecam.base + (word{ecam.bus_first} << 20);
  host.ecam_size = ecam.size();
  host.bus_first = ecam.bus_first;
  host.bus_last = ecam.bus_last;
  host.mmio_paddr = window.paddr;
  host.mmio_size = window.size;
  host.firmware_assigned = 1;
  return host;
}

}  // namespace ukernel::baremetal
