// Context: a thread's saved user-mode registers on AArch64.
//
// How this works: the first UK_CTX_SIZE bytes of a Context are its trap frame. While a thread
// runs at EL0, SP_EL1 points just past them (resume() sets it), so the exception vectors in
// entry.S store x0..x30, SP_EL0, ELR_EL1 and SPSR_EL1 straight into it, then move to the top of
// the kernel stack. Nothing of the thread
// stays on a kernel stack, which is what lets the core switch threads by returning a different
// Context.
//
// System-call registers (docs/aarch64.md): `svc #0` with
//   Status=x0  Cap=x1  Info=x2  Badge=x3  MR0..MR5=x4..x9
// and every other register (x10..x30, sp) preserved across every system call.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arch/aarch64_layout.h"
#include "arch/fpu.hpp"
#include "ukernel/abi.hpp"

namespace ukernel::aarch64 {

// The first address above the user half (TTBR0, 48-bit: user addresses are [0, kUserEnd)).
inline constexpr word kUserEnd = word{1} << 48;
// SPSR bits a user thread may hold: the condition flags N, Z, C, V. Everything else (exception
// level EL0t, DAIF clear so that interrupts reach the kernel) is forced when it resumes.
inline constexpr word kUserPstateMask = 0xf0000000;

struct alignas(16) Context {
  static constexpr std::size_t kMessageRegisters = 6;
  // reg(i): x0..x30, then sp (index 31, as in a load/store base register).
  static constexpr std::size_t kRegisterCount = 32;

  word x[31];
  word sp;      // SP_EL0
  word pc;      // ELR_EL1: where the thread continues
  word pstate;  // SPSR_EL1; the trap frame ends here (UK_CTX_SIZE)
  // Past the trap frame: exceptions never write it. The address of the thread's IPC buffer
  // (0: none), which the exit to EL0 loads into TPIDRRO_EL0 for user_ipc_buffer().
  word ipc_buffer = 0;
  // CPACR_EL1 while the thread runs, loaded with ipc_buffer on every exit: whether its FP/SIMD
  // instructions trap (arch/fpu.hpp).
  word cpacr = kCpacrFpTrapped;
  // The thread's FP/SIMD registers while another thread owns the unit; a new or restarted
  // thread starts with the initial state.
  FpuArea fpu;

  word get(SysReg r) const { return x[index(r)]; }
  void set(SysReg r, word value) { x[index(r)] = value; }
  word instruction_pointer() const { return pc; }
  word stack_pointer() const { return sp; }

  // A fresh register file: all zero, starting at ip with stack sp and arg in x0.
  void start(word ip, word stack, word arg) {
    fpu_forget(*this);         // the unit may still hold the old registers: not the new run's
    word buffer = ipc_buffer;  // configuration, not a register: it survives a restart
    *this = Context{};
    ipc_buffer = buffer;
    pc = ip;
    sp = stack;
    x[0] = arg;
  }

  // Where kThreadConfigure mapped the thread's IPC buffer (0: none).
  void set_ipc_buffer_address(word vaddr) { ipc_buffer = vaddr; }

  // The FP/SIMD unit must not keep an owner pointer to a thread that is gone.
  void release() { fpu_forget(*this); }

  word reg(std::size_t i) const {
    if (i < 31) return x[i];
    return i == 31 ? sp : 0;
  }
  void set_reg(std::size_t i, word value) {
    if (i < 31) x[i] = value;
    if (i == 31) sp = value;
  }
  void set_instruction_pointer(word ip) { pc = ip; }

 private:
  // Status, Cap, Info, Badge, MR0..MR5 are x0..x9: the role's number is the register's.
  static std::size_t index(SysReg r) {
    auto i = static_cast<std::size_t>(r);
    return i < 4 + kMessageRegisters ? i : 0;
  }
};

static_assert(offsetof(Context, x) == UK_CTX_X0);
static_assert(offsetof(Context, x) + 30 * sizeof(word) == UK_CTX_X30);
static_assert(offsetof(Context, sp) == UK_CTX_SP);
static_assert(offsetof(Context, pc) == UK_CTX_PC);
static_assert(offsetof(Context, pstate) == UK_CTX_PSTATE);
static_assert(offsetof(Context, ipc_buffer) == UK_CTX_IPC_BUFFER);
static_assert(offsetof(Context, cpacr) == UK_CTX_IPC_BUFFER + 8, "loaded by one ldp in entry.S");
static_assert(UK_CTX_SIZE % 16 == 0,
              "SP_EL1 points past the Context and must stay 16-byte aligned");

}  // namespace ukernel::aarch64
