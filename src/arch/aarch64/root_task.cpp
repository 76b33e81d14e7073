// What booting the root task (src/arch/baremetal/kernel_main.cpp) needs from QEMU virt: the
// device regions handed to the root task.
//
// Device memory: the device tree's PL011 and PL031 pages, then the PCIe host's ECAM and memory
// windows, become device untyped for the root task (after the RAM blocks), the only way a
// device's registers reach user space.
#include <array>
#include <span>

#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/interrupts.hpp"
#include "arch/machine.hpp"
#include "arch/root_task.hpp"
#include "core/kernel.hpp"
#include "ukernel/fdt.hpp"

namespace ukernel::aarch64 {
namespace {

constexpr bool outside(const core::MemoryRegion& r, word begin, word size) {
  return r.paddr + r.size <= begin || r.paddr >= begin + size;
}

// The PL011 (the example system's console driver is granted it; the kernel only writes its data
// register, console.cpp) and the PL031 real-time clock: one page each, below RAM. The GIC and
// its v2m frame are the kernel's alone, so no thread can reprogram them.
core::MemoryRegion simple_region(const fdt::SimpleDevice& device) {
  if (!device.present || device.registers.base % kPageSize != 0 ||
      device.registers.base + kPageSize > kRamBase)
    return {};
  return {device.registers.base, kPageSize};
}

// The PCIe host's ECAM and memory windows from the device tree (QEMU virt with highmem: ECAM at
// 0x4010000000, 256 MiB; 32-bit window 0x10000000, 0x2eff0000 bytes; 64-bit window
// 0x8000000000, 512 GiB); CPU address = PCI address on virt, and a window that differs is left
// out. Each must lie outside RAM, the kernel's devices and the simple devices' pages.
std::array<core::MemoryRegion, 5> device_regions;
struct PciRegions {
  core::MemoryRegion ecam, mmio32, mmio64;
};

bool outside_kernel(const core::MemoryRegion& r) {
  const fdt::Platform* p = platform();
  if (p == nullptr) return false;
  bool ok = outside(r, ram_base(), ram_size()) && outside(r, p->gic.distributor.base, 0x10000) &&
            outside(r, p->gic.cpu_interface.base, 0x10000);
  for (const fdt::SimpleDevice* d : {&p->uart, &p->rtc})
    if (d->present) ok = ok && outside(r, d->registers.base, kPageSize);
  if (p->gic.has_v2m) ok = ok && outside(r, p->gic.v2m.base, kPageSize);
  return ok && r.size != 0 && r.paddr % kPageSize == 0;
}

PciRegions pci_regions() {
  PciRegions out{};
  const fdt::Platform* p = platform();
  if (p == nullptr || !p->pci.present) return out;
  out.ecam = {p->pci.ecam.base, p->pci.ecam.size};
  for (std::size_t i = 0; i < p->pci.window_count; ++i) {
    const fdt::PciWindow& w = p->pci.windows[i];
    if (w.cpu_address != w.pci_address) continue;
    if (w.space == fdt::PciWindow::Space::kMemory32 && out.mmio32.size == 0)
      out.mmio32 = {w.cpu_address, w.size};
    if (w.space == fdt::PciWindow::Space::kMemory64 && out.mmio64.size == 0)
      out.mmio64 = {w.cpu_address, w.size};
  }
  if (!outside_kernel(out.ecam)) return {};
  if (!outside_kernel(out.mmio32)) out.mmio32 = {};
  if (!outside_kernel(out.mmio64)) out.mmio64 = {};
  return out;
}

}  // namespace
}  // namespace ukernel::aarch64

namespace ukernel::baremetal {

void print_boot_details() {
  using namespace aarch64;
  PciRegions pci = pci_regions();
  unsigned line = 0;
  word address = 0, data = 0;
  while (line < kIrqLines && !gic_msi_message(line, address, data))
    ++line;
  print("PCI: ECAM ", hex(pci.ecam.paddr), ", 32-bit window ", hex(pci.mmio32.paddr), "+",
        hex(pci.mmio32.size), ", 64-bit window ", hex(pci.mmio64.paddr), "+", hex(pci.mmio64.size),
        "; MSI lines from ", line, " (GICv2m ", hex(address), ")\n");
}

std::span<const core::MemoryRegion> root_device_regions() {
  using namespace aarch64;
  std::size_t count = 0;
  const fdt::Platform* p = platform();
  if (p != nullptr) {
    for (const fdt::SimpleDevice* d : {&p->uart, &p->rtc}) {
      core::MemoryRegion r = simple_region(*d);
      if (r.size != 0) device_regions[count++] = r;
    }
  }
  PciRegions pci = pci_regions();
  for (const core::MemoryRegion& r : {pci.ecam, pci.mmio32, pci.mmio64})
    if (r.size != 0) device_regions[count++] = r;
  return std::span<const core::MemoryRegion>(device_regions.data(), count);
}

// Nothing runs before the kernel on virt: the PCI server assigns the BARs from the windows.
BootInfo::PciHost root_pci_host() {
  using namespace aarch64;
  PciRegions pci = pci_regions();
  const fdt::Platform* p = platform();
  if (pci.ecam.size == 0 || p == nullptr) return {};
  BootInfo::PciHost host{};
  host.ecam_paddr = pci.ecam.paddr;
  host.ecam_size = pci.ecam.size;
  host.bus_first = p->pci.bus_first;
  host.bus_last = p->pci.bus_last;
  host.mmio_paddr = pci.mmio32.paddr;
  host.mmio_size = pci.mmio32.size;
  host.mmio64_paddr = pci.mmio64.paddr;
  host.mmio64_size = pci.mmio64.size;
  host.firmware_assigned = 0;
  return host;
}

}  // namespace ukernel::baremetal
