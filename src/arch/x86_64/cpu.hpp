// Thin wrappers around the x86-64 instructions the back-end needs (port I/O, MSRs, control
// registers, CPUID, TLB). Each is one instruction; the names say which.
#pragma once

#include <cstdint>

namespace ukernel::x86 {

inline void outb(std::uint16_t port, std::uint8_t value) {
  asm volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}
inline std::uint8_t inb(std::uint16_t port) {
  std::uint8_t value;
  asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}
inline void outw(std::uint16_t port, std::uint16_t value) {
  asm volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}
inline std::uint16_t inw(std::uint16_t port) {
  std::uint16_t value;
  asm volatile("inw %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}
inline void outl(std::uint16_t port, std::uint32_t value) {
  asm volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}
inline std::uint32_t inl(std::uint16_t port) {
  std::uint32_t value;
  asm volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}

inline std::uint64_t rdmsr(std::uint32_t msr) {
  std::uint32_t low, high;
  asm volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr));
  return (std::uint64_t{high} << 32) | low;
}
inline void wrmsr(std::uint32_t msr, std::uint64_t value) {
  asm volatile("wrmsr"
               :
               : "c"(msr), "a"(static_cast<std::uint32_t>(value)),
                 "d"(static_cast<std::uint32_t>(value >> 32)));
}

namespace msr {
inline constexpr std::uint32_t kApicBase = 0x1b;
inline constexpr std::uint32_t kEfer = 0xc0000080;
inline constexpr std::uint32_t kStar = 0xc0000081;
inline constexpr std::uint32_t kLstar = 0xc0000082;
inline constexpr std::uint32_t kFmask = 0xc0000084;
inline constexpr std::uint32_t kFsBase = 0xc0000100;
inline constexpr std::uint32_t kGsBase = 0xc0000101;
inline constexpr std::uint32_t kKernelGsBase = 0xc0000102;
}  // namespace msr

inline constexpr std::uint64_t kEferSce = 1u << 0;
inline constexpr std::uint64_t kEferNxe = 1u << 11;

inline std::uint64_t read_cr0() {
  std::uint64_t v;
  asm volatile("mov %%cr0, %0" : "=r"(v));
  return v;
}
inline void write_cr0(std::uint64_t v) {
  asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}
inline std::uint64_t read_cr2() {
  std::uint64_t v;
  asm volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}
inline std::uint64_t read_cr3() {
  std::uint64_t v;
  asm volatile("mov %%cr3, %0" : "=r"(v));
  return v;
}
inline void write_cr3(std::uint64_t v) {
  asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}
inline std::uint64_t read_cr4() {
  std::uint64_t v;
  asm volatile("mov %%cr4, %0" : "=r"(v));
  return v;
}
inline void write_cr4(std::uint64_t v) {
  asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

inline void invlpg(std::uint64_t vaddr) {
  asm volatile("invlpg (%0)" : : "r"(vaddr) : "memory");
}
// INVPCID type 0: the TLB entry for `vaddr` tagged with `pcid` (any PCID, not only the current).
inline void invpcid_address(std::uint64_t pcid, std::uint64_t vaddr) {
  struct {
    std::uint64_t pcid, vaddr;
  } descriptor{pcid, vaddr};
  asm volatile("invpcid %0, %1" : : "m"(descriptor), "r"(std::uint64_t{0}) : "memory");
}

struct CpuidResult {
  std::uint32_t eax, ebx, ecx, edx;
};
inline CpuidResult cpuid(std::uint32_t leaf, std::uint32_t subleaf = 0) {
  CpuidResult r;
  asm volatile("cpuid"
               : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
               : "a"(leaf), "c"(subleaf));
  return r;
}

inline std::uint64_t rdtsc() {
  std::uint32_t low, high;
  asm volatile("rdtsc" : "=a"(low), "=d"(high));
  return (std::uint64_t{high} << 32) | low;
}

inline void enable_interrupts() {
  asm volatile("sti" ::: "memory");
}
inline void disable_interrupts() {
  asm volatile("cli" ::: "memory");
}
// Enables interrupts and waits for one; `sti` delays them by one instruction, so none is missed.
inline void wait_for_interrupt() {
  asm volatile("sti; hlt; cli" ::: "memory");
}
inline void pause() {
  asm volatile("pause");
}

}  // namespace ukernel::x86
