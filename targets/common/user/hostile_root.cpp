// The hostile root task: seeded random system calls from user mode against the real kernel on
// bare metal (tests/qemu: qemu.<arch>.hostile; docs/fuzzing.md), then a short scenario that
// shows the system still works. The image's kernel checks its invariants when this task exits
// (src/arch/baremetal/root_exit_invariants.cpp).
//
// How this works: the root task (priority 255) builds a fuzz world and supervises it:
//   - three fuzz threads (priority 100) in an address space of their own, with this image's code
//     and read-only data mapped read-only, a stack, an IPC buffer each and a shared state page.
//     Their CSpace is the fuzz CNode: a CNode, an untyped block, endpoints, notifications, the
//     three fuzz threads themselves, a scratch address space, a frame, a second CNode, a copy of
//     the IRQ control capability, an I/O port range (x86-64), a forged fault endpoint and free
//     slots. Each thread loops forever: draw a system call (any number, every invocation label,
//     random labels), a capability address (filled slots, empty ones, out of range), a message
//     info word and argument words (small numbers, slots, types, sizes, rights, wild pointers into
//     kernel memory, unmapped and misaligned user addresses, extremes), scribble over its IPC
//     buffer (words past the registers, transferred capabilities, the receive window), and trap.
//     Half the invocations get arguments that could be right, so that objects are really made
//     and deleted. One step in 64 is a load or store through a wild pointer instead.
//   - their faults come to the root task through the fault endpoint (badge 0x100 + thread): a
//     faulting system call (unknown number, capability address outside the CSpace, abort) is
//     resumed by an empty reply; any other fault restarts the thread at its entry, reconfigured
//     (its CSpace, space, IPC buffer and fault endpoint may have been changed by a sibling).
//   - a watchdog thread of priority 1 runs only when every fuzz thread is blocked or stopped (a
//     receive with no sender, a call nobody answers, a suspend); it tells the root task, which
//     restarts them all.
//   - every kRefillCalls calls the root task empties the fuzz CNodes and revokes the fuzz
//     untyped block (every object the fuzz threads made goes), then refills the CNodes.
// Fuzz threads touch only their stack, their IPC buffer and the state page (this image's data
// pages are not mapped in their space): their random-number state and call counts live there,
// so a restart goes on where the thread stopped.
//
// The seed and the number of calls are build settings (UKERNEL_HOSTILE_SEED,
// UKERNEL_HOSTILE_CALLS; targets/common/baremetal.cmake); the task prints both.
#include <cstddef>
#include <cstdint>

#include "arch_kit.hpp"
#include "log.hpp"
#include "root_kit.hpp"
#include "ukernel/syscall.hpp"

namespace ukernel {
namespace {

using user::hex;
using user::Line;

constexpr word kSeed = UKERNEL_HOSTILE_SEED;
constexpr word kTargetCalls = UKERNEL_HOSTILE_CALLS;
constexpr word kRefillCalls = 20'000;
constexpr word kProgressLines = 10;
constexpr word kStallWakeups = 2'000;  // supervisor wakeups without a call: a stall

constexpr std::size_t kFuzzThreads = 3;
constexpr word kFuzzPriority = 100;
constexpr word kWatchdogPriority = 1;
constexpr word kServerPriority = 255;

// The fuzz space: stacks below kRootStackTop, IPC buffers from kUserIpcBuffer, the state page
// (also mapped at the same address in the root task's space).
constexpr word kStackSpacing = 0x100000;
constexpr word kStatePage = 0x30000000;
constexpr word kScratchBase = 0x50000000;  // page addresses fuzz threads map frames at

// The fuzz CNode (kFuzzCNodeBits: 64 slots) and what the refill puts there.
constexpr unsigned kFuzzCNodeBits = 6;
constexpr unsigned kSecondCNodeBits = 4;
constexpr word kFuzzSlots = word{1} << kFuzzCNodeBits;
enum FuzzSlot : word {
  kSlotCNode = 1,
  kSlotUntyped = 2,
  kSlotEndpoint = 3,
  kSlotEndpointBadged = 4,
  kSlotNotification = 5,
  kSlotNotificationBadged = 6,
  kSlotThread0 = 7,  // .. kSlotThread0 + kFuzzThreads - 1
  kSlotScratchSpace = 10,
  kSlotFrame = 11,
  kSlotSecondCNode = 12,
  kSlotIrqControl = 13,
  kSlotIoPorts = 14,
  kSlotForgedFault = 15,
  kFirstFreeSlot = 16,
};
static_assert(kSlotThread0 + kFuzzThreads <= kSlotScratchSpace);
constexpr unsigned kFuzzUntypedBits = 18;  // 256 KiB for the objects the fuzz threads make
constexpr unsigned kPoolBits = kFuzzUntypedBits + 1;

// Fault endpoint badges: which thread faulted, the watchdog, the forged copy.
constexpr word kThreadBadge = 0x100;
constexpr word kWatchdogBadge = 0x200;
constexpr word kForgedBadge = 0x300;

// The state page: per fuzz thread, its random-number state and its count of system calls.
struct alignas(64) FuzzThreadState {
  word random;
  word calls;
  word succeeded;  // calls that returned kOk
  word wild;       // loads and stores through wild pointers (not system calls)
};
struct StatePage {
  FuzzThreadState threads[kFuzzThreads];
};
static_assert(sizeof(StatePage) <= user::kPage);

word stack_top(std::size_t i) {
  return arch::kRootStackTop - i * kStackSpacing;
}
word ipc_address(std::size_t i) {
  return arch::kUserIpcBuffer + i * user::kPage;
}

StatePage& state_page() {
  return *reinterpret_cast<StatePage*>(kStatePage);
}

// splitmix64: one multiply-xorshift step per draw; good enough to pick calls, and cheap.
word next_random(word& state) {
  word z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// --- the fuzz threads (stack, IPC buffer and state page only) -------------------------------

class Draw {
 public:
  explicit Draw(word& state) : state_(state) {}
  word any() { return next_random(state_); }
  word below(word n) { return any() % n; }
  bool one_in(word n) { return below(n) == 0; }

  // A capability address: mostly a slot of the fuzz CNode, sometimes outside it.
  word cap() {
    switch (below(8)) {
      case 0:
        return below(kFuzzSlots + 4);  // 0 and a few past the end
      case 1:
        return pointer();
      default:
        return below(kFirstFreeSlot + 8);
    }
  }

  // Wild addresses: kernel memory of both back-ends, non-canonical, unmapped and misaligned
  // user memory, extremes.
  word pointer() {
    static constexpr word kPointers[] = {
        0,
        1,
        7,
        0xfff,
        0x1000,
        0x400000,  // this image's code (read-only in the fuzz space)
        0x400001,
        arch::kUserIpcBuffer,
        arch::kUserIpcBuffer + 8,
        arch::kUserIpcBuffer + 3,
        arch::kRootStackTop - 8,
        arch::kRootStackTop,
        0x7ffffffff000,
        0x7ffffffffff8,
        0x800000000000,      // x86-64: the first non-canonical address
        0xffff800000000000,  // x86-64: the kernel half
        0xffffffff80000000,  // x86-64: the kernel image
        0xffffffff80100000,
        0xffff000000000000,  // AArch64: TTBR1's half
        0xffff000040200000,  // AArch64: the kernel image
        0xffffffffffffffff,
        0xfffffffffffff000,
        0x8000000000000000,
        0x0001000000000000,
    };
    return below(4) == 0 ? any() : kPointers[below(std::size(kPointers))];
  }

  // A page address of the scratch region (a map there may succeed), sometimes misaligned.
  word scratch() { return kScratchBase + below(64) * user::kPage + (one_in(8) ? below(4096) : 0); }

  // An argument word: what invocations take, with everything else mixed in.
  word argument() {
    switch (below(12)) {
      case 0:
        return below(16);
      case 1:
      case 2:
        return cap();
      case 3:
        return below(word(ObjectType::kCount) + 2);
      case 4:
        return below(70);  // size bits
      case 5:
        return below(9);  // rights, frame attributes
      case 6:
        return pointer();
      case 7:
        return scratch();
      case 8:
        return below(256);  // priorities, IRQ lines, ports
      case 9:
        return below(20'000'000);  // timeslices, badges
      case 10:
        return ~word{0} - below(4);
      default:
        return any();
    }
  }

 private:
  word& state_;
};

// Every invocation label, a few near them, and the kernel's own labels.
constexpr word kLabels[] = {
    word(Invocation::kUntypedRetype),
    word(Invocation::kCNodeCopy),
    word(Invocation::kCNodeMint),
    word(Invocation::kCNodeMove),
    word(Invocation::kCNodeDelete),
    word(Invocation::kCNodeRevoke),
    word(Invocation::kCNodeSaveReply),
    word(Invocation::kThreadConfigure),
    word(Invocation::kThreadSetPriority),
    word(Invocation::kThreadSetTimeslice),
    word(Invocation::kThreadWriteRegisters),
    word(Invocation::kThreadReadRegisters),
    word(Invocation::kThreadResume),
    word(Invocation::kThreadSuspend),
    word(Invocation::kThreadRestart),
    word(Invocation::kThreadBindNotification),
    word(Invocation::kThreadUnbindNotification),
    word(Invocation::kAddressSpaceMap),
    word(Invocation::kAddressSpaceUnmap),
    word(Invocation::kFramePhysicalAddress),
    word(Invocation::kIrqControlGet),
    word(Invocation::kIrqHandlerSetNotification),
    word(Invocation::kIrqHandlerAck),
    word(Invocation::kIrqHandlerClear),
    word(Invocation::kIrqHandlerMsiMessage),
    word(Invocation::kIoPortsRead),
    word(Invocation::kIoPortsWrite),
    word(Invocation::kIoPortsIssue),
    0,
    2,
    30,
    73,
    kFaultLabel,
    kNotificationLabel,
    kMaxLabel - 2,
};

void fuzz_main(word index);

// Half the invocations get arguments that could be right (a capability of the right kind, a
// free slot, a size the type takes), so that calls succeed and the kernel makes, maps, binds,
// moves and deletes real objects; the other half get anything. Writes the capability and the
// arguments into `frame`; returns the message length.
std::size_t plausible_invocation(Draw& draw, word label, arch::UserFrame& frame) {
  auto pick = [&](std::initializer_list<word> choices) {
    return *(choices.begin() + draw.below(choices.size()));
  };
  auto free_slot = [&] { return kFirstFreeSlot + draw.below(kFuzzSlots - kFirstFreeSlot); };
  auto any_slot = [&] { return 1 + draw.below(kFuzzSlots - 1); };
  auto cnode = [&] { return draw.one_in(4) ? free_slot() : pick({kSlotCNode, kSlotSecondCNode}); };
  auto made = [&](word fixed) { return draw.one_in(3) ? free_slot() : fixed; };
  word args[6] = {};
  std::size_t n = 0;
  word cap = 0;
  switch (Invocation(label)) {
    case Invocation::kUntypedRetype: {
      cap = made(kSlotUntyped);
      auto type = ObjectType(1 + draw.below(7));
      word bits = type == ObjectType::kUntyped ? 4 + draw.below(14)
                  : type == ObjectType::kCNode ? 2 + draw.below(7)
                  : type == ObjectType::kFrame ? 12 + draw.below(3)
                                               : draw.below(17);
      args[0] = word(type), args[1] = bits, args[2] = cnode(), args[3] = free_slot();
      args[4] = 1 + draw.below(3), args[5] = draw.below(4);
      n = 5 + draw.below(2);
      break;
    }
    case Invocation::kCNodeCopy:
    case Invocation::kCNodeMint:
    case Invocation::kCNodeMove:
      cap = cnode();
      args[0] = free_slot(), args[1] = cnode(), args[2] = any_slot(), args[3] = draw.below(8);
      args[4] = draw.below(0x1000);
      n = 5;
      break;
    case Invocation::kCNodeDelete:
    case Invocation::kCNodeRevoke:
    case Invocation::kCNodeSaveReply:
      cap = cnode(), args[0] = draw.one_in(2) ? free_slot() : any_slot(), n = 1;
      break;
    case Invocation::kThreadConfigure:
      cap = made(kSlotThread0 + draw.below(kFuzzThreads));
      args[0] = cnode(), args[1] = made(kSlotScratchSpace),
      args[2] = pick({0, kSlotFrame, free_slot()});
      args[3] = draw.one_in(2) ? draw.scratch() : draw.pointer();
      args[4] = pick({0, kSlotEndpoint, kSlotEndpointBadged, kSlotForgedFault, free_slot()});
      n = 5;
      break;
    case Invocation::kThreadSetPriority:
    case Invocation::kThreadSetTimeslice:
    case Invocation::kThreadWriteRegisters:
    case Invocation::kThreadReadRegisters:
    case Invocation::kThreadResume:
    case Invocation::kThreadSuspend:
    case Invocation::kThreadRestart:
    case Invocation::kThreadBindNotification:
    case Invocation::kThreadUnbindNotification:
      cap = made(kSlotThread0 + draw.below(kFuzzThreads));
      args[0] = label == word(Invocation::kThreadSetPriority)    ? draw.below(kFuzzPriority + 2)
                : label == word(Invocation::kThreadSetTimeslice) ? draw.below(10'000'000)
                : label == word(Invocation::kThreadBindNotification)
                    ? made(pick({kSlotNotification, kSlotNotificationBadged}))
                    : (draw.one_in(2) ? reinterpret_cast<word>(&fuzz_main) : draw.pointer());
      args[1] = draw.one_in(2) ? stack_top(draw.below(kFuzzThreads + 1)) - 64 : draw.pointer();
      args[2] = draw.below(kFuzzThreads + 1);
      n = 3;
      break;
    case Invocation::kAddressSpaceMap:
    case Invocation::kAddressSpaceUnmap:
      cap = made(kSlotScratchSpace);
      if (label == word(Invocation::kAddressSpaceUnmap)) {
        args[0] = draw.scratch(), n = 1;
      } else {
        args[0] = made(kSlotFrame), args[1] = draw.scratch(), args[2] = draw.below(8), n = 3;
      }
      break;
    case Invocation::kIrqControlGet:
      cap = kSlotIrqControl, args[0] = draw.below(80), args[1] = cnode(), args[2] = free_slot();
      n = 3;
      break;
    case Invocation::kIoPortsRead:
    case Invocation::kIoPortsWrite:
    case Invocation::kIoPortsIssue:
      cap = made(kSlotIoPorts), args[0] = 0x7f + draw.below(3), args[1] = pick({0, 1, 2, 3, 4, 8});
      args[2] = draw.below(256), args[3] = free_slot(), n = 2 + draw.below(3);
      if (label == word(Invocation::kIoPortsIssue)) args[2] = cnode();
      break;
    default:  // frames and IRQ handlers: what retype and IrqControlGet left in the free slots
      cap = draw.one_in(4) ? kSlotFrame : free_slot();
      args[0] = made(pick({kSlotNotification, kSlotNotificationBadged}));
      n = 1;
      break;
  }
  frame[unsigned(SysReg::kCap)] = cap;
  for (std::size_t i = 0; i < n && i < arch::kUserMessageRegisters; ++i)
    frame[unsigned(SysReg::kMr0) + i] = args[i];
  return n;
}

// One random system call.
bool hostile_call(Draw& draw) {
  arch::UserFrame frame = arch::user_frame();
  word number;
  switch (draw.below(16)) {
    case 0:
      number = word(Syscall::kCount) + draw.below(4);
      break;  // no such call: a fault
    case 1:
      number = draw.one_in(2) ? draw.any() : ~word{0};
      break;
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
      number = word(Syscall::kCall);
      break;  // invocations: most of the kernel's surface
    default:
      number = draw.below(word(Syscall::kCount));
      break;
  }
  word label = draw.one_in(8) ? draw.any() >> 12 : kLabels[draw.below(std::size(kLabels))];
  std::size_t length = draw.one_in(8) ? draw.below(128) : draw.below(8);
  word caps = draw.one_in(4) ? draw.below(8) : 0;
  word flags = draw.one_in(8) ? draw.below(4) : 0;
  for (std::size_t i = 0; i < std::size(frame.regs); ++i)
    frame[i] = draw.argument();
  if (number == word(Syscall::kDebugWrite)) {
    // At most 16 printable bytes ending in a newline: the serial log stays readable, and the
    // run fast.
    length = draw.below(17);
    for (std::size_t i = 0; i < arch::kUserMessageRegisters; ++i)
      frame[unsigned(SysReg::kMr0) + i] =
          0x6161616161616161ull + (draw.any() & 0x0f0f0f0f0f0f0f0full);
    if (length > 0) {
      word& last = frame[unsigned(SysReg::kMr0) + (length - 1) / 8];
      unsigned shift = 8 * ((length - 1) % 8);
      last = (last & ~(word{0xff} << shift)) | word{'\n'} << shift;
    }
  }
  frame[unsigned(SysReg::kStatus)] = number;
  frame[unsigned(SysReg::kCap)] = draw.cap();
  if (number == word(Syscall::kCall) && label < 100 && draw.one_in(2)) {
    length = plausible_invocation(draw, label, frame);
  } else if (number <= word(Syscall::kPoll) && draw.one_in(2)) {
    // IPC on the endpoints and notifications the fuzz CNode holds, or made since.
    frame[unsigned(SysReg::kCap)] =
        draw.one_in(4) ? kFirstFreeSlot + draw.below(kFuzzSlots - kFirstFreeSlot)
                       : kSlotEndpoint + draw.below(kSlotNotificationBadged - kSlotEndpoint + 1);
  }
  frame[unsigned(SysReg::kInfo)] = MessageInfo(label, length, caps, flags).raw();
  if (draw.one_in(4)) {
    // The IPC buffer: words past the registers, capabilities to transfer, the receive window.
    // Wherever the thread's buffer is now (a sibling may have moved it): a fault restarts it.
    IpcBuffer* buffer = arch::user_ipc_buffer();
    for (std::size_t i = kMessageRegisters; i < kMessageRegisters + 8; ++i)
      buffer->msg[i] = draw.argument();
    for (word& c : buffer->caps)
      c = draw.cap();
    buffer->receive_slot = draw.one_in(2) ? kFirstFreeSlot + draw.below(kFuzzSlots) : draw.cap();
    buffer->receive_count = draw.below(6);
  }
  arch::user_trap(frame);
  return frame[unsigned(SysReg::kStatus)] == word(Error::kOk);
}

// A load or store through a wild pointer: kernel memory, non-canonical, unmapped, read-only
// code; most fault (the root task restarts the thread), a few hit the thread's own memory.
void wild_access(Draw& draw) {
  auto* p = reinterpret_cast<volatile word*>(draw.pointer());
  if (draw.one_in(2)) {
    *p = draw.any();
  } else {
    (void)*p;
  }
}

void fuzz_main(word index) {
  FuzzThreadState& self = state_page().threads[index % kFuzzThreads];
  for (;;) {
    Draw draw(self.random);
    if (draw.one_in(64)) {
      ++self.wild;
      wild_access(draw);
      continue;
    }
    ++self.calls;
    if (hostile_call(draw)) ++self.succeeded;
  }
}

void watchdog_main(word endpoint) {
  for (;;)
    (void)send(endpoint, Message(MessageInfo(1, 0)));
}

// The echo server of the scenario after the fuzzing: replies with the words plus one.
void echo_main(word endpoint) {
  Message m = recv(endpoint);
  for (;;) {
    Message r(MessageInfo(m.label(), m.info.length()));
    for (std::size_t i = 0; i < m.info.length() && i < kMessageRegisters; ++i)
      r.words[i] = m.words[i] + 1;
    m = reply_recv(endpoint, r);
  }
}

// --- the root task ----------------------------------------------------------------------------

struct Root : user::RootKit {
  word pool;  // the fuzz untyped block's parent (revoked by each refill)
  word fuzz_space;
  word fuzz_cnode;
  word second_cnode;
  word endpoint;
  word notification;
  word scratch_space;
  word frame;
  word fault_endpoint;
  word threads[kFuzzThreads];
  word thread_faults[kFuzzThreads];  // minted fault endpoints, badge kThreadBadge + i
  word ipc_frames[kFuzzThreads];
  word watchdog;
  word faults;
  word resumed;
  word restarts;
  word watchdog_alarms;
  word forged;
  word refills;
  word stalls;
};
Root root;
user::Checks checks;

void report(bool ok, std::string_view what) {
  checks.report("hostile", ok, what);
}

word total_calls() {
  word total = 0;
  for (const FuzzThreadState& t : state_page().threads)
    total += t.calls;
  return total;
}

// Puts fuzz thread i back as it was made: its CSpace, space, IPC buffer, fault endpoint,
// priority, and its entry.
void reset_thread(std::size_t i) {
  ++root.restarts;
  (void)thread_suspend(root.threads[i]);
  (void)thread_unbind_notification(root.threads[i]);
  (void)thread_configure(root.threads[i], root.fuzz_cnode, root.fuzz_space, root.ipc_frames[i],
                         ipc_address(i), root.thread_faults[i]);
  (void)thread_set_priority(root.threads[i], kFuzzPriority);
  (void)thread_set_timeslice(root.threads[i], kDefaultTimesliceNs);
  (void)thread_restart(root.threads[i], reinterpret_cast<word>(&fuzz_main),
                       user::entry_stack(stack_top(i)), i);
}

// Empties the fuzz CNodes, takes back every object the fuzz threads made, and fills the fuzz
// CNode again.
bool refill() {
  ++root.refills;
  for (word s = 1; s < kFuzzSlots; ++s)
    (void)cnode_delete(root.fuzz_cnode, s);
  for (word s = 1; s < (word{1} << kSecondCNodeBits); ++s)
    (void)cnode_delete(root.second_cnode, s);
  (void)cnode_revoke(kRootCNodeSlot, root.pool);
  word c = root.fuzz_cnode;
  bool ok =
      cnode_copy(c, kSlotCNode, kRootCNodeSlot, root.fuzz_cnode, Rights::kAll) == Error::kOk &&
      retype(root.pool, ObjectType::kUntyped, kFuzzUntypedBits, c, kSlotUntyped) == Error::kOk &&
      cnode_copy(c, kSlotEndpoint, kRootCNodeSlot, root.endpoint, Rights::kAll) == Error::kOk &&
      cnode_mint(c, kSlotEndpointBadged, kRootCNodeSlot, root.endpoint,
                 Rights::kWrite | Rights::kGrant, 0x77) == Error::kOk &&
      cnode_copy(c, kSlotNotification, kRootCNodeSlot, root.notification, Rights::kAll) ==
          Error::kOk &&
      cnode_mint(c, kSlotNotificationBadged, kRootCNodeSlot, root.notification, Rights::kWrite,
                 0x1) == Error::kOk &&
      cnode_copy(c, kSlotScratchSpace, kRootCNodeSlot, root.scratch_space, Rights::kAll) ==
          Error::kOk &&
      cnode_copy(c, kSlotFrame, kRootCNodeSlot, root.frame, Rights::kAll) == Error::kOk &&
      cnode_copy(c, kSlotSecondCNode, kRootCNodeSlot, root.second_cnode, Rights::kAll) ==
          Error::kOk &&
      cnode_mint(c, kSlotForgedFault, kRootCNodeSlot, root.fault_endpoint, Rights::kWrite,
                 kForgedBadge) == Error::kOk;
  for (std::size_t i = 0; i < kFuzzThreads && ok; ++i)
    ok = cnode_copy(c, kSlotThread0 + i, kRootCNodeSlot, root.threads[i], Rights::kAll) ==
         Error::kOk;
  // What not every back-end has: the IRQ control capability may not be copyable, I/O ports
  // exist on x86-64 only (a range of harmless ports: 0x80, the POST diagnostic port).
  (void)cnode_copy(c, kSlotIrqControl, kRootCNodeSlot, kIrqControlSlot, Rights::kAll);
  (void)io_ports_issue(kIoPortsSlot, 0x80, 1, c, kSlotIoPorts);
  return ok;
}

bool build_fuzz_world() {
  root.pool = root.make(ObjectType::kUntyped, kPoolBits);
  root.fuzz_space = root.make_code_space();
  root.fuzz_cnode = root.make(ObjectType::kCNode, kFuzzCNodeBits);
  root.second_cnode = root.make(ObjectType::kCNode, kSecondCNodeBits);
  root.endpoint = root.make(ObjectType::kEndpoint);
  root.notification = root.make(ObjectType::kNotification);
  root.scratch_space = root.make(ObjectType::kAddressSpace, 16);
  root.frame = root.make(ObjectType::kFrame, 12);
  root.fault_endpoint = root.make(ObjectType::kEndpoint);
  if (root.pool == 0 || root.fuzz_space == 0 || root.fuzz_cnode == 0 || root.second_cnode == 0 ||
      root.endpoint == 0 || root.notification == 0 || root.scratch_space == 0 || root.frame == 0 ||
      root.fault_endpoint == 0)
    return false;
  // The state page, in both spaces.
  word state = root.map_fresh_frame(kRootAddressSpaceSlot, kStatePage);
  word state_copy = state ? root.copy(state, Rights::kRead | Rights::kWrite) : 0;
  if (state_copy == 0 || map_frame(root.fuzz_space, state_copy, kStatePage,
                                   Rights::kRead | Rights::kWrite) != Error::kOk)
    return false;
  word random = kSeed;
  for (std::size_t i = 0; i < kFuzzThreads; ++i) {
    state_page().threads[i] = {next_random(random), 0, 0, 0};
    root.threads[i] = root.make(ObjectType::kThread);
    root.thread_faults[i] = root.mint(root.fault_endpoint, Rights::kWrite, kThreadBadge + i);
    root.ipc_frames[i] = root.map_fresh_frame(root.fuzz_space, ipc_address(i));
    if (root.threads[i] == 0 || root.thread_faults[i] == 0 || root.ipc_frames[i] == 0 ||
        root.map_fresh_frame(root.fuzz_space, stack_top(i) - user::kPage) == 0 ||
        root.map_fresh_frame(root.fuzz_space, stack_top(i) - 2 * user::kPage) == 0)
      return false;
  }
  word watchdog_fault = root.mint(root.fault_endpoint, Rights::kWrite, kWatchdogBadge);
  // The watchdog's CSpace: a CNode of its own with its fault endpoint capability in slot 1.
  word watchdog_cnode = root.make(ObjectType::kCNode, 2);
  constexpr std::size_t kWatchdogStack = kFuzzThreads;
  if (watchdog_fault == 0 || watchdog_cnode == 0 ||
      cnode_copy(watchdog_cnode, 1, kRootCNodeSlot, watchdog_fault, Rights::kWrite) != Error::kOk ||
      root.map_fresh_frame(root.fuzz_space, stack_top(kWatchdogStack) - user::kPage) == 0 ||
      !refill())
    return false;
  root.watchdog = root.start_thread(watchdog_main, 1, watchdog_cnode, root.fuzz_space, 0, 0,
                                    kWatchdogPriority, stack_top(kWatchdogStack));
  if (root.watchdog == 0) return false;
  for (std::size_t i = 0; i < kFuzzThreads; ++i)
    reset_thread(i);
  root.restarts = 0;
  return true;
}

// What a faulting system call leaves behind can be resumed (it returns kCancelled); a hardware
// fault would only happen again, so the thread starts over.
bool resumable(FaultKind kind) {
  return kind == FaultKind::kInvalidSyscall || kind == FaultKind::kCapability ||
         kind == FaultKind::kAbort;
}

void supervise() {
  word next_refill = kRefillCalls;
  word next_progress = kTargetCalls / kProgressLines;
  word stalled_at = 0, stalled_wakeups = 0;
  for (;;) {
    word calls = total_calls();
    if (calls >= next_progress) {
      Line line;
      line << "hostile: " << calls << " calls, " << root.faults << " faults, " << root.restarts
           << " restarts";
      line.end();
      next_progress += kTargetCalls / kProgressLines;
    }
    if (calls >= kTargetCalls) break;
    // A stall: the root task keeps being woken, but the fuzz threads make no calls. A thread the
    // fuzz threads made, whose fault endpoint is the forged one, faults again each time it is
    // released (the root task's next receive drops the reply it did not answer), at a priority
    // that keeps the watchdog from ever running. The refill deletes what the fuzz threads made.
    bool stalled = false;
    if (calls != stalled_at) {
      stalled_at = calls, stalled_wakeups = 0;
    } else if (++stalled_wakeups == kStallWakeups) {
      stalled_wakeups = 0, stalled = true;
      ++root.stalls;
    }
    if (calls >= next_refill || stalled) {
      next_refill = calls + kRefillCalls;
      if (!refill()) {
        (void)debug_write("FAIL: hostile: the fuzz CNode could not be refilled\n");
        break;
      }
      for (std::size_t i = 0; i < kFuzzThreads; ++i)
        reset_thread(i);
    }
    Message m = recv(root.fault_endpoint);
    if (!m.ok()) continue;
    if (m.badge == kWatchdogBadge) {
      ++root.watchdog_alarms;
      for (std::size_t i = 0; i < kFuzzThreads; ++i)
        reset_thread(i);
      continue;
    }
    word index = m.badge - kThreadBadge;
    if (index >= kFuzzThreads || m.label() != kFaultLabel) {
      ++root.forged;  // a fuzz thread's own message: not answered (the watchdog frees it)
      continue;
    }
    ++root.faults;
    if (resumable(FaultKind(m.words[0]))) {
      ++root.resumed;
      (void)reply(Message());
    } else {
      reset_thread(index);
    }
  }
  for (std::size_t i = 0; i < kFuzzThreads; ++i)
    (void)thread_suspend(root.threads[i]);
  (void)thread_suspend(root.watchdog);
  word succeeded = 0, wild = 0;
  for (const FuzzThreadState& t : state_page().threads)
    succeeded += t.succeeded, wild += t.wild;
  Line line;
  line << "hostile: " << total_calls() << " calls, " << succeeded << " returned kOk; "
       << root.faults << " faults (" << root.resumed << " resumed), " << root.restarts
       << " restarts";
  line.end();
  Line more;
  more << "hostile: " << wild << " wild loads and stores, " << root.watchdog_alarms
       << " watchdog alarms, " << root.forged << " forged messages, " << root.refills
       << " refills (" << root.stalls << " for stalls)";
  more.end();
}

// --- after the fuzzing: the system still works ------------------------------------------------

void scenario_after() {
  word endpoint = root.make(ObjectType::kEndpoint);
  word server_cnode = root.make(ObjectType::kCNode, 2);
  word space = root.make_code_space();
  bool built = endpoint != 0 && server_cnode != 0 && space != 0 &&
               cnode_copy(server_cnode, 1, kRootCNodeSlot, endpoint, Rights::kRead) == Error::kOk &&
               root.map_fresh_frame(space, arch::kRootStackTop - user::kPage) != 0;
  word server = built ? root.start_thread(echo_main, 1, server_cnode, space, 0, 0, kServerPriority,
                                          arch::kRootStackTop)
                      : 0;
  Message request(MessageInfo(5, 4));
  for (std::size_t i = 0; i < 4; ++i)
    request.words[i] = 10 * i;
  Message r = server ? call(endpoint, request) : Message();
  report(server != 0 && r.ok() && r.label() == 5 && r.info.length() == 4 && r.words[0] == 1 &&
             r.words[3] == 31,
         "after the fuzzing: an IPC round trip to a new server, 4 words");

  word notification = root.make(ObjectType::kNotification);
  word signaller = notification ? root.mint(notification, Rights::kWrite, 0x24) : 0;
  Message w = signaller && signal(signaller) == Error::kOk ? wait(notification) : Message();
  report(signaller != 0 && w.ok() && w.badge == 0x24,
         "after the fuzzing: a notification signalled and waited for, badge 0x24");

  // Objects made, deleted and made again in the same slots; a revoked untyped block makes the
  // same objects again (its memory came back).
  word block = root.make(ObjectType::kUntyped, 16);
  word first = root.slot();
  root.slot();
  root.slot();
  bool made = block != 0;
  for (int round = 0; round < 2 && made; ++round) {
    made = retype(block, ObjectType::kThread, 0, kRootCNodeSlot, first) == Error::kOk &&
           retype(block, ObjectType::kCNode, 6, kRootCNodeSlot, first + 1) == Error::kOk &&
           retype(block, ObjectType::kFrame, 12, kRootCNodeSlot, first + 2) == Error::kOk &&
           cnode_delete(kRootCNodeSlot, first) == Error::kOk &&
           cnode_revoke(kRootCNodeSlot, block) == Error::kOk;
  }
  report(made, "after the fuzzing: objects made, deleted and made again from a revoked block");
  report(server != 0 && thread_suspend(server) == Error::kOk,
         "after the fuzzing: suspend the server");
}

}  // namespace
}  // namespace ukernel

extern "C" ukernel::word user_main(ukernel::word boot_info_address) {
  using namespace ukernel;
  root.init(boot_info_address);
  Line banner;
  banner << "hostile: seed " << kSeed << ", " << kTargetCalls << " system calls from "
         << kFuzzThreads << " threads";
  banner.end();
  bool built = build_fuzz_world();
  report(built, "the fuzz threads, their CSpace and the supervisor are set up");
  if (built) supervise();
  scenario_after();
  return checks.summarise("hostile");
}
