// AArch64 system registers, barriers and MMIO accessors used by the back-end (not by the core).
#pragma once

#include <cstdint>

#include "ukernel/abi.hpp"

// read_sysreg(tcr_el1), write_sysreg(tcr_el1, value): macros because the register name is part
// of the instruction.
#define UK_READ_SYSREG(name)                          \
  ({                                                  \
    ::ukernel::word uk_value_;                        \
    asm volatile("mrs %0, " #name : "=r"(uk_value_)); \
    uk_value_;                                        \
  })
#define UK_WRITE_SYSREG(name, value) \
  asm volatile("msr " #name ", %0" ::"r"(static_cast<::ukernel::word>(value)) : "memory")

namespace ukernel::aarch64 {

inline void isb() {
  asm volatile("isb" ::: "memory");
}
// Page-table writes become visible to the table walker (inner shareable domain).
inline void dsb_ishst() {
  asm volatile("dsb ishst" ::: "memory");
}
inline void dsb_ish() {
  asm volatile("dsb ish" ::: "memory");
}

inline std::uint32_t mmio_read32(word address) {
  std::uint32_t value;
  asm volatile("ldr %w0, [%1]" : "=r"(value) : "r"(address) : "memory");
  return value;
}
inline void mmio_write32(word address, std::uint32_t value) {
  asm volatile("str %w0, [%1]" ::"r"(value), "r"(address) : "memory");
}

}  // namespace ukernel::aarch64
