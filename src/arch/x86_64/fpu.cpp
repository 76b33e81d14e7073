// The lazy FPU switch of arch/fpu.hpp: CR0/CR4/XCR0 set-up, #NM, and dropping a thread's state.
#include "arch/fpu.hpp"

#include "arch/console.hpp"
#include "arch/context.hpp"
#include "cpu.hpp"
#include "cpu_local.hpp"

namespace ukernel::x86 {
namespace {

constexpr std::uint64_t kCr0MonitorCoprocessor = 1u << 1;
constexpr std::uint64_t kCr0Emulation = 1u << 2;
constexpr std::uint64_t kCr0TaskSwitched = 1u << 3;
constexpr std::uint64_t kCr0NumericError = 1u << 5;
constexpr std::uint64_t kCr4Osfxsr = 1u << 9;
constexpr std::uint64_t kCr4Osxmmexcpt = 1u << 10;
constexpr std::uint64_t kCr4Osxsave = 1u << 18;
// XCR0 components: x87, SSE (XMM, MXCSR), AVX (YMM upper halves). The kernel enables no others,
// so the save area never grows with the CPU (AVX-512, AMX would need more than kFpuAreaBytes).
constexpr std::uint64_t kXcr0Supported = 0b111;

bool use_xsave = false;
std::uint64_t xcr0 = 0;

void save(FpuArea& area) {
  if (use_xsave) {
    asm volatile("xsave64 %0"
                 : "=m"(area)
                 : "a"(std::uint32_t(xcr0)), "d"(std::uint32_t(xcr0 >> 32)));
  } else {
    asm volatile("fxsave64 %0" : "=m"(area));
  }
}

void load(const FpuArea& area) {
  if (use_xsave) {
    asm volatile("xrstor64 %0" ::"m"(area), "a"(std::uint32_t(xcr0)),
                 "d"(std::uint32_t(xcr0 >> 32)));
  } else {
    asm volatile("fxrstor64 %0" ::"m"(area));
  }
}

// CpuLocal::leave while TS is clear: the thread that runs with TS clear keeps it clear, any other
// thread gets TS set first (and the exits after it take plain leave_to_user again).
[[noreturn, gnu::optimize("omit-frame-pointer")]] void fpu_leave_to_user(Context* context) {
  if (context != cpu_local().fpu_live) fpu_disable();
  leave_to_user(context);
}

}  // namespace

void fpu_init() {
  // x87 present (no EM), FWAIT honours TS (MP), x87 errors as #MF (NE), TS set: no owner yet.
  write_cr0((read_cr0() & ~kCr0Emulation) | kCr0MonitorCoprocessor | kCr0NumericError |
            kCr0TaskSwitched);
  std::uint64_t cr4 = read_cr4() | kCr4Osfxsr | kCr4Osxmmexcpt;
  if ((cpuid(1).ecx & (1u << 26)) != 0) {  // XSAVE
    write_cr4(cr4 | kCr4Osxsave);
    CpuidResult components = cpuid(0xd, 0);
    xcr0 = (std::uint64_t{components.edx} << 32 | components.eax) & kXcr0Supported;
    asm volatile("xsetbv" ::"c"(0), "a"(std::uint32_t(xcr0)), "d"(std::uint32_t(xcr0 >> 32)));
    // EBX: the size XSAVE needs for the components XCR0 now enables.
    use_xsave = cpuid(0xd, 0).ebx <= kFpuAreaBytes;
    if (!use_xsave) print("fpu: XSAVE area too large, using FXSAVE\n");
  } else {
    write_cr4(cr4);
  }
}

void fpu_claim(Context& context) {
  asm volatile("clts");
  CpuLocal& cpu = cpu_local();
  cpu.fpu_live = &context;
  cpu.leave = fpu_leave_to_user;
  if (cpu.fpu_owner == &context) return;  // its registers are still there: TS was all
  if (cpu.fpu_owner != nullptr) save(cpu.fpu_owner->fpu);
  load(context.fpu);
  cpu.fpu_owner = &context;
}

[[gnu::noinline]] void fpu_forget(const Context& context) {
  CpuLocal& cpu = cpu_local();
  if (cpu.fpu_owner != &context) return;
  cpu.fpu_owner = nullptr;
  if (cpu.fpu_live == &context) fpu_disable();
}

const Context* fpu_owner() {
  return cpu_local().fpu_owner;
}

void fpu_disable() {
  write_cr0(read_cr0() | kCr0TaskSwitched);
  CpuLocal& cpu = cpu_local();
  cpu.fpu_live = nullptr;
  cpu.leave = leave_to_user;
}

}  // namespace ukernel::x86
