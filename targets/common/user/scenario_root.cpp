// The kernel scenario of the bare-metal back-ends: a root task in user mode that tests the kernel
// core through ukernel/syscall.hpp, printing one line per check; it returns the number of failed
// checks (its kAbort code: 0 makes the image exit with success). The same source runs on every
// back-end; what differs (the cycle counter, the faulting instructions, checks an architecture
// cannot make, checks of what only one architecture has) comes from arch_kit.hpp,
// fault_cases.hpp and arch_checks.hpp of the image's target (targets/<arch>/user/), and a
// skipped check is printed as "skip: ..." with the reason.
//
// Threads and spaces: the root task (priority 255) builds a second address space with this
// image's code and read-only data mapped read-only (the same frames, through copies of the root
// image's frame capabilities), plus fresh frames for stacks and an IPC buffer. Two threads run
// there: an echo server (priority 255, so IPC takes the fast path when it is on), and a
// fault-test thread (priority 100, no IPC buffer) that the root task restarts at a different
// faulting instruction each time its fault message arrives. Code that runs in the second space
// touches only its stack: this image's data pages are not mapped there.
#include <cstddef>

#include <iterator>

#include "arch_checks.hpp"
#include "arch_kit.hpp"
#include "fault_cases.hpp"
#include "log.hpp"
#include "root_kit.hpp"
#include "ukernel/syscall.hpp"

namespace ukernel {
namespace {

using user::hex;
using user::Line;

// The second address space: stacks of the server and of the fault-test thread.
constexpr word kServerStackTop = arch::kRootStackTop;
constexpr word kFaultStackTop = arch::kRootStackTop - 0x100000;
constexpr word kSpinnerStackTop = arch::kRootStackTop - 0x200000;
constexpr word kServerPriority = 255;
constexpr word kFaultThreadPriority = 100;

// The CSpace of the second space's threads: a CNode of 16 slots.
constexpr unsigned kServerCNodeBits = 4;
constexpr word kServerEndpoint = 1;
constexpr word kServerNotification = 2;
constexpr word kServerNotificationBadge = 0x8;
constexpr word kPeerFreeSlot = 3;  // for the architecture's checks (user::Scenario)
static_assert(user::kBadCapabilityAddress >= word{1} << kServerCNodeBits);

// Labels of requests to the echo server.
constexpr word kEchoLabel = 1;
constexpr word kSignalLabel = 2;  // signal the server's notification, then echo

constexpr word kFaultBadge = 0xfa;

word word_address(const void* p) {
  return reinterpret_cast<word>(p);
}

// --- the threads of the second address space (stack only) -----------------------------------

// Echoes every request: the reply's label is the caller's badge, its words are the request's
// words plus one, its length the request's length.
void server_main(word) {
  Message m = recv(kServerEndpoint);
  for (;;) {
    Message r(MessageInfo(m.badge, m.info.length()));
    for (std::size_t i = 0; i < m.info.length(); ++i)
      set_message_word(r, i, message_word(m, i) + 1);
    if (m.label() == kSignalLabel) (void)signal(kServerNotification);
    m = reply_recv(kServerEndpoint, r);
  }
}

// Runs until suspended; only the timer takes the CPU from it.
void spinner_main(word) {
  for (;;)
    user::spin_hint();
}

// --- the root task ---------------------------------------------------------------------------

using Root = user::RootKit;
user::Checks checks;

void report(bool ok, std::string_view group, std::string_view what) {
  checks.report(group, ok, what);
}

Root root;

struct SecondSpace {
  word space = 0;
  word cnode = 0;
  word server = 0;
  word fault_thread = 0;
};

bool build_second_space(SecondSpace& s, word endpoint, word notification, word fault_endpoint) {
  s.space = root.make_code_space();
  s.cnode = root.make(ObjectType::kCNode, kServerCNodeBits);
  if (s.space == 0 || s.cnode == 0) return false;
  word ipc = root.map_fresh_frame(s.space, arch::kUserIpcBuffer);
  if (ipc == 0 || root.map_fresh_frame(s.space, kServerStackTop - user::kPage) == 0 ||
      root.map_fresh_frame(s.space, kFaultStackTop - user::kPage) == 0 ||
      root.map_fresh_frame(s.space, kSpinnerStackTop - user::kPage) == 0) {
    return false;
  }
  if (cnode_copy(s.cnode, kServerEndpoint, kRootCNodeSlot, endpoint, Rights::kRead) != Error::kOk ||
      cnode_mint(s.cnode, kServerNotification, kRootCNodeSlot, notification, Rights::kWrite,
                 kServerNotificationBadge) != Error::kOk) {
    return false;
  }
  s.server = root.start_thread(server_main, 0, s.cnode, s.space, ipc, fault_endpoint,
                               kServerPriority, kServerStackTop);
  // The fault-test thread starts when the fault tests restart it.
  s.fault_thread = root.make(ObjectType::kThread);
  return s.server != 0 && s.fault_thread != 0 &&
         thread_configure(s.fault_thread, s.cnode, s.space, 0, 0, fault_endpoint) == Error::kOk &&
         thread_set_priority(s.fault_thread, kFaultThreadPriority) == Error::kOk;
}

// A call to the echo server with `length` words (i * 3 + 1) and `label`; checks the echo.
bool echo_ok(word endpoint, std::size_t length, word expected_badge, word label = kEchoLabel) {
  Message m(MessageInfo(label, length));
  for (std::size_t i = 0; i < length; ++i)
    set_message_word(m, i, i * 3 + 1);
  Message r = call(endpoint, m);
  if (!r.ok() || r.label() != expected_badge || r.info.length() != length) return false;
  for (std::size_t i = 0; i < length; ++i) {
    if (message_word(r, i) != i * 3 + 2) return false;
  }
  return true;
}

void ipc_tests(word endpoint, word server_space_ok) {
  report(server_space_ok != 0, "ipc", "second address space with an echo server");
  report(echo_ok(endpoint, 0, 0), "ipc", "call/reply_recv, 0 words");
  report(echo_ok(endpoint, 6, 0), "ipc", "call/reply_recv, 6 words (registers)");
  report(echo_ok(endpoint, 7, 0), "ipc", "call/reply_recv, 7 words (IPC buffer)");
  report(echo_ok(endpoint, 64, 0), "ipc", "call/reply_recv, 64 words");
  word a = root.mint(endpoint, Rights::kWrite, 0x11);
  word b = root.mint(endpoint, Rights::kWrite, 0x22);
  report(a != 0 && b != 0 && echo_ok(a, 2, 0x11) && echo_ok(b, 2, 0x22) && echo_ok(a, 9, 0x11),
         "ipc", "badges identify the caller");
  bool many = true;
  for (word i = 0; i < 100 && many; ++i)
    many = echo_ok(a, i % 8, 0x11);
  report(many, "ipc", "100 calls in a row");
  Message too_long(MessageInfo(kEchoLabel, kMaxMessageWords + 1));
  report(call(endpoint, too_long).status == Error::kInvalidArgument, "ipc",
         "65 words: kInvalidArgument");
}

void notification_tests(word notification, word endpoint) {
  word one = root.mint(notification, Rights::kWrite, 0x1);
  word four = root.mint(notification, Rights::kWrite, 0x4);
  word reader = root.copy(notification, Rights::kRead);
  report(signal(one) == Error::kOk && signal(four) == Error::kOk && signal(one) == Error::kOk,
         "notify", "signal");
  Message w = wait(reader);
  report(w.ok() && w.badge == 0x5, "notify", "wait returns the accumulated bits 0x5");
  Message p = poll(reader);
  report(p.ok() && p.badge == 0, "notify", "poll after wait: no bits");
  (void)signal(four);
  p = poll(reader);
  report(p.ok() && p.badge == 0x4, "notify", "poll returns 0x4");
  report(echo_ok(endpoint, 1, 0, kSignalLabel), "notify", "the server signals");
  w = wait(reader);
  report(w.ok() && w.badge == kServerNotificationBadge, "notify",
         "wait returns the server's badge 0x8");
  report(signal(reader) == Error::kInsufficientRights, "notify",
         "signal without write: kInsufficientRights");
  report(wait(one).status == Error::kInsufficientRights, "notify",
         "wait without read: kInsufficientRights");
  report(signal(notification) == Error::kInvalidArgument, "notify",
         "signal with badge 0: kInvalidArgument");
  report(signal(endpoint) == Error::kWrongType, "notify", "signal on an endpoint: kWrongType");
}

void capability_tests(word endpoint) {
  word copy = root.copy(endpoint, Rights::kWrite);
  report(copy != 0 && echo_ok(copy, 3, 0), "caps", "copy, then call through the copy");
  word badged = root.mint(endpoint, Rights::kWrite, 0x33);
  report(badged != 0 && echo_ok(badged, 3, 0x33), "caps", "mint with badge 0x33");
  word again = root.slot();
  report(cnode_mint(kRootCNodeSlot, again, kRootCNodeSlot, badged, Rights::kWrite, 0x44) ==
             Error::kIllegalOperation,
         "caps", "re-mint a badged capability: kIllegalOperation");
  report(cnode_copy(kRootCNodeSlot, copy, kRootCNodeSlot, endpoint, Rights::kAll) ==
             Error::kSlotOccupied,
         "caps", "copy into an occupied slot: kSlotOccupied");
  word read_only = root.copy(endpoint, Rights::kRead);
  report(call(read_only, Message(MessageInfo(kEchoLabel, 0))).status == Error::kInsufficientRights,
         "caps", "call without write: kInsufficientRights");
  word empty = root.slot();
  report(call(empty, Message(MessageInfo(kEchoLabel, 0))).status == Error::kInvalidCapability,
         "caps", "call on an empty slot: kInvalidCapability");
  report(cnode_delete(kRootCNodeSlot, copy) == Error::kOk &&
             call(copy, Message()).status == Error::kInvalidCapability,
         "caps", "deleted capability: kInvalidCapability");
  // Revoke: the copies of a second endpoint go, the original stays.
  word other = root.make(ObjectType::kEndpoint);
  word c1 = root.copy(other, Rights::kAll);
  word c2 = root.mint(other, Rights::kWrite, 0x55);
  report(other != 0 && c1 != 0 && c2 != 0 && cnode_revoke(kRootCNodeSlot, other) == Error::kOk,
         "caps", "revoke");
  report(try_send(c1, Message()) == Error::kInvalidCapability &&
             try_send(c2, Message()) == Error::kInvalidCapability,
         "caps", "revoked copies: kInvalidCapability");
  report(try_send(other, Message()) == Error::kWouldBlock, "caps",
         "the original survives revoke (try_send: kWouldBlock)");
}

// Round-robin: a thread of the root task's priority that never blocks gets the CPU when the
// root task's timeslice runs out (a timer interrupt), which the root task sees as a gap in the
// cycle counter while it spins.
void timer_tests(const SecondSpace& s) {
  word spinner =
      root.start_thread(spinner_main, 0, s.cnode, s.space, 0, 0, kMaxPriority, kSpinnerStackTop);
  const word gap_ticks = user::cycle_hz() / 10'000;  // 100 us; one loop round is far shorter
  word start = user::cycle_count(), last = start;
  bool preempted = false;
  while (spinner != 0 && !preempted && last - start < user::cycle_hz()) {
    word now = user::cycle_count();
    preempted = now - last > gap_ticks;
    last = now;
  }
  report(preempted, "timer", "the timer preempts the root task for a peer thread");
  report(spinner != 0 && thread_suspend(spinner) == Error::kOk, "timer", "suspend the peer thread");
}

// Restarts the fault-test thread at `c.entry`, receives its fault message on the fault
// endpoint and checks it.
bool fault_ok(word thread, word fault_endpoint, const user::FaultCase& c) {
  if (thread_restart(thread, word_address(c.entry), user::entry_stack(kFaultStackTop), 0) !=
      Error::kOk)
    return false;
  Message m = recv(fault_endpoint);
  Line line;
  line << "fault: " << c.name << ": kind=" << word(message_word(m, 0))
       << " address=" << hex(message_word(m, 1)) << " ip=" << hex(message_word(m, 2))
       << " badge=" << hex(m.badge);
  line.end();
  return m.ok() && m.label() == kFaultLabel && m.info.length() == FaultMessage::kWords &&
         m.badge == kFaultBadge && FaultKind(message_word(m, 0)) == c.kind &&
         message_word(m, 1) == c.address &&
         (c.ip == nullptr || message_word(m, 2) == word_address(c.ip));
}

// The acceptance test: four faults of a user-mode program, each reported to its supervisor (the
// root task), which restarts it for the next; then the system must still serve IPC.
void fault_tests(const SecondSpace& s, word fault_endpoint, word endpoint) {
  static_assert(std::size(user::kAcceptanceFaults) == 4, "the acceptance test is four faults");
  unsigned reported = 0;
  for (const user::FaultCase& c : user::kAcceptanceFaults) {
    bool ok = fault_ok(s.fault_thread, fault_endpoint, c);
    report(ok, "acceptance", c.name);
    if (ok) ++reported;
  }
  report(reported == 4, "acceptance", "4 faults reported to the supervisor");
  report(echo_ok(endpoint, 6, 0) && echo_ok(endpoint, 7, 0), "acceptance",
         "the system keeps running (IPC after the faults)");
  for (const user::FaultCase& c : user::kMoreFaults)
    report(fault_ok(s.fault_thread, fault_endpoint, c), "faults", c.name);
}

// Checks this architecture cannot make, each with the reason (not counted as checks).
void report_skipped() {
  for (const user::SkippedCheck& skip : user::kSkippedChecks)
    user::report_skip(skip.group, skip.what, skip.why);
}

// The architecture's own checks (targets/<arch>/user/arch_checks.hpp), which may use the
// fault-test thread and give it capabilities in a free slot of its CSpace.
SecondSpace second;
word fault_endpoint_slot;

void architecture_checks() {
  user::Scenario scenario{};
  scenario.root = &root;
  scenario.report = [](bool ok, std::string_view group, std::string_view what) {
    report(ok, group, what);
  };
  scenario.fault = [](const user::FaultCase& c) {
    return fault_ok(second.fault_thread, fault_endpoint_slot, c);
  };
  scenario.peer_cnode = second.cnode;
  scenario.peer_free_slot = kPeerFreeSlot;
  user::arch_checks(scenario);
}

}  // namespace
}  // namespace ukernel

extern "C" ukernel::word user_main(ukernel::word boot_info_address) {
  using namespace ukernel;
  root.init(boot_info_address);
  Line banner;
  banner << "scenario: root task in user mode, " << root.info->untyped_count << " untyped blocks";
  banner.end();

  word endpoint = root.make(ObjectType::kEndpoint);
  word notification = root.make(ObjectType::kNotification);
  word fault_endpoint = root.make(ObjectType::kEndpoint);
  word fault_badged = root.mint(fault_endpoint, Rights::kWrite, kFaultBadge);
  fault_endpoint_slot = fault_endpoint;
  bool built = endpoint != 0 && notification != 0 && fault_badged != 0 &&
               build_second_space(second, endpoint, notification, fault_badged);
  ipc_tests(endpoint, built);
  if (built) {
    notification_tests(notification, endpoint);
    capability_tests(endpoint);
    timer_tests(second);
    fault_tests(second, fault_endpoint, endpoint);
    architecture_checks();
  }
  report_skipped();
  return checks.summarise("scenario");
}
