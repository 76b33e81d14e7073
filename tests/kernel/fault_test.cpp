// Faults: every kind reaches the fault endpoint as a message (label kFaultLabel; words kind,
// address, ip; the fault endpoint capability's badge), the supervisor can resume or restart the
// thread, and the rest of the system keeps running.
#include <catch2/catch.hpp>

#include "check_observations.hpp"
#include "support/root_kit.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;
using test::expect;

namespace {

constexpr word kOutsideCSpace = word{1} << 20;
constexpr word kFaultBadge = 0x42;

struct Shared {
  word report = 0;  // endpoint restarted threads report on
  word server = 0;  // endpoint of a bystander server
  FaultKind kind = FaultKind(0);
  Error resumed_status = Error::kOk;
  int starts = 0;
  Error client_status[3] = {};
  word client_reply[3] = {};
  int client_calls = 0;
} g;

// Integer division by zero on purpose: UBSan would report it before the CPU traps.
__attribute__((no_sanitize("undefined"))) int divide(int a, int b) {
  volatile int dividend = a;
  volatile int divisor = b;
  return dividend / divisor;
}

void faulter(word) {
  ++g.starts;
  switch (g.kind) {
    case FaultKind::kCapability:
      g.resumed_status = send(kOutsideCSpace, Message{});
      (void)send(g.report, Message(MessageInfo(1, 0)));
      break;
    case FaultKind::kInvalidSyscall:
      g.resumed_status = sys::syscall(Syscall(99), 0, Message{}).status;
      (void)send(g.report, Message(MessageInfo(1, 0)));
      break;
    case FaultKind::kMemoryAccess: {
      volatile word unmapped = 8;  // through a variable, so no compiler sees a constant address
      *reinterpret_cast<volatile int*>(unmapped) = 1;
      break;
    }
    case FaultKind::kArithmetic:
      g.resumed_status = Error(divide(1, 0));
      break;
    case FaultKind::kIllegalInstruction:
      __builtin_trap();
    case FaultKind::kBreakpoint:
      asm volatile("int3");
      break;
    case FaultKind::kAbort:
      abort_thread(77);
      break;
    default:
      return;  // returning from the entry function is kAbort with code 0
  }
}

// After the restart: fresh registers, and IPC works.
void restarted(word arg) {
  Message m(MessageInfo(2, 1));
  m.words[0] = arg;
  (void)send(g.report, m);
}

void bystander(word) {
  Message m = recv(g.server);
  for (;;) {
    Message r(MessageInfo(0, 1));
    r.words[0] = m.words[0] * 2;
    m = reply_recv(g.server, r);
  }
}

struct Case {
  FaultKind kind;  // what the thread does (0: returns from its entry)
  FaultKind reported;
  word address;    // ~0: any non-zero address
  bool resumable;  // a system-call fault: an empty reply resumes it with kCancelled
};

Case g_case;

void fault_root(word info) {
  test::RootKit kit(info);
  word fault_ep = kit.make(ObjectType::kEndpoint);
  word badged = kit.mint(fault_ep, Rights::kAll, kFaultBadge);
  g.report = kit.make(ObjectType::kEndpoint);
  g.server = kit.make(ObjectType::kEndpoint);
  g.kind = g_case.kind;
  (void)kit.spawn(bystander, 0, 100);
  word t = kit.spawn(faulter, 0, 100, badged);
  expect("spawned", word(t != 0), 1);

  Message f = recv(fault_ep);
  expect("fault: status", f.status, Error::kOk);
  expect("fault: label", f.label(), kFaultLabel);
  expect("fault: length", f.info.length(), FaultMessage::kWords);
  expect("fault: badge", f.badge, kFaultBadge);
  expect("fault: kind", f.words[0], word(g_case.reported));
  if (g_case.address == ~word{0}) {
    expect("fault: address set", word(f.words[1] != 0), 1);
  } else {
    expect("fault: address", f.words[1], g_case.address);
  }
  expect("fault: ip set", word(f.words[2] != 0), 1);
  expect("faulter waits for its supervisor", thread_read_registers(t).words[0],
         word(ThreadState::kBlockedOnReply));

  // The kernel did not stop: another thread serves a call.
  Message q(MessageInfo(0, 1));
  q.words[0] = 21;
  Message a = call(g.server, q);
  expect("bystander answers", a.words[0], 42);

  if (g_case.resumable) {
    expect("empty reply resumes", reply(Message{}), Error::kOk);
    Message r = recv(g.report);
    expect("resumed: reports", r.label(), 1);
    expect("resumed: the faulting call returned kCancelled", g.resumed_status, Error::kCancelled);
  }

  expect("restart", thread_restart(t, hosted::entry_address(restarted), 0, 1234), Error::kOk);
  Message r = recv(g.report);
  expect("restarted: label", r.label(), 2);
  expect("restarted: fresh argument", r.words[0], 1234);
  expect("faulter ran its entry once", word(g.starts), 1);
  expect("root done", 1, 1);
}

// --- a server faults while a client is in call ------------------------------------------------

void fragile_server(word arg) {
  Message m = recv(g.server);
  for (;;) {
    if (m.words[0] == 0 && arg == 0) (void)divide(1, 0);
    Message r(MessageInfo(0, 1));
    r.words[0] = m.words[0] + 100;
    m = reply_recv(g.server, r);
  }
}

void client(word) {
  for (word i = 0; i < 3; ++i) {
    Message m(MessageInfo(0, 1));
    m.words[0] = i;
    Message r = call(g.server, m);
    g.client_status[i] = r.status;
    g.client_reply[i] = r.words[0];
    ++g.client_calls;
  }
}

void server_fault_root(word info) {
  test::RootKit kit(info);
  word fault_ep = kit.make(ObjectType::kEndpoint);
  word badged = kit.mint(fault_ep, Rights::kAll, kFaultBadge);
  g.server = kit.make(ObjectType::kEndpoint);
  word server = kit.spawn(fragile_server, 0, 100, badged);
  (void)kit.spawn(client, 0, 50);
  Message f = recv(fault_ep);
  expect("server fault", f.words[0], word(FaultKind::kArithmetic));
  expect("server fault badge", f.badge, kFaultBadge);
  expect("client still waits", word(g.client_calls), 0);
  expect("restart server", thread_restart(server, hosted::entry_address(fragile_server), 0, 1),
         Error::kOk);
  expect("root done", 1, 1);
}

// --- a fault queued on the fault endpoint; suspend and resume instead of a reply -------------

void fault_then_call(word) {
  g.resumed_status = send(kOutsideCSpace, Message{});
  Message m(MessageInfo(5, 1));
  m.words[0] = 55;
  (void)send(g.report, m);
  (void)recv(g.server);  // parks here (returning would be an abort fault)
}

void queued_fault_root(word info) {
  test::RootKit kit(info);
  word fault_ep = kit.make(ObjectType::kEndpoint);
  word badged = kit.mint(fault_ep, Rights::kAll, kFaultBadge);
  g.report = kit.make(ObjectType::kEndpoint);
  g.server = kit.make(ObjectType::kEndpoint);
  word t = kit.spawn(fault_then_call, 0, kMaxPriority, badged);
  yield();  // the thread faults; nobody receives yet, so it waits on the fault endpoint
  expect("fault queued", thread_read_registers(t).words[0], word(ThreadState::kBlockedOnSend));
  // The supervisor resumes it without answering the fault message.
  expect("suspend", thread_suspend(t), Error::kOk);
  expect("resume", thread_resume(t), Error::kOk);
  Message m = recv(g.report);
  expect("resumed: its call returned kCancelled", g.resumed_status, Error::kCancelled);
  expect("resumed: its next message is its own, not a fault", m.label(), 5);
  expect("resumed: word", m.words[0], 55);
  expect("no fault message is left", try_recv(fault_ep).status, Error::kWouldBlock);

  // A queued fault is delivered when the supervisor gets round to receiving.
  g.resumed_status = Error::kOk;
  word t2 = kit.spawn(fault_then_call, 0, kMaxPriority, badged);
  yield();
  Message f = recv(fault_ep);
  expect("queued fault: label", f.label(), kFaultLabel);
  expect("queued fault: kind", f.words[0], word(FaultKind::kCapability));
  expect("queued fault: badge", f.badge, kFaultBadge);
  expect("queued fault: waits for reply", thread_read_registers(t2).words[0],
         word(ThreadState::kBlockedOnReply));
  expect("reply", reply(Message{}), Error::kOk);
  m = recv(g.report);
  expect("resumed after reply", m.label(), 5);
  expect("resumed with kCancelled", g.resumed_status, Error::kCancelled);
  expect("root done", 1, 1);
}

void run_case(Case c, std::size_t expected) {
  test::reset_observations();
  g = Shared{};
  g_case = c;
  hosted::Simulation sim;
  REQUIRE(sim.run(fault_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(expected);
}

}  // namespace

TEST_CASE("capability fault: delivered, resumed with kCancelled, restarted") {
  run_case({FaultKind::kCapability, FaultKind::kCapability, kOutsideCSpace, true}, 18);
}

TEST_CASE("invalid system call fault: delivered, resumed with kCancelled, restarted") {
  run_case({FaultKind::kInvalidSyscall, FaultKind::kInvalidSyscall, 99, true}, 18);
}

TEST_CASE("memory access fault: delivered and restarted") {
  run_case({FaultKind::kMemoryAccess, FaultKind::kMemoryAccess, 8, false}, 15);
}

TEST_CASE("arithmetic fault: delivered and restarted") {
  run_case({FaultKind::kArithmetic, FaultKind::kArithmetic, ~word{0}, false}, 15);
}

TEST_CASE("illegal instruction fault: delivered and restarted") {
  run_case({FaultKind::kIllegalInstruction, FaultKind::kIllegalInstruction, ~word{0}, false}, 15);
}

TEST_CASE("breakpoint fault: delivered and restarted") {
  run_case({FaultKind::kBreakpoint, FaultKind::kBreakpoint, ~word{0}, false}, 15);
}

TEST_CASE("abort: abort_thread(code) and returning from the entry") {
  SECTION("abort_thread(77)") {
    run_case({FaultKind::kAbort, FaultKind::kAbort, 77, false}, 15);
  }
  SECTION("return from the entry function") {
    run_case({FaultKind(0), FaultKind::kAbort, 0, false}, 15);
  }
}

TEST_CASE("a server that faults during a call: the client gets kCancelled once it is restarted") {
  bool fastpath = GENERATE(true, false);
  INFO("fastpath " << fastpath);
  test::reset_observations();
  g = Shared{};
  hosted::Simulation sim(hosted::SimulationConfig{.fastpath = fastpath});
  REQUIRE(sim.run(server_fault_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(5);
  REQUIRE(g.client_calls == 3);
  CHECK(g.client_status[0] == Error::kCancelled);
  CHECK(g.client_status[1] == Error::kOk);
  CHECK(g.client_reply[1] == 101);
  CHECK(g.client_status[2] == Error::kOk);
  CHECK(g.client_reply[2] == 102);
}

TEST_CASE("a queued fault; a supervisor that resumes instead of replying") {
  test::reset_observations();
  g = Shared{};
  hosted::Simulation sim;
  REQUIRE(sim.run(queued_fault_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(15);
}
