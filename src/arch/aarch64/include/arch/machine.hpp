// The AArch64 back-end's side of the architecture contract (ukernel/arch/machine.hpp).
//
// Each function forwards to the subsystem that implements it; the header stays small so that the
// core sees only the contract. See docs/aarch64.md for the memory map and register ABI.
#pragma once

#include <cstdint>
#include <string_view>

#include "arch/console.hpp"
#include "arch/context.hpp"
#include "arch/memory.hpp"
#include "arch/page_table.hpp"
#include "arch/trace_build.hpp"
#include "ukernel/arch/machine.hpp"

namespace ukernel::aarch64 {
void activate(PageTable& page_table);
void irq_mask(unsigned line);
void irq_unmask(unsigned line);
bool irq_msi_message(unsigned line, word& address, word& data);
std::uint64_t now_ns();
// Ticks of the virtual counter the kernel spent halted in idle() since boot (traps.cpp).
word idle_ticks();
void timer_arm_ns(std::uint64_t deadline_ns);
bool irq_set_deadline(unsigned line, std::uint64_t deadline_ns);
bool power_off();
}  // namespace ukernel::aarch64

namespace ukernel::arch {

struct Machine {
  using Context = aarch64::Context;
  using PageTable = aarch64::PageTable;
  static constexpr word kPageSize = aarch64::kPageSize;
  static constexpr word kUserSpaceEnd = aarch64::kUserEnd;
  // SPIs 0..111, then the deadline line (the EL1 physical timer, arch/interrupts.hpp).
  static constexpr unsigned kIrqLines = 113;
  static constexpr bool kHasIoPorts = false;      // devices are memory-mapped
  static constexpr bool kHasDeviceMemory = true;  // PageTable::map_device: Device-nGnRnE
  // A kernel trace only in images built for one (arch/trace_build.hpp); in the others the
  // recording points compile to nothing (core/kernel.hpp).
  static constexpr bool kTrace = baremetal::kTraceBuild;
  // Addresses are the same on every run: recorded as they are.
  static word trace_word(word value) { return value; }

  static void activate(PageTable& page_table) { aarch64::activate(page_table); }
  static void* kernel_pointer(word paddr) { return aarch64::physical_to_virtual(paddr); }
  static void irq_mask(unsigned line) { aarch64::irq_mask(line); }
  static void irq_unmask(unsigned line) { aarch64::irq_unmask(line); }
  static bool msi_message(unsigned line, word& address, word& data) {
    return aarch64::irq_msi_message(line, address, data);
  }
  static bool irq_set_deadline(unsigned line, std::uint64_t deadline_ns) {
    return aarch64::irq_set_deadline(line, deadline_ns);
  }
  static bool power_off() { return aarch64::power_off(); }
  static std::uint64_t now_ns() { return aarch64::now_ns(); }
  static word idle_ticks() { return aarch64::idle_ticks(); }
  static void timer_arm(std::uint64_t deadline_ns) { aarch64::timer_arm_ns(deadline_ns); }
  static void console_write(std::string_view text) { aarch64::console_write(text); }
};

static_assert(Backend<Machine>, "the AArch64 back-end does not satisfy arch::Backend");

}  // namespace ukernel::arch
