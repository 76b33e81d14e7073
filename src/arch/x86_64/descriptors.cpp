// GDT, TSS, IDT, the GS-based CpuLocal and the syscall MSRs.
//
// GDT order is fixed by syscall/sysretq (see arch/x86_layout.h). The TSS has no I/O permission
// bitmap (its offset points past the limit), so with IOPL 0 every user in/out raises #GP. Double
// fault, NMI and machine check run on their own IST stacks: a double fault may come from a bad
// kernel stack, and NMI/#MC may arrive in the few instructions of the exit path that already run
// on the user stack.
#include <array>
#include <cstdint>

#include "arch/console.hpp"
#include "cpu.hpp"
#include "cpu_local.hpp"

extern "C" char x86_boot_stack_top[];
extern "C" const std::uint64_t x86_vector_stubs[256];
extern "C" void x86_syscall_entry();

namespace ukernel::x86 {
namespace {

struct [[gnu::packed]] Tss {
  std::uint32_t reserved0;
  std::uint64_t rsp[3];
  std::uint64_t reserved1;
  std::uint64_t ist[7];
  std::uint64_t reserved2;
  std::uint16_t reserved3;
  std::uint16_t io_bitmap_offset;
};
static_assert(sizeof(Tss) == 104);

struct IdtGate {
  std::uint16_t offset_low;
  std::uint16_t selector;
  std::uint8_t ist;
  std::uint8_t type;  // present | DPL | 0xe (64-bit interrupt gate: IF cleared on entry)
  std::uint16_t offset_mid;
  std::uint32_t offset_high;
  std::uint32_t reserved;
};
static_assert(sizeof(IdtGate) == 16);

struct [[gnu::packed]] TableRegister {
  std::uint16_t limit;
  std::uint64_t base;
};

constexpr std::size_t kIstStackSize = 4096;
enum IstIndex : std::uint8_t { kIstDoubleFault = 1, kIstNmi = 2, kIstMachineCheck = 3 };

alignas(16) std::array<std::array<std::uint8_t, kIstStackSize>, 3> ist_stacks;
alignas(16) Tss tss;
alignas(16) std::array<std::uint64_t, 8> gdt = {
    0,
    0x00af9a000000ffff,  // 0x08 kernel code, 64-bit
    0x00cf92000000ffff,  // 0x10 kernel data
    0,                   // 0x18 (no 32-bit user code)
    0x00cff2000000ffff,  // 0x20 user data, DPL 3
    0x00affa000000ffff,  // 0x28 user code, 64-bit, DPL 3
    0,                   // 0x30 TSS (low half, filled in at run time)
    0,                   //      TSS (high half)
};
alignas(16) std::array<IdtGate, 256> idt;
CpuLocal cpu;

void set_gate(unsigned vector, std::uint64_t handler, std::uint8_t dpl, std::uint8_t ist) {
  idt[vector] = IdtGate{
      .offset_low = static_cast<std::uint16_t>(handler),
      .selector = UK_SEL_KERNEL_CODE,
      .ist = ist,
      .type = static_cast<std::uint8_t>(0x8e | (dpl << 5)),
      .offset_mid = static_cast<std::uint16_t>(handler >> 16),
      .offset_high = static_cast<std::uint32_t>(handler >> 32),
      .reserved = 0,
  };
}

}  // namespace

CpuLocal& cpu_local() {
  return cpu;
}

void set_user_context(Context* context) {
  auto end = reinterpret_cast<word>(context) + UK_CTX_SIZE;
  tss.rsp[0] = end;
  cpu.context_end = end;
  cpu.current = context;
  // Only this thread can have changed FS since it was loaded (a selector load in user mode), so
  // the register is rewritten on a switch, not on every exit.
  if (cpu.fs_owner != context || context->fs_stale) {
    wrmsr(msr::kFsBase, context->fs_base);
    cpu.fs_owner = context;
    context->fs_stale = false;
  }
}

// No frame: it never returns, and set_user_context, which every exit called directly before
// CpuLocal::leave existed, is a leaf without one; a push and mov of rbp would be two instructions
// more on every exit.
[[gnu::optimize("omit-frame-pointer")]] void leave_to_user(Context* context) {
  set_user_context(context);
  x86_exit_to_user(context);
}

void descriptors_init() {
  for (std::size_t i = 0; i < ist_stacks.size(); ++i) {
    tss.ist[i] = reinterpret_cast<std::uint64_t>(ist_stacks[i].data() + kIstStackSize);
  }
  tss.io_bitmap_offset = sizeof(Tss);
  auto base = reinterpret_cast<std::uint64_t>(&tss);
  std::uint64_t limit = sizeof(Tss) - 1;
  gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (std::uint64_t{0x89} << 40) |
           ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
  gdt[7] = base >> 32;

  TableRegister gdtr{sizeof gdt - 1, reinterpret_cast<std::uint64_t>(gdt.data())};
  asm volatile(
      "lgdt %0\n\t"
      "pushq %1\n\t"
      "leaq 1f(%%rip), %%rax\n\t"
      "pushq %%rax\n\t"
      "lretq\n"
      "1:\n\t"
      "movl %2, %%eax\n\t"
      "movl %%eax, %%ds\n\t"
      "movl %%eax, %%es\n\t"
      "movl %%eax, %%ss\n\t"
      "xorl %%eax, %%eax\n\t"
      "movl %%eax, %%fs\n\t"
      "movl %%eax, %%gs\n\t"
      "ltr %w3"
      :
      : "m"(gdtr), "i"(UK_SEL_KERNEL_CODE), "i"(UK_SEL_KERNEL_DATA), "r"(UK_SEL_TSS)
      : "rax", "memory");

  for (unsigned v = 0; v < idt.size(); ++v)
    set_gate(v, x86_vector_stubs[v], 0, 0);
  // int3 and into from user mode raise #BP/#OF instead of #GP.
  set_gate(3, x86_vector_stubs[3], 3, 0);
  set_gate(4, x86_vector_stubs[4], 3, 0);
  set_gate(2, x86_vector_stubs[2], 0, kIstNmi);
  set_gate(8, x86_vector_stubs[8], 0, kIstDoubleFault);
  set_gate(18, x86_vector_stubs[18], 0, kIstMachineCheck);
  TableRegister idtr{sizeof idt - 1, reinterpret_cast<std::uint64_t>(idt.data())};
  asm volatile("lidt %0" : : "m"(idtr) : "memory");

  // In the kernel GS points at CpuLocal; in user mode KERNEL_GS_BASE holds it until swapgs.
  cpu.self = &cpu;
  cpu.kernel_stack_top = reinterpret_cast<word>(x86_boot_stack_top);
  wrmsr(msr::kGsBase, reinterpret_cast<std::uint64_t>(&cpu));
  wrmsr(msr::kKernelGsBase, 0);

  wrmsr(msr::kEfer, rdmsr(msr::kEfer) | kEferSce);
  wrmsr(msr::kStar,
        (std::uint64_t{UK_SEL_SYSRET_BASE | 3} << 48) | (std::uint64_t{UK_SEL_KERNEL_CODE} << 32));
  wrmsr(msr::kLstar, reinterpret_cast<std::uint64_t>(&x86_syscall_entry));
  // Cleared on syscall: TF, IF, DF, IOPL, NT, AC. The kernel runs with interrupts off.
  wrmsr(msr::kFmask, 0x47700);
}

}  // namespace ukernel::x86
