// libFuzzer target: the real kernel core (src/core) on the hosted Machine, driven by system calls
// decoded from the input. There are no fibers: the kernel keeps nothing on a stack between
// entries, so the harness plays every user thread itself. Whichever thread the kernel made
// current makes the next call: the harness writes its registers (and IPC buffer) as the user
// library would and calls core::handle_syscall(), exactly as a back-end's trap does.
//
// Each input runs twice, with the IPC fast path on and off, and what the threads observe (each
// thread's registers and message words when it next runs, and the kernel console) must be the
// same. After each run the invariants hold (core/debug/invariants.hpp), and after a full
// teardown (every untyped capability revoked, every other capability deleted) only the boot
// objects remain and every untyped capability is free again.
//
// A fixed prologue (the same system calls for every input) gives the input something to work
// with: endpoints, notifications, a CNode, frames and three more threads sharing the root's
// CSpace and address space, at priorities below the root's. Most random calls fault; a thread
// stopped by a fault (no fault endpoint) is resumed by the harness as a supervisor would
// (kThreadResume's effect), and when nothing can run the harness resumes stopped threads, then
// lets the timer tick, then cancels the IPC of blocked threads (kThreadSuspend + kThreadResume),
// so that every input reaches deep.
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/debug/invariants.hpp"
#include "core/kernel.hpp"
#include "core/message.hpp"
#include "core/thread.hpp"
#include "state.hpp"

using namespace ukernel;

// The hosted Machine without fibers: a thread's context is its registers only.
namespace ukernel::arch {
void HostedContext::start(word ip, word sp, word arg) {
  ip_ = ip;
  sp_ = sp;
  arg_ = arg;
}
void HostedContext::release() {}
}  // namespace ukernel::arch

namespace {

constexpr std::size_t kMemoryBytes = 4u << 20;
constexpr word kIpcBufferVaddr = 0x10000;
constexpr word kBootInfoVaddr = 0x20000;
constexpr word kFirstObjectSlot = 200;  // the prologue's objects
constexpr std::size_t kMaxSteps = 2000;
// The prologue's untyped: the boot's largest block (the first ones are small slivers).
word g_prologue_untyped = kFirstUntypedSlot;

std::uint64_t g_syscalls = 0;
std::uint64_t g_inputs = 0;
std::uint64_t g_faults_resumed = 0;

// What the threads observed, in order: the differential compares the two runs' records.
std::vector<word> g_observed;

struct Input {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at = 0;
  std::uint8_t byte() { return at < size ? data[at++] : 0; }
  bool done() const { return at >= size; }
};

void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "kernel_fuzz: %s\n", what);
  std::abort();
}

core::Thread& current() {
  return *core::kernel().current;
}

// Delivers the timer if its deadline has passed, as the hosted back-end does after an entry.
void advance_clock() {
  arch::HostedState& s = arch::hosted();
  s.now_ns += s.syscall_cost_ns;
  if (s.timer_deadline_ns != 0 && s.now_ns >= s.timer_deadline_ns) core::handle_timer();
}

// The current thread makes one system call with these registers; message words past the
// registers go to its IPC buffer if it has one.
void issue(word number, word cap, word info, const word* words, std::size_t count) {
  core::Thread& t = current();
  t.context.set(SysReg::kStatus, number);
  t.context.set(SysReg::kCap, cap);
  t.context.set(SysReg::kInfo, info);
  for (std::size_t i = 0; i < count && i < kMaxMessageWords; ++i) {
    if (i < core::kMessageRegisters) {
      t.context.set(SysReg(unsigned(SysReg::kMr0) + i), words[i]);
    } else if (t.buffer() != nullptr) {
      t.buffer()->msg[i] = words[i];
    }
  }
  ++g_syscalls;
  core::handle_syscall();
  advance_clock();
}

Error invoke(word cap, Invocation label, std::initializer_list<word> args) {
  core::Thread& caller = current();
  issue(word(Syscall::kCall), cap, MessageInfo(word(label), args.size()).raw(), args.begin(),
        args.size());
  return Error(caller.context.get(SysReg::kStatus));
}

// What the current thread sees as it runs again: its status, info, badge and message words.
void observe() {
  core::Thread& t = current();
  g_observed.push_back(t.id);
  for (unsigned r = 0; r < 4 + core::kMessageRegisters; ++r)
    g_observed.push_back(t.context.reg(r));
  std::size_t length = MessageInfo(t.context.get(SysReg::kInfo)).length();
  if (t.buffer() != nullptr) {
    for (std::size_t i = core::kMessageRegisters; i < length && i < kMaxMessageWords; ++i)
      g_observed.push_back(t.buffer()->msg[i]);
  }
}

std::vector<core::Thread*> g_threads;  // the root and the prologue's threads

bool resumable(const core::Thread& t) {
  return t.state == ThreadState::kInactive && t.cspace() != nullptr &&
         t.address_space() != nullptr && t.cap_count > 0;
}

// Nothing can run: resume stopped threads; else let time pass; else cancel blocked IPC.
bool unstick() {
  for (core::Thread* t : g_threads) {
    if (resumable(*t)) core::wake(*t);
  }
  core::schedule();
  if (core::kernel().current != nullptr) return true;
  arch::HostedState& s = arch::hosted();
  if (s.timer_deadline_ns != 0) {
    s.now_ns = s.timer_deadline_ns;
    core::handle_timer();
    if (core::kernel().current != nullptr) return true;
  }
  for (core::Thread* t : g_threads) {
    if (t->cap_count > 0 && t->state != ThreadState::kInactive &&
        t->state != ThreadState::kRunning) {
      core::make_inactive(*t);
      if (resumable(*t)) core::wake(*t);
    }
  }
  core::schedule();
  return core::kernel().current != nullptr;
}

// Capability addresses the input names: mostly the slots that hold something.
word cap_address(std::uint8_t b) {
  if (b < 8) return b;                                  // the root's fixed slots
  if (b < 16) return kFirstUntypedSlot + (b - 8);       // boot untyped
  if (b < 96) return kFirstObjectSlot + (b - 16) % 40;  // the prologue's objects, free slots
  if (b < 250) return b;                                // anything in the root CNode
  return b == 250 ? word{1} << 12 : ~word{0} - b;       // outside the CSpace: a fault
}

// Argument words: small numbers, slot addresses, object types, sizes, or extremes.
word argument(Input& in) {
  std::uint8_t b = in.byte();
  switch (b >> 6) {
    case 0:
      return b;
    case 1:
      return cap_address(std::uint8_t(in.byte()));
    case 2:
      return word(b & 0x3f) << 12;  // page-aligned addresses
    default:
      return b == 0xff ? ~word{0} : word(in.byte()) << (b & 0x3f);
  }
}

constexpr Invocation kInvocations[] = {
    Invocation::kUntypedRetype,
    Invocation::kCNodeCopy,
    Invocation::kCNodeMint,
    Invocation::kCNodeMove,
    Invocation::kCNodeDelete,
    Invocation::kCNodeRevoke,
    Invocation::kCNodeSaveReply,
    Invocation::kThreadConfigure,
    Invocation::kThreadSetPriority,
    Invocation::kThreadSetTimeslice,
    Invocation::kThreadWriteRegisters,
    Invocation::kThreadReadRegisters,
    Invocation::kThreadResume,
    Invocation::kThreadSuspend,
    Invocation::kThreadRestart,
    Invocation::kThreadBindNotification,
    Invocation::kThreadUnbindNotification,
    Invocation::kAddressSpaceMap,
    Invocation::kAddressSpaceUnmap,
    Invocation::kFramePhysicalAddress,
    Invocation::kIrqControlGet,
    Invocation::kIrqHandlerSetNotification,
    Invocation::kIrqHandlerAck,
    Invocation::kIrqHandlerClear,
};

// One step: the current thread's next call, from the input.
void step(Input& in) {
  std::uint8_t kind = in.byte();
  word cap = cap_address(in.byte());
  std::uint8_t shape = in.byte();
  std::size_t length = shape & 7;
  if ((shape & 0x38) == 0x38) length = shape % 70;  // sometimes long, or too long
  word words[kMaxMessageWords] = {};
  std::size_t given = length < 6 ? length : 6;
  for (std::size_t i = 0; i < given; ++i)
    words[i] = argument(in);
  for (std::size_t i = given; i < length && i < kMaxMessageWords; ++i)
    words[i] = i * 7;
  word caps = (shape >> 6) & 3;
  core::Thread& t = current();
  if (caps != 0 && t.buffer() != nullptr) {
    for (word i = 0; i < caps; ++i)
      t.buffer()->caps[i] = cap_address(in.byte());
  }
  if (t.buffer() != nullptr && (kind & 0x80) != 0) {
    t.buffer()->receive_slot = cap_address(in.byte());
    t.buffer()->receive_count = in.byte() % 6;
  }
  word label;
  word number;
  if ((kind & 0x7f) < 40) {
    number = word(Syscall::kCall);
    label = word(kInvocations[kind % std::size(kInvocations)]);
  } else {
    number = (kind & 0x7f) % 15;  // 13 and 14 are not system calls: a fault
    label = in.byte();
  }
  std::uint32_t id = t.id;
  std::size_t trace_before = core::kernel().trace.recorded();
  issue(number, cap, MessageInfo(label, length, caps).raw(), words, length);
  // A fault stopped the caller (it has no fault endpoint): resume it as its supervisor would.
  const core::Trace& trace = core::kernel().trace;
  for (std::size_t i = trace_before; i < trace.recorded() && i < trace.capacity(); ++i) {
    const core::TraceEvent& e = trace.buffer()[i];
    if (e.kind != core::TraceKind::kFault || e.thread != id) continue;
    for (core::Thread* f : g_threads) {
      if (f->id == id && resumable(*f)) {
        ++g_faults_resumed;
        core::wake(*f);
        core::schedule();
      }
    }
    break;
  }
}

// Retypes `count` objects into the root CNode at `slot`, from the first boot untyped.
void retype(ObjectType type, word size_bits, word slot, word count) {
  Error e = invoke(g_prologue_untyped, Invocation::kUntypedRetype,
                   {word(type), size_bits, kRootCNodeSlot, slot, count});
  require(e == Error::kOk, "prologue: retype failed");
}

// The same start for every input: objects, and three threads below the root's priority.
void prologue() {
  g_threads.assign(1, &current());
  // The largest boot untyped block.
  core::CNode& root = *current().cspace();
  unsigned best = 0;
  for (word i = kFirstUntypedSlot; i < kFirstUntypedSlot + kMaxBootUntyped; ++i) {
    const core::Slot& u = *root.slot(i);
    if (u.cap.type == ObjectType::kUntyped && u.cap.size_bits > best) {
      best = u.cap.size_bits;
      g_prologue_untyped = i;
    }
  }
  word s = kFirstObjectSlot;
  retype(ObjectType::kEndpoint, 0, s, 2);                    // 200, 201
  retype(ObjectType::kNotification, 0, s + 2, 2);            // 202, 203
  retype(ObjectType::kCNode, 4, s + 4, 1);                   // 204
  retype(ObjectType::kFrame, 12, s + 5, 4);                  // 205..208
  retype(ObjectType::kThread, 0, s + 9, 3);                  // 209..211
  retype(ObjectType::kUntyped, 16, s + 12, 1);               // 212
  invoke(kRootCNodeSlot, Invocation::kCNodeMint, {s + 13});  // an error: too few arguments
  invoke(kRootCNodeSlot, Invocation::kCNodeMint,
         {s + 13, kRootCNodeSlot, s, word(Rights::kAll), 7});
  for (word i = 0; i < 3; ++i) {
    word thread = s + 9 + i;
    invoke(thread, Invocation::kThreadConfigure,
           {kRootCNodeSlot, kRootAddressSpaceSlot, s + 6 + i, 0x30000 + i * 0x1000, 0});
    invoke(thread, Invocation::kThreadSetPriority, {100 + 50 * i});
    invoke(thread, Invocation::kThreadResume, {});
    core::Slot* slot = current().cspace()->slot(thread);
    require(slot != nullptr && slot->cap.type == ObjectType::kThread, "prologue: no thread");
    g_threads.push_back(slot->cap.as<core::Thread>());
  }
}

// Deletes every capability but the boot objects' and revokes every untyped one; then only the
// boot objects may remain, and every untyped capability is free.
void teardown(core::CNode& root, core::Thread* boot_thread) {
  std::vector<core::Slot*> untyped;
  for (word i = 1; i < root.slot_count(); ++i) {
    core::Slot& slot = *root.slot(i);
    if (slot.cap.type == ObjectType::kUntyped && slot.parent == nullptr) untyped.push_back(&slot);
  }
  for (core::Slot* slot : untyped)
    core::slot_revoke(*slot);
  for (word i = 1; i < root.slot_count(); ++i) {
    core::Slot& slot = *root.slot(i);
    bool boot = i == kRootCNodeSlot || i == kRootThreadSlot || i == kRootAddressSpaceSlot ||
                i == kIrqControlSlot || i == kRootIpcFrameSlot || i == kBootInfoFrameSlot ||
                (slot.cap.type == ObjectType::kUntyped && slot.parent == nullptr);
    if (!boot) core::slot_delete(slot);
  }
  core::schedule();  // as at the end of the kernel entries that would have done this
  for (core::Slot* slot : untyped) {
    if (slot->cap.type == ObjectType::kUntyped)
      require(slot->first_child == nullptr, "teardown: an untyped capability still has children");
  }
  core::debug::InvariantReport report = core::debug::check_invariants(root);
  if (!report.ok())
    std::fprintf(stderr, "kernel_fuzz: after teardown: %s\n", report.failure.c_str());
  require(report.ok(), "invariants broken after teardown");
  // Left: at most the root CNode, the root thread and its address space.
  require(report.objects <= 3 && report.threads <= 1, "teardown: objects outlived their memory");
  require(report.untyped_children == 0, "teardown: untyped memory not returned");
  (void)boot_thread;
}

void run_once(const std::uint8_t* data, std::size_t size, bool fastpath) {
  static std::byte* memory = [] {
    void* m =
        mmap(nullptr, kMemoryBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    require(m != MAP_FAILED, "no memory");
    return static_cast<std::byte*>(m);
  }();
  static std::vector<core::TraceEvent> trace(1u << 16);
  arch::HostedState& s = arch::hosted();
  s = arch::HostedState{};
  s.memory = memory;
  s.memory_bytes = kMemoryBytes;
  core::MemoryRegion region{arch::Machine::kPhysicalBase, kMemoryBytes};
  core::BootConfig config{};
  config.regions = &region;
  config.region_count = 1;
  config.ipc_buffer_vaddr = kIpcBufferVaddr;
  config.boot_info_vaddr = kBootInfoVaddr;
  config.root_abi_version = kAbiVersion;
  require(core::boot(config), "boot failed");
  core::kernel().fastpath_enabled = fastpath;
  core::kernel().trace.attach(trace.data(), trace.size());
  core::CNode& root = *current().cspace();
  core::Thread* boot_thread = &current();
  prologue();
  Input in{data, size};
  for (std::size_t steps = 0; steps < kMaxSteps && !in.done(); ++steps) {
    if (core::kernel().current == nullptr && !unstick()) break;
    if (core::kernel().trace.recorded() + 64 >= trace.size())
      core::kernel().trace.attach(trace.data(), trace.size());
    observe();
    step(in);
  }
  core::debug::InvariantReport report = core::debug::check_invariants(root);
  if (!report.ok()) std::fprintf(stderr, "kernel_fuzz: %s\n", report.failure.c_str());
  require(report.ok(), "invariants broken");
  g_observed.push_back(s.console.size());
  teardown(root, boot_thread);
  core::reset_kernel();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ++g_inputs;
  g_observed.clear();
  run_once(data, size, true);
  std::vector<word> fast = std::move(g_observed);
  g_observed.clear();
  run_once(data, size, false);
  require(fast == g_observed, "the fast path and the slow path observed different results");
  return 0;
}

// How much the run did, so a run that never gets far is visible.
__attribute__((destructor)) static void report() {
  std::fprintf(stderr, "kernel_fuzz: %llu inputs, %llu system calls, %llu faults resumed\n",
               static_cast<unsigned long long>(g_inputs),
               static_cast<unsigned long long>(g_syscalls),
               static_cast<unsigned long long>(g_faults_resumed));
}
