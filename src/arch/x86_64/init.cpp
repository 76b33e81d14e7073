// x86_boot(): machine initialisation in dependency order (see arch/boot.hpp).
#include <cstdint>

#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/fpu.hpp"
#include "arch/interrupts.hpp"
#include "arch/page_table.hpp"
#include "cpu.hpp"
#include "cpu_local.hpp"
#include "paging.hpp"

namespace ukernel::x86 {

namespace {

CpuFeatures features;

constexpr std::uint64_t kCr4Smep = 1u << 20;
constexpr std::uint64_t kCr4Smap = 1u << 21;

void protection_init() {
  // User threads may use x87/SSE/AVX, switched lazily (arch/fpu.hpp); the kernel itself is
  // built -mgeneral-regs-only.
  fpu_init();
  std::uint64_t cr4 = read_cr4();
  CpuidResult leaf7 = cpuid(0).eax >= 7 ? cpuid(7) : CpuidResult{};
  features.smep = (leaf7.ebx & (1u << 7)) != 0;
  features.smap = (leaf7.ebx & (1u << 20)) != 0;
  features.pcid = (cpuid(1).ecx & (1u << 17)) != 0;
  // The kernel never executes or touches user pages through user addresses (it uses the direct
  // map), so both can be on unconditionally.
  if (features.smep) cr4 |= kCr4Smep;
  if (features.smap) cr4 |= kCr4Smap;
  write_cr4(cr4);
  pcid_init();  // CR3's low 12 bits are still 0 (the boot tables), as CR4.PCIDE needs
  features.nx = (rdmsr(msr::kEfer) & kEferNxe) != 0;
}

}  // namespace

CpuFeatures cpu_features() {
  return features;
}

}  // namespace ukernel::x86

extern "C" [[noreturn]] void x86_boot(std::uint64_t start_info_paddr) {
  using namespace ukernel::x86;
  serial_init();
  descriptors_init();
  protection_init();
  memory_init(start_info_paddr);
  pic_disable();
  lapic_init();
  ioapic_init();
  timer_calibrate();
  run_global_constructors();
  kernel_main();
}
