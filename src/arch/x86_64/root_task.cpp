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

// Device regions handed to the root task: the HPET's registers (QEMU's pc and q35 machines, and
// PCs generally, put them at 0xfed00000). The kernel's own devices, the local APIC (0xfee00000)
// and the I/O APIC (0xfec00000), are not among them, so no thread can reprogram them.
constexpr std::array<core::MemoryRegion, 1> kDeviceRegions = {{{0xfed00000, kPageSize}}};
constexpr bool outside(const core::MemoryRegion& r, word begin, word size) {
  return r.paddr + r.size <= begin || r.paddr >= begin + size;
}
static_assert(outside(kDeviceRegions[0], 0xfee00000, kPageSize) &&
              outside(kDeviceRegions[0], 0xfec00000, kPageSize));
std::array<core::MemoryRegion, kDeviceRegions.size()> device_regions;

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

// The device regions that are not RAM on this machine (a memory map that reports one as RAM
// is wrong, or the machine is not a PC: the region is left out rather than handed out twice).
std::span<const core::MemoryRegion> root_device_regions() {
  using namespace x86;
  std::size_t count = 0;
  for (const core::MemoryRegion& device : kDeviceRegions) {
    bool is_ram = false;
    for (const MemoryRegion& m : boot_memory_map())
      is_ram |= m.type == kMemoryRam && !outside(device, m.base, m.size);
    if (!is_ram) device_regions[count++] = device;
  }
  return std::span<const core::MemoryRegion>(device_regions.data(), count);
}

}  // namespace ukernel::baremetal
