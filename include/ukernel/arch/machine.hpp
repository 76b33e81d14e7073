// The architecture contract: what a back-end provides to the kernel core.
//
// The core is written once and compiled once per back-end. It reaches the back-end only through
// the header <arch/machine.hpp>, which every back-end provides at the same path (its own
// include directory is on the include path of that build), and which defines
// `ukernel::arch::Machine`. The core `static_assert`s that type against `Backend` below, so a
// back-end that misses part of the contract fails to compile with the name of the missing piece.
//
// How control flows (the same on every back-end):
//   trap/system call -> back-end saves the user registers into the current thread's Context
//   -> core handles the event and picks the thread to run (it may be another one)
//   -> back-end restores that thread's Context and returns to user mode.
// The kernel is event-driven and keeps no state on a kernel stack between entries, so a blocked
// thread is entirely described by its Context and its kernel object.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ukernel/abi.hpp"

namespace ukernel::arch {

// A thread's saved user-mode register file, with typed access to the system-call registers.
template <class C>
concept UserContext = requires(C& ctx, const C& cctx, SysReg r, std::size_t i, word w) {
  // Message words that travel in registers (the rest go through the IPC buffer): 4 to 6.
  requires C::kMessageRegisters >= 4 && C::kMessageRegisters <= 6;
  // How many general registers read_registers/write_registers expose.
  { C::kRegisterCount } -> std::convertible_to<std::size_t>;
  { cctx.get(r) } -> std::same_as<word>;
  { ctx.set(r, w) } -> std::same_as<void>;
  { cctx.instruction_pointer() } -> std::same_as<word>;
  { cctx.stack_pointer() } -> std::same_as<word>;
  // Entering user mode: a fresh register file that starts at `ip` with stack `sp` and `arg` in
  // the first argument register.
  { ctx.start(w, w, w) } -> std::same_as<void>;
  // Where the thread's IPC buffer is mapped in its space (0: none), set by kThreadConfigure and
  // kept across start(); a back-end whose user library finds the buffer through a thread
  // register (x86-64: the FS base) loads it from here.
  { ctx.set_ipc_buffer_address(w) } -> std::same_as<void>;
  // The thread is gone: free anything the back-end keeps for it.
  { ctx.release() } -> std::same_as<void>;
  { cctx.reg(i) } -> std::same_as<word>;
  { ctx.set_reg(i, w) } -> std::same_as<void>;
};

// The hardware translation of one address space (page tables, or their hosted emulation).
// It is built in place inside the AddressSpace object, and takes its table memory from the pool
// that follows the object's header (pool: kernel pointer, size in bytes, physical address).
template <class P>
concept PageTable = std::constructible_from<P, void*, std::size_t, word> &&
    requires(P& pt, const P& cpt, word vaddr, word paddr, Rights rights) {
  // Maps one page; false if the back-end cannot (the core checks alignment and overlap first).
  { pt.map(vaddr, paddr, rights) } -> std::same_as<bool>;
  // As map(), uncached: RAM a device reads and writes without snooping the CPU's caches (a
  // frame retyped with FrameAttributes::kUncached). Never executable.
  { pt.map_uncached(vaddr, paddr, rights) } -> std::same_as<bool>;
  { pt.unmap(vaddr) } -> std::same_as<void>;
  // Physical address mapped at `vaddr` (any byte of the page), or kNoPhysical.
  { cpt.lookup(vaddr) } -> std::same_as<word>;
};

// I/O ports (x86-64 `in`/`out`). A back-end states whether it has them; one that does provides
// the accesses, which the core makes only for a thread holding an IoPorts capability for the
// port (the core guarantees port + width <= kIoPortCount and width 1, 2 or 4). The core tests
// kHasIoPorts with `if constexpr`, so a back-end without ports needs no stubs.
template <class M>
concept IoPortAccessors = requires(std::uint16_t port, unsigned width, word value) {
  { M::io_read(port, width) } -> std::same_as<word>;
  { M::io_write(port, width, value) } -> std::same_as<void>;
};
template <class M>
concept IoPortAccess = std::same_as<decltype(M::kHasIoPorts), const bool> &&
    (!M::kHasIoPorts || IoPortAccessors<M>);

// Device memory (MMIO: physical ranges that are not RAM). A back-end that hands device regions to
// the root task (BootConfig::device_regions, which become device untyped memory) maps frames made
// from them with device attributes (x86-64: uncached) through map_device; the core calls it only
// when kHasDeviceMemory, for frames of device memory, so a back-end without any needs no stub.
template <class P>
concept DevicePageTable = requires(P& pt, word vaddr, word paddr, Rights rights) {
  { pt.map_device(vaddr, paddr, rights) } -> std::same_as<bool>;
};
template <class M>
concept DeviceMemory = std::same_as<decltype(M::kHasDeviceMemory), const bool> &&
    (!M::kHasDeviceMemory || DevicePageTable<typename M::PageTable>);

template <class M>
concept Backend = requires(std::string_view text, word paddr, unsigned line, word& address,
                           word& data, typename M::PageTable& pt, std::uint64_t ns) {
  requires UserContext<typename M::Context>;
  requires PageTable<typename M::PageTable>;
  requires IoPortAccess<M>;
  requires DeviceMemory<M>;
  // Whether the kernel core records its event trace in this build (core/kernel.hpp): off, the
  // recording points compile to nothing, so an untraced image pays not even a branch.
  requires std::same_as<decltype(M::kTrace), const bool>;
  // A word as the trace records it: the same value on every run of the same system (identity on
  // bare metal; hosted writes a host address inside a server image relative to the image).
  { M::trace_word(paddr) } -> std::same_as<word>;
  // Page size of the translation hardware; frames are multiples of it.
  requires M::kPageSize >= 4096;
  // User virtual addresses are below this.
  { M::kUserSpaceEnd } -> std::convertible_to<word>;
  // Interrupt lines the back-end can route to IrqHandler objects.
  { M::kIrqLines } -> std::convertible_to<unsigned>;
  // Address-space switch.
  { M::activate(pt) } -> std::same_as<void>;
  // The kernel's view of physical memory (object memory, IPC buffers).
  { M::kernel_pointer(paddr) } -> std::same_as<void*>;
  // Interrupt control for device lines; the timer is separate.
  { M::irq_mask(line) } -> std::same_as<void>;
  { M::irq_unmask(line) } -> std::same_as<void>;
  // The MSI message (address, data) that raises `line`; false if the line cannot be raised by
  // message on this machine.
  { M::msi_message(line, address, data) } -> std::same_as<bool>;
  // A line that is a timer the kernel owns: one interrupt at `ns` of now_ns()'s clock (0:
  // none). False for any other line (kIrqHandlerSetDeadline answers kIllegalOperation).
  { M::irq_set_deadline(line, ns) } -> std::same_as<bool>;
  // Ends the machine with a normal power-off; false (and nothing happens) if the kernel cannot.
  { M::power_off() } -> std::same_as<bool>;
  // Timer: monotonic time, and a one-shot interrupt at an absolute time (0 disarms).
  { M::now_ns() } -> std::same_as<std::uint64_t>;
  { M::timer_arm(ns) } -> std::same_as<void>;
  // The back-end's cycle-counter ticks spent halted waiting for an interrupt since boot, which
  // kDebugWrite returns (a benchmark under QEMU's -icount subtracts them; 0 if it never halts).
  { M::idle_ticks() } -> std::same_as<word>;
  // Early console, for the kernel's own messages (boot and kernel bugs only).
  { M::console_write(text) } -> std::same_as<void>;
};

}  // namespace ukernel::arch
