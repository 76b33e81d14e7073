// Device registers on bare metal (the API of src/arch/hosted/include/arch/user.hpp's
// mmio_read/mmio_write): a plain volatile access at the register's virtual address, which the
// thread mapped from a device frame (uncached / Device-nGnRnE). ukernel/mmio.hpp is the API
// drivers use. A width other than 1, 2, 4 or 8, or a misaligned register, is a bug in the
// driver: it traps (an undefined instruction), so the thread faults and its supervisor hears.
#pragma once

#include <cstdint>

#include "ukernel/abi.hpp"

namespace ukernel::arch {

inline bool mmio_access_ok(word vaddr, unsigned width) {
  return (width == 1 || width == 2 || width == 4 || width == 8) && vaddr % width == 0;
}

inline word mmio_read(word vaddr, unsigned width) {
  if (!mmio_access_ok(vaddr, width)) __builtin_trap();
  switch (width) {
    case 1:
      return *reinterpret_cast<const volatile std::uint8_t*>(vaddr);
    case 2:
      return *reinterpret_cast<const volatile std::uint16_t*>(vaddr);
    case 4:
      return *reinterpret_cast<const volatile std::uint32_t*>(vaddr);
    default:
      return *reinterpret_cast<const volatile std::uint64_t*>(vaddr);
  }
}

inline void mmio_write(word vaddr, unsigned width, word value) {
  if (!mmio_access_ok(vaddr, width)) __builtin_trap();
  switch (width) {
    case 1:
      *reinterpret_cast<volatile std::uint8_t*>(vaddr) = static_cast<std::uint8_t>(value);
      break;
    case 2:
      *reinterpret_cast<volatile std::uint16_t*>(vaddr) = static_cast<std::uint16_t>(value);
      break;
    case 4:
      *reinterpret_cast<volatile std::uint32_t*>(vaddr) = static_cast<std::uint32_t>(value);
      break;
    default:
      *reinterpret_cast<volatile std::uint64_t*>(vaddr) = value;
      break;
  }
}

}  // namespace ukernel::arch
