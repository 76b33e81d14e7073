// Scheduling and thread lifecycle: round-robin on the timer, priority changes of blocked
// threads, saved replies, a server deleted while a client waits, and messages to a thread
// without an IPC buffer.
#include <catch2/catch.hpp>

#include <vector>

#include "check_observations.hpp"
#include "support/root_kit.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;
using test::expect;

namespace {

struct Shared {
  word endpoint = 0;
  word notification = 0;
  bool b_ran = false;
  long spins = 0;
  std::vector<word> order;
  Message got;
  Error status = Error::kOk;
  int done = 0;
} g;

void spinner(word) {
  while (!g.b_ran && g.spins < 2'000'000) {
    (void)poll(g.notification);
    ++g.spins;
  }
  ++g.done;
}

void latecomer(word) {
  g.b_ran = true;
  ++g.done;
}

void round_robin_root(word info) {
  test::RootKit kit(info);
  g.notification = kit.make(ObjectType::kNotification);
  word a = kit.spawn(spinner, 0, 100);
  word b = kit.spawn(latecomer, 0, 100);
  expect("timeslice a", thread_set_timeslice(a, kMinTimesliceNs), Error::kOk);
  expect("timeslice b", thread_set_timeslice(b, kMinTimesliceNs), Error::kOk);
}

void sender(word value) {
  Message m(MessageInfo(1, 1));
  m.words[0] = value;
  (void)send(g.endpoint, m);
}

void reprioritise_root(word info) {
  test::RootKit kit(info);
  g.endpoint = kit.make(ObjectType::kEndpoint);
  word t[3];
  for (word i = 0; i < 3; ++i)
    t[i] = kit.spawn(sender, i + 1, kMaxPriority);
  yield();  // all three block in send, in order 1, 2, 3
  expect("raise the last", thread_set_priority(t[2], kMaxPriority), Error::kOk);
  expect("lower the first", thread_set_priority(t[0], 10), Error::kOk);
  expect("lower the second", thread_set_priority(t[1], 20), Error::kOk);
  for (int i = 0; i < 3; ++i)
    g.order.push_back(recv(g.endpoint).words[0]);
  expect("root done", 1, 1);
}

// A server that saves the first caller's reply, serves a second call, then answers the first.
void saving_server(word save_slot) {
  Message first = recv(g.endpoint);
  Error saved = cnode_save_reply(kRootCNodeSlot, save_slot);
  expect("save_reply", saved, Error::kOk);
  expect("nothing left to reply to", reply(Message{}), Error::kInvalidCapability);
  Message second = recv(g.endpoint);
  Message r(MessageInfo(0, 1));
  r.words[0] = second.words[0] + 1;
  expect("reply to the second", reply(r), Error::kOk);
  r.words[0] = first.words[0] + 1;
  expect("reply through the saved cap", send(save_slot, r), Error::kOk);
  expect("the saved cap is used up", send(save_slot, r), Error::kInvalidCapability);
}

void caller(word value) {
  Message m(MessageInfo(0, 1));
  m.words[0] = value;
  Message r = call(g.endpoint, m);
  g.order.push_back(r.ok() ? r.words[0] : 0);
}

void save_reply_root(word info) {
  test::RootKit kit(info);
  g.endpoint = kit.make(ObjectType::kEndpoint);
  (void)kit.spawn(saving_server, kit.slot(), 200);
  (void)kit.spawn(caller, 10, 100);
  (void)kit.spawn(caller, 20, 100);
}

void server_once(word) {
  (void)recv(g.endpoint);
  (void)recv(g.notification);  // never answers; parks on another endpoint
}

void client_once(word) {
  Message r = call(g.endpoint, Message(MessageInfo(0, 0)));
  g.status = r.status;
  ++g.done;
}

void delete_server_root(word info) {
  test::RootKit kit(info);
  g.endpoint = kit.make(ObjectType::kEndpoint);
  g.notification = kit.make(ObjectType::kEndpoint);
  word server = kit.spawn(server_once, 0, kMaxPriority);
  (void)kit.spawn(client_once, 0, kMaxPriority);
  yield();
  expect("client waits for the reply", word(g.done), 0);
  expect("delete the server", cnode_delete(kRootCNodeSlot, server), Error::kOk);
  yield();
  expect("client released", word(g.done), 1);
  expect("client got kCancelled", g.status, Error::kCancelled);
  expect("root done", 1, 1);
}

void bufferless_receiver(word) {
  // Without an IPC buffer a message holds only the registers: 32 bytes of console text, no
  // capabilities.
  g.status = sys::syscall(Syscall::kDebugWrite, 0, Message(MessageInfo(0, 40))).status;
  Message with_cap(MessageInfo(0, 0, 1));
  g.order.push_back(word(try_send(g.endpoint, with_cap)));
  g.got = recv(g.endpoint);
}

void truncate_root(word info) {
  test::RootKit kit(info);
  g.endpoint = kit.make(ObjectType::kEndpoint);
  word t = kit.make(ObjectType::kThread);
  expect("configure without IPC buffer",
         thread_configure(t, kRootCNodeSlot, kRootAddressSpaceSlot, 0, 0, 0), Error::kOk);
  expect("priority", thread_set_priority(t, kMaxPriority), Error::kOk);
  expect("start", thread_restart(t, hosted::entry_address(bufferless_receiver), 0, 0), Error::kOk);
  yield();
  Message m(MessageInfo(3, 10));
  for (std::size_t i = 0; i < 10; ++i)
    set_message_word(m, i, i + 1);
  expect("send 10 words", send(g.endpoint, m), Error::kOk);
  yield();
  expect("received", g.got.status, Error::kOk);
  expect("truncated", word(g.got.info.truncated()), 1);
  expect("length cut to the registers", g.got.info.length(), kMessageRegisters);
  expect("label", g.got.label(), 3);
  expect("word 3", g.got.words[3], 4);
  expect("debug_write of 40 bytes without a buffer", g.status, Error::kInvalidArgument);
  expect("a capability without a buffer", g.order.at(0), word(Error::kInvalidArgument));
  expect("root done", 1, 1);
}

// Threads acting on themselves: suspend, restart, and deleting their own last capability.
word g_self = 0;

void self_suspender(word) {
  expect("suspend self", thread_suspend(g_self), Error::kOk);
  ++g.done;  // runs once resumed
}

void second_life(word arg) {
  g.order.push_back(arg);
}

void self_restarter(word) {
  (void)thread_restart(g_self, hosted::entry_address(second_life), 0, 77);
  g.order.push_back(1);  // never reached: the restart replaced this thread's registers
}

void self_deleter(word) {
  (void)cnode_delete(kRootCNodeSlot, g_self);
  g.order.push_back(2);  // never reached: the thread is gone
}

void self_root(word info) {
  test::RootKit kit(info);
  g_self = kit.spawn(self_suspender, 0, kMaxPriority);
  yield();
  expect("suspended itself", thread_read_registers(g_self).words[0], word(ThreadState::kInactive));
  expect("not yet past the suspend", word(g.done), 0);
  expect("resume", thread_resume(g_self), Error::kOk);
  yield();
  expect("resumed past the suspend", word(g.done), 1);

  g_self = kit.spawn(self_restarter, 0, kMaxPriority);
  yield();
  yield();
  expect("restarted itself", g.order.size(), 1);
  expect("second life ran", g.order.empty() ? 0 : g.order[0], 77);

  g_self = kit.spawn(self_deleter, 0, kMaxPriority);
  yield();
  yield();
  expect("deleted itself: never came back", g.order.size(), 1);
  expect("slot empty", thread_suspend(g_self), Error::kInvalidCapability);
  expect("root done", 1, 1);
}

template <class F>
void run(hosted::Entry root, std::size_t expected, F&& more, bool fastpath = true) {
  test::reset_observations();
  g = Shared{};
  hosted::Simulation sim(hosted::SimulationConfig{.fastpath = fastpath});
  REQUIRE(sim.run(root, 10'000'000'000) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(expected);
  more();
}

}  // namespace

TEST_CASE("threads of one priority share the CPU round-robin on the timer") {
  run(round_robin_root, 2, [] {
    CHECK(g.done == 2);
    CHECK(g.b_ran);
    CHECK(g.spins > 0);
    CHECK(g.spins < 2'000'000);
  });
}

TEST_CASE("changing the priority of blocked senders reorders the queue") {
  run(reprioritise_root, 4, [] { CHECK(g.order == std::vector<word>{3, 2, 1}); });
}

TEST_CASE("a saved reply capability answers the caller later, once") {
  bool fastpath = GENERATE(true, false);
  INFO("fastpath " << fastpath);
  run(
      save_reply_root, 5,
      [] {
        CHECK(g.order == std::vector<word>{21, 11});
      },
      fastpath);
}

TEST_CASE("deleting a server releases its waiting client with kCancelled") {
  run(delete_server_root, 5, [] {});
}

TEST_CASE("a receiver without an IPC buffer gets the registers and kTruncated") {
  run(truncate_root, 12, [] {});
}

TEST_CASE("a thread suspends, restarts and deletes itself") {
  run(self_root, 10, [] {});
}
