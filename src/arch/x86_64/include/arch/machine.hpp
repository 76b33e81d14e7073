// The x86-64 back-end's side of the architecture contract (ukernel/arch/machine.hpp).
//
// Each function forwards to the subsystem that implements it; the header stays small so that the
// core sees only the contract. See docs/x86_64.md for the memory map and register ABI.
#pragma once

#include <cstdint>
#include <string_view>

#include "arch/console.hpp"
#include "arch/context.hpp"
#include "arch/memory.hpp"
#include "arch/page_table.hpp"
#include "arch/trace_build.hpp"
#include "ukernel/arch/machine.hpp"

namespace ukernel::x86 {
void irq_mask(unsigned line);
void irq_unmask(unsigned line);
bool irq_msi_message(unsigned line, word& address, word& data);
std::uint64_t now_ns();
// Ticks of the TSC the kernel spent halted in idle() since boot (traps.cpp).
word idle_ticks();
void timer_arm_ns(std::uint64_t deadline_ns);
word io_read(std::uint16_t port, unsigned width);
void io_write(std::uint16_t port, unsigned width, word value);
}  // namespace ukernel::x86

namespace ukernel::arch {

struct Machine {
  using Context = x86::Context;
  using PageTable = x86::PageTable;
  static constexpr word kPageSize = x86::kPageSize;
  static constexpr word kUserSpaceEnd = x86::kUserEnd;
  // 24 I/O APIC inputs, then 32 lines raised only by MSI/MSI-X (arch/interrupts.hpp).
  static constexpr unsigned kIrqLines = 56;
  static constexpr bool kHasIoPorts = true;
  // Device regions (root_task.cpp) become device untyped; their frames map uncached.
  static constexpr bool kHasDeviceMemory = true;
  // A kernel trace only in images built for one (arch/trace_build.hpp); in the others the
  // recording points compile to nothing (core/kernel.hpp).
  static constexpr bool kTrace = baremetal::kTraceBuild;
  // Addresses are the same on every run: recorded as they are.
  static word trace_word(word value) { return value; }

  static void activate(PageTable& page_table) { page_table.activate(); }
  static void* kernel_pointer(word paddr) { return x86::physical_to_virtual(paddr); }
  static void irq_mask(unsigned line) { x86::irq_mask(line); }
  static void irq_unmask(unsigned line) { x86::irq_unmask(line); }
  static bool msi_message(unsigned line, word& address, word& data) {
    return x86::irq_msi_message(line, address, data);
  }
  // No line is a kernel timer (the PIT and the HPET are devices a driver is granted).
  static bool irq_set_deadline(unsigned, std::uint64_t) { return false; }
  // The supervisor powers off through its IoPorts capability for isa-debug-exit.
  static bool power_off() { return false; }
  static std::uint64_t now_ns() { return x86::now_ns(); }
  static word idle_ticks() { return x86::idle_ticks(); }
  static void timer_arm(std::uint64_t deadline_ns) { x86::timer_arm_ns(deadline_ns); }
  static void console_write(std::string_view text) { x86::console_write(text); }
  // `in`/`out` for a thread that holds an IoPorts capability (the core checked the range).
  static word io_read(std::uint16_t port, unsigned width) { return x86::io_read(port, width); }
  static void io_write(std::uint16_t port, unsigned width, word value) {
    x86::io_write(port, width, value);
  }
};

static_assert(Backend<Machine>, "the x86-64 back-end does not satisfy arch::Backend");

}  // namespace ukernel::arch
