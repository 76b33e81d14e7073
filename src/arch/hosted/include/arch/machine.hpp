// The hosted back-end's Machine: the kernel core runs inside one Linux process, each user
// thread is a Boost.Context fiber, and time is a virtual clock.
//
// "Physical memory" is one host allocation; physical addresses are offsets into it from
// kPhysicalBase. Device memory is the device window above RAM: it has no host memory behind it,
// only the device models attached to it. Page tables are a real software table per address space (a
// hash table in the space's page-table pool): the bookkeeping is exact even though no hardware
// enforces it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ukernel/abi.hpp"

namespace ukernel::arch {

struct HostedFiber;  // the fiber running a thread (src/arch/hosted/fiber.cpp)

class HostedContext {
 public:
  static constexpr std::size_t kMessageRegisters = 4;
  static constexpr std::size_t kRegisterCount = 4 + kMessageRegisters;

  word get(SysReg r) const { return regs_[unsigned(r)]; }
  void set(SysReg r, word value) { regs_[unsigned(r)] = value; }
  word instruction_pointer() const { return ip_; }
  word stack_pointer() const { return sp_; }
  void start(word ip, word sp, word arg);
  void release();
  // The hosted user library finds the buffer through the current thread (arch/user.hpp).
  void set_ipc_buffer_address(word) {}
  word reg(std::size_t i) const { return i < kRegisterCount ? regs_[i] : 0; }
  void set_reg(std::size_t i, word value) {
    if (i < kRegisterCount) regs_[i] = value;
  }

  // The system-call registers, which the hosted user library reads and writes in place.
  word* registers() { return regs_; }
  word argument() const { return arg_; }
  // A hardware fault stopped the thread at `ip`.
  void stopped_at(word ip) { ip_ = ip; }
  HostedFiber* fiber = nullptr;

 private:
  word regs_[kRegisterCount] = {};
  word ip_ = 0;
  word sp_ = 0;
  word arg_ = 0;
};

// How a page is mapped: no hardware looks at it, but the record is exact (a test can see that a
// kUncached frame mapped uncached), and device pages are what user MMIO accesses go through.
enum class MemoryType : word { kCached = 0, kUncached = 1, kDevice = 2 };

class HostedPageTable {
 public:
  HostedPageTable(void* pool, std::size_t pool_bytes, word pool_paddr);
  bool map(word vaddr, word paddr, Rights rights) {
    return map_page(vaddr, paddr, rights, MemoryType::kCached);
  }
  bool map_uncached(word vaddr, word paddr, Rights rights) {
    return map_page(vaddr, paddr, rights, MemoryType::kUncached);
  }
  bool map_device(word vaddr, word paddr, Rights rights) {
    return map_page(vaddr, paddr, rights, MemoryType::kDevice);
  }
  void unmap(word vaddr);
  word lookup(word vaddr) const;

  // What `vaddr` translates to: its physical address (kNoPhysical if unmapped), rights and type.
  struct Translation {
    word paddr = kNoPhysical;
    Rights rights = Rights::kNone;
    MemoryType type = MemoryType::kCached;
  };
  Translation translate(word vaddr) const;

 private:
  struct Entry {
    word vpage;             // 0: free; 1: deleted
    word ppage_and_rights;  // rights in bits 0..2, the MemoryType in bits 3..4
  };
  bool map_page(word vaddr, word paddr, Rights rights, MemoryType type);
  Entry* find(word vpage) const;
  Entry* entries_ = nullptr;
  std::size_t capacity_ = 0;
};

struct Machine {
  using Context = HostedContext;
  using PageTable = HostedPageTable;
  static constexpr word kPageSize = 4096;
  static constexpr word kUserSpaceEnd = word{1} << 47;
  static constexpr unsigned kIrqLines = 32;
  static constexpr word kPhysicalBase = 0x100000;
  // No I/O ports: the hosted example system's devices are include/ukernel/hosted/devices.hpp.
  static constexpr bool kHasIoPorts = false;
  // Device memory: the device window (ukernel/hosted/devices.hpp) is device untyped in BootInfo;
  // a page mapped from it reaches the device model attached there (src/arch/hosted/bus.cpp).
  static constexpr bool kHasDeviceMemory = true;
  // The kernel trace is compiled in: Simulation attaches a ring when asked to (SimulationConfig),
  // and without one each recording point costs one predictable branch.
  static constexpr bool kTrace = true;
  // A host address inside a loaded server image, as its image's number and offset
  // (ukernel/hosted/trace.hpp); any other word as it is.
  static word trace_word(word value);

  static void activate(PageTable&) {}
  static void* kernel_pointer(word paddr);
  static void irq_mask(unsigned line);
  static void irq_unmask(unsigned line);
  // Every line can be raised by message: a write of the line to the doorbell (machine.cpp).
  static bool msi_message(unsigned line, word& address, word& data);
  // No line is a kernel timer (the simulated timer device is granted as device memory), and the
  // host ends a run: both answer kIllegalOperation.
  static bool irq_set_deadline(unsigned, std::uint64_t) { return false; }
  static bool power_off() { return false; }
  static std::uint64_t now_ns();
  // The hosted kernel never halts (an idle system moves the virtual clock to its next event).
  static word idle_ticks() { return 0; }
  static void timer_arm(std::uint64_t deadline_ns);
  static void console_write(std::string_view text);
};

}  // namespace ukernel::arch
