// Hosted threads as fibers: the user side of a system call, the kernel exit path that switches
// fibers, and hardware faults (signals) turned into kernel fault events.
//
// A system call is a plain function call on the calling thread's fiber: it enters the same
// core::handle_syscall a trap would, then dispatch() switches straight to the fiber of whatever
// thread the kernel made current. So an IPC round trip costs two fiber switches plus the kernel.
// When no thread can run, dispatch() advances the virtual clock to the next device event; with
// none left it returns to the driver (Simulation::run).
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <cstdio>
#include <cstdlib>

#include "arch/user.hpp"
#include "core/address_space.hpp"
#include "state.hpp"
#include "ukernel/hosted/image.hpp"

// ASan must be told about every stack switch, or it reports false errors on fiber stacks.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
namespace {
constexpr bool kAsan = true;
void asan_start_switch(void** fake, const void* bottom, std::size_t size) {
  __sanitizer_start_switch_fiber(fake, bottom, size);
}
void asan_finish_switch(void* fake, const void** bottom, std::size_t* size) {
  __sanitizer_finish_switch_fiber(fake, bottom, size);
}
void asan_unpoison(void* memory, std::size_t size) {
  __asan_unpoison_memory_region(memory, size);
}
}  // namespace
#else
namespace {
constexpr bool kAsan = false;
void asan_start_switch(void**, const void*, std::size_t) {}
void asan_finish_switch(void*, const void**, std::size_t*) {}
void asan_unpoison(void*, std::size_t) {}
}  // namespace
#endif

namespace ukernel::arch {

namespace {

constexpr std::size_t kStackBytes = kAsan ? 512 * 1024 : 128 * 1024;
constexpr std::size_t kGuardBytes = 4096;
constexpr std::size_t kAltStackBytes = 256 * 1024;

void free_fiber(HostedFiber* f) {
  HostedState& s = hosted();
  for (HostedFiber** p = &s.live; *p != nullptr; p = &(*p)->next_live) {
    if (*p == f) {
      *p = f->next_live;
      break;
    }
  }
  if (f->stack != nullptr) {
    asan_unpoison(f->stack, f->stack_bytes);
    munmap(f->stack, f->stack_bytes);
  }
  delete f;
}

// A fiber is retired when its thread restarts or is destroyed. If the CPU is on its stack, it
// is freed right after the next switch.
void retire(HostedFiber* f) {
  HostedState& s = hosted();
  if (f == nullptr) return;
  if (f == s.running) {
    f->dead = true;
    s.retired = f;
  } else {
    free_fiber(f);
  }
}

void after_switch(HostedState& s, ctx::transfer_t from, void* fake_stack) {
  if (from.data != nullptr) *static_cast<ctx::fcontext_t*>(from.data) = from.fctx;
  if constexpr (kAsan) {
    const void* bottom = nullptr;
    std::size_t size = 0;
    asan_finish_switch(fake_stack, &bottom, &size);
    if (s.main_stack_bottom == nullptr && bottom != nullptr) {
      s.main_stack_bottom = bottom;
      s.main_stack_size = size;
    }
  }
  if (s.retired != nullptr && s.retired != s.running) [[unlikely]] {
    free_fiber(s.retired);
    s.retired = nullptr;
  }
}

void run_abort_loop(HostedFiber* self) {
  // The entry function returned: that is kAbort with code 0. A supervisor that resumes the
  // thread sees it abort again.
  for (;;) {
    word* regs = user_frame();
    regs[unsigned(SysReg::kStatus)] = word(Syscall::kAbort);
    regs[unsigned(SysReg::kMr0)] = 0;
    user_trap(regs);
    (void)self;
  }
}

void fiber_main(ctx::transfer_t from) {
  after_switch(hosted(), from, nullptr);
  HostedFiber* self = hosted().running;
  hosted().in_user = true;
  reinterpret_cast<void (*)(word)>(self->entry)(self->arg);
  hosted().in_user = false;
  run_abort_loop(self);
}

// Gives a thread's fiber its stack before it first runs (off the hot path).
[[gnu::noinline]] void make_stack(HostedFiber* target) {
  void* stack = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (stack == MAP_FAILED) {
    std::perror("hosted: fiber stack");
    std::abort();
  }
  mprotect(stack, kGuardBytes, PROT_NONE);
  target->stack = stack;
  target->stack_bytes = kStackBytes;
  target->context = ctx::make_fcontext(static_cast<char*>(stack) + kStackBytes,
                                       kStackBytes - kGuardBytes, fiber_main);
}

void switch_to(HostedState& s, HostedFiber* target, HostedFiber* self) {
  bool dying = self != nullptr && self->dead;
  if (target != nullptr && target->context == nullptr) [[unlikely]]
    make_stack(target);
  ctx::fcontext_t* save = self ? &self->context : &s.main_context;
  ctx::fcontext_t to = target ? target->context : s.main_context;
  s.running = target;
  void* fake_stack = nullptr;
  if constexpr (kAsan) {
    const void* bottom =
        target ? static_cast<char*>(target->stack) + kGuardBytes : s.main_stack_bottom;
    std::size_t size = target ? kStackBytes - kGuardBytes : s.main_stack_size;
    asan_start_switch(dying ? nullptr : &fake_stack, bottom, size);
  }
  ctx::transfer_t from = ctx::jump_fcontext(to, dying ? nullptr : save);
  after_switch(s, from, fake_stack);
}

// Whether anything is due before a kernel exit resumes a thread. A disarmed timer is 0, which
// wraps to the largest deadline.
bool events_due(const HostedState& s) {
  return s.timer_deadline_ns - 1 < s.now_ns || s.irq_pending_count != 0 || s.now_ns >= s.stop_ns ||
         (!s.events.empty() && s.events.front().time_ns <= s.now_ns);
}

// Delivers the timer, the device work and the interrupts that are due. Most kernel exits have none:
// one compare each for the timer, the next device event and the pending lines.
void deliver_due_events(HostedState& s) {
  if (s.timer_deadline_ns != 0 && s.timer_deadline_ns <= s.now_ns) {
    s.timer_deadline_ns = 0;
    core::handle_timer();
  }
  while (!s.events.empty() && s.events.front().time_ns <= s.now_ns) {
    // Taken off the queue first: a model's work may schedule more (at once, even).
    Event event = std::move(s.events.front());
    s.events.erase(s.events.begin());
    if (event.line == kNoLine) {
      event.work();
    } else if (!s.irq_pending[event.line]) {
      s.irq_pending[event.line] = true;
      ++s.irq_pending_count;
    }
  }
  if (s.irq_pending_count == 0) return;
  for (unsigned line = 0; line < Machine::kIrqLines; ++line) {
    if (s.irq_pending[line] && !s.irq_masked[line]) {
      s.irq_pending[line] = false;
      --s.irq_pending_count;
      core::handle_interrupt(line);
    }
  }
}

// Idle: jumps the clock to the next device event. False if there is none before the limit
// (the timer tick alone cannot wake anybody).
bool advance_to_next_event() {
  HostedState& s = hosted();
  if (s.events.empty()) {
    s.quiescent = true;
    return false;
  }
  std::uint64_t at = s.events.front().time_ns;
  if (s.limit_ns != 0 && at > s.limit_ns) return false;
  if (at > s.now_ns) s.now_ns = at;
  return true;
}

// See dispatch() in state.hpp.
void dispatch(HostedState& s, HostedFiber* self) {
  for (;;) {
    if (s.now_ns >= s.stop_ns) {
      // The run's time limit: back to the driver, which may resume() later.
      if (self != nullptr) switch_to(s, nullptr, self);
      return;
    }
    deliver_due_events(s);
    core::Thread* next = core::current();
    HostedFiber* target = nullptr;
    if (next == nullptr) {
      if (advance_to_next_event()) continue;
    } else {
      target = next->context.fiber;
      if (target->dead) [[unlikely]] {
        // Resumed after a hardware fault: on a host there is no instruction to retry, so the
        // same fault is raised again (as re-executing it unchanged would on hardware).
        core::handle_fault(target->fault, target->fault_address);
        continue;
      }
    }
    if (target == self && (self == nullptr || !self->dead)) return;
    if (self == nullptr && target == nullptr) return;
    switch_to(s, target, self);
    return;
  }
}

HostedState* g_signal_state = nullptr;
struct sigaction g_previous[32];
void* g_alt_stack = nullptr;

FaultKind fault_kind(int signal) {
  switch (signal) {
    case SIGFPE:
      return FaultKind::kArithmetic;
    case SIGILL:
      return FaultKind::kIllegalInstruction;
    case SIGTRAP:
      return FaultKind::kBreakpoint;
    default:
      return FaultKind::kMemoryAccess;
  }
}

void on_fault_signal(int signal, siginfo_t* info, void* ucontext_raw) {
  HostedState& s = hosted();
  HostedFiber* self = s.running;
  if (!s.in_user || self == nullptr) {
    // Not a user thread: a bug in the kernel, the back-end or a test. Let the previous handler
    // (the sanitizer's, or the default) report it when the instruction runs again.
    sigaction(signal, &g_previous[signal], nullptr);
    return;
  }
  auto* uc = static_cast<ucontext_t*>(ucontext_raw);
  word ip = word(uc->uc_mcontext.gregs[REG_RIP]);
  // Inside a server image, the instruction's offset in its image is what the fault reports, as
  // an injected kill does (faults.cpp): the host address moves from run to run (ASLR), and the
  // fault reaches the supervisor's messages, the transcript and the trace, which one seed must
  // give the same every time.
  if (hosted::ImageAddress where = hosted::image_address(ip); !where.image.empty())
    ip = where.offset;
  FaultKind kind = fault_kind(signal);
  word address = kind == FaultKind::kMemoryAccess ? reinterpret_cast<word>(info->si_addr) : ip;
  fault_current_thread(kind, address, ip);
}

}  // namespace

void fault_current_thread(FaultKind kind, word address, word ip) {
  HostedState& s = hosted();
  HostedFiber* self = s.running;
  if (!s.in_user || self == nullptr) {
    std::fprintf(stderr, "hosted: a user fault (kind %u at 0x%llx) outside a user thread\n",
                 unsigned(kind), static_cast<unsigned long long>(address));
    std::abort();  // host code made an MMIO access: a bug in a test or a model
  }
  s.in_user = false;
  self->dead = true;
  self->fault = kind;
  self->fault_address = address;
  core::current()->context.stopped_at(ip);
  core::handle_fault(kind, address);
  dispatch(s, self);  // never returns: self is dead
  __builtin_unreachable();
}

void HostedContext::start(word ip, word sp, word arg) {
  retire(fiber);
  fiber = new HostedFiber;
  fiber->entry = ip;
  fiber->arg = arg;
  fiber->next_live = hosted().live;
  hosted().live = fiber;
  ip_ = ip;
  sp_ = sp;
  arg_ = arg;
}

void HostedContext::release() {
  retire(fiber);
  fiber = nullptr;
}

void dispatch(HostedFiber* self) {
  dispatch(hosted(), self);
}

void free_all_fibers() {
  HostedState& s = hosted();
  while (s.live != nullptr)
    free_fiber(s.live);
  s.retired = nullptr;
  s.running = nullptr;
}

void install_fault_handlers() {
  if (g_alt_stack == nullptr) {
    g_alt_stack = std::malloc(kAltStackBytes);
    stack_t alt{};
    alt.ss_sp = g_alt_stack;
    alt.ss_size = kAltStackBytes;
    sigaltstack(&alt, nullptr);
  }
  struct sigaction action {};
  action.sa_sigaction = on_fault_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP}) {
    sigaction(signal, &action, &g_previous[signal]);
  }
  g_signal_state = &hosted();
}

void remove_fault_handlers() {
  for (int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP}) {
    sigaction(signal, &g_previous[signal], nullptr);
  }
}

// --- the user side --------------------------------------------------------------------------

UserFrame user_frame() {
  return core::current()->context.registers();
}

void user_trap(UserFrame) {
  HostedState& s = hosted();
  HostedFiber* self = s.running;
  if (s.faults != nullptr) [[unlikely]] {
    // A kill never returns; a delay lets the others of its priority run before the call.
    if (fault_at_syscall(s)) {
      s.in_user = false;
      core::handle_preemption();
      dispatch(s, self);
    }
  }
  s.in_user = false;
  s.now_ns += s.syscall_cost_ns;
  core::handle_syscall();
  if (s.preempt_one_in != 0 && next_random() % s.preempt_one_in == 0) core::handle_preemption();
  // The common exit (an IPC hand-off, or back to the caller) has nothing to deliver and a live
  // thread to run: dispatch() would only end in the same switch_to.
  core::Thread* next = core::current();
  HostedFiber* target = next != nullptr ? next->context.fiber : nullptr;
  if (target != nullptr && !target->dead && !self->dead && !events_due(s)) [[likely]] {
    if (target != self) switch_to(s, target, self);
  } else {
    dispatch(s, self);
  }
  s.in_user = true;
}

IpcBuffer* user_ipc_buffer() {
  return core::current()->buffer();
}

void* user_pointer(word vaddr, std::size_t bytes) {
  core::AddressSpace* as = core::current()->address_space();
  return as ? core::user_to_kernel(*as, vaddr, bytes) : nullptr;
}

}  // namespace ukernel::arch
