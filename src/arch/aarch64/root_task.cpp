// What booting the root task (src/arch/baremetal/kernel_main.cpp) needs from QEMU virt: the
// device regions handed to the root task.
//
// Device memory: the regions of kDeviceRegions become device untyped for the root task (after
// the RAM blocks), the only way a device's registers reach user space.
#include <array>
#include <span>

#include "arch/boot.hpp"
#include "arch/machine.hpp"
#include "arch/root_task.hpp"
#include "core/kernel.hpp"

namespace ukernel::aarch64 {
namespace {

// Device regions handed to the root task: the PL031 real-time clock's registers (QEMU virt,
// 0x09010000; its interrupt is SPI 2, line 2). The kernel's own devices, the GIC (0x08000000,
// 0x08010000) and the PL011 console (0x09000000), are not among them, so no thread can
// reprogram them.
constexpr std::array<core::MemoryRegion, 1> kDeviceRegions = {{{0x09010000, kPageSize}}};
constexpr bool outside(const core::MemoryRegion& r, word begin, word size) {
  return r.paddr + r.size <= begin || r.paddr >= begin + size;
}
static_assert(outside(kDeviceRegions[0], 0x08000000, 0x20000) &&
              outside(kDeviceRegions[0], 0x09000000, kPageSize) &&
              outside(kDeviceRegions[0], kRamBase, word{1} << 30));

}  // namespace
}  // namespace ukernel::aarch64

namespace ukernel::baremetal {

void print_boot_details() {}

std::span<const core::MemoryRegion> root_device_regions() {
  using namespace aarch64;
  return kDeviceRegions;
}

BootInfo::PciHost root_pci_host() {
  return {};  // not read from the device tree yet
}

}  // namespace ukernel::baremetal
