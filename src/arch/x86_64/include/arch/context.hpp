// Context: a thread's saved user-mode registers on x86-64.
//
// How this works: the struct *is* the trap frame. While a thread runs in user mode, TSS.RSP0 (for
// exceptions and interrupts) and CpuLocal::context_end (for `syscall`) point just past the end of
// its Context, so the CPU pushes ss, rsp, rflags, cs, rip (and the error code) straight into the
// last fields and entry.S pushes the general registers below them. Nothing of the thread stays on
// a kernel stack, which is what lets the core switch threads by returning a different Context.
//
// System-call registers (docs/x86_64.md): rcx and r11 are taken by `syscall` itself, so
//   Status=rax  Cap=rdi  Info=rsi  Badge=rdx  MR0..MR5=r8 r9 r10 r12 r13 r14
// and rbx, rbp, r15, rsp are preserved across every system call.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arch/fpu.hpp"
#include "arch/x86_layout.h"
#include "ukernel/abi.hpp"

namespace ukernel::x86 {

// RFLAGS bits user code may hold: the arithmetic flags, TF, DF, OF, AC, ID. IF is forced on and
// IOPL, NT, RF, VM, VIF, VIP are forced off when a thread enters user mode.
inline constexpr word kUserFlagsMask = 0x0cd5 | (word{1} << 8) | (word{1} << 18) | (word{1} << 21);
inline constexpr word kFlagsInterrupt = word{1} << 9;
inline constexpr word kFlagsReserved1 = word{1} << 1;

// The first address above the user half (user addresses are [0, kUserEnd)).
inline constexpr word kUserEnd = word{1} << 47;

struct alignas(64) Context {
  static constexpr std::size_t kMessageRegisters = 6;
  // reg(i): the sixteen general registers in instruction-encoding order:
  // rax rcx rdx rbx rsp rbp rsi rdi r8 .. r15.
  static constexpr std::size_t kRegisterCount = 16;

  word r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  word vector;  // how the thread entered the kernel: exception vector, UK_ENTRY_SYSCALL/IRET
  word error_code;
  word rip, cs, rflags, rsp, ss;  // the hardware frame; the trap frame ends here (UK_CTX_SIZE)

  // Past the trap frame, so the CPU never writes them. The thread's FS base: the address of its
  // IPC buffer, whose `self` word user code reads through FS (arch/user.hpp). fs_stale: load it
  // on the next exit to user mode even if this Context was the last one to run (new thread,
  // restart, reconfigure), since the owner check in set_user_context would skip it.
  word fs_base = 0;
  bool fs_stale = true;
  // The thread's FPU registers while another thread owns the FPU (arch/fpu.hpp); a new or
  // restarted thread starts with the initial state.
  FpuArea fpu;

  word get(SysReg r) const { return *slot(r); }
  void set(SysReg r, word value) { *slot(r) = value; }
  word instruction_pointer() const { return rip; }
  word stack_pointer() const { return rsp; }

  // A fresh register file: all zero, starting at ip with stack sp and arg in rdi.
  void start(word ip, word sp, word arg) {
    fpu_forget(*this);          // the FPU may still hold the old registers: not the new run's
    word ipc_buffer = fs_base;  // configuration, not a register: it survives a restart
    *this = Context{};
    fs_base = ipc_buffer;
    rip = ip;
    rsp = sp;
    rdi = arg;
    rflags = kFlagsInterrupt | kFlagsReserved1;
    cs = UK_SEL_USER_CODE;
    ss = UK_SEL_USER_DATA;
    vector = UK_ENTRY_IRET;
  }

  // The FPU must not keep registers, or an owner pointer, of a thread that is gone.
  void release() { fpu_forget(*this); }

  // An address outside the user half would make the wrmsr fault in ring 0: such a thread gets
  // FS base 0 (its buffer accesses fault in user mode instead).
  void set_ipc_buffer_address(word vaddr) {
    fs_base = vaddr < kUserEnd ? vaddr : 0;
    fs_stale = true;
  }

  word reg(std::size_t i) const { return i < kRegisterCount ? *general(i) : 0; }
  void set_reg(std::size_t i, word value) {
    if (i >= kRegisterCount) return;
    *general(i) = value;
    // A supervisor rewrote the registers: leave by iretq so that rcx/r11 are restored too.
    vector = UK_ENTRY_IRET;
  }
  void set_instruction_pointer(word ip) {
    rip = ip;
    vector = UK_ENTRY_IRET;
  }

 private:
  // Constant tables of member pointers (offsets), not arrays of addresses built on each call:
  // a variable index is one table load, so the register copy of a long message stays a loop of
  // loads and stores.
  static constexpr word Context::*kMessage[kMessageRegisters] = {
      &Context::r8, &Context::r9, &Context::r10, &Context::r12, &Context::r13, &Context::r14};
  static constexpr word Context::*kGeneral[kRegisterCount] = {
      &Context::rax, &Context::rcx, &Context::rdx, &Context::rbx, &Context::rsp, &Context::rbp,
      &Context::rsi, &Context::rdi, &Context::r8,  &Context::r9,  &Context::r10, &Context::r11,
      &Context::r12, &Context::r13, &Context::r14, &Context::r15};

  const word* slot(SysReg r) const { return const_cast<Context*>(this)->slot(r); }
  word* slot(SysReg r) {
    switch (r) {
      case SysReg::kStatus:
        return &rax;
      case SysReg::kCap:
        return &rdi;
      case SysReg::kInfo:
        return &rsi;
      case SysReg::kBadge:
        return &rdx;
      default:
        break;
    }
    auto index = static_cast<std::size_t>(r) - static_cast<std::size_t>(SysReg::kMr0);
    return &(this->*kMessage[index < kMessageRegisters ? index : 0]);
  }
  const word* general(std::size_t i) const { return const_cast<Context*>(this)->general(i); }
  word* general(std::size_t i) { return &(this->*kGeneral[i]); }
};

static_assert(offsetof(Context, r15) == UK_CTX_R15);
static_assert(offsetof(Context, r14) == UK_CTX_R14);
static_assert(offsetof(Context, r13) == UK_CTX_R13);
static_assert(offsetof(Context, r12) == UK_CTX_R12);
static_assert(offsetof(Context, r11) == UK_CTX_R11);
static_assert(offsetof(Context, r10) == UK_CTX_R10);
static_assert(offsetof(Context, r9) == UK_CTX_R9);
static_assert(offsetof(Context, r8) == UK_CTX_R8);
static_assert(offsetof(Context, rbp) == UK_CTX_RBP);
static_assert(offsetof(Context, rdi) == UK_CTX_RDI);
static_assert(offsetof(Context, rsi) == UK_CTX_RSI);
static_assert(offsetof(Context, rdx) == UK_CTX_RDX);
static_assert(offsetof(Context, rcx) == UK_CTX_RCX);
static_assert(offsetof(Context, rbx) == UK_CTX_RBX);
static_assert(offsetof(Context, rax) == UK_CTX_RAX);
static_assert(offsetof(Context, vector) == UK_CTX_VECTOR);
static_assert(offsetof(Context, error_code) == UK_CTX_ERROR);
static_assert(offsetof(Context, rip) == UK_CTX_RIP);
static_assert(offsetof(Context, cs) == UK_CTX_CS);
static_assert(offsetof(Context, rflags) == UK_CTX_RFLAGS);
static_assert(offsetof(Context, rsp) == UK_CTX_RSP);
static_assert(offsetof(Context, ss) == UK_CTX_SS);
static_assert(offsetof(Context, ss) + sizeof(word) == UK_CTX_SIZE && UK_CTX_SIZE % 16 == 0,
              "the CPU aligns RSP0 down to 16 bytes before pushing the frame");

}  // namespace ukernel::x86
