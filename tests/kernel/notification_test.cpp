// Notifications: bits accumulate, wait and poll, a bound notification waking recv, and
// interrupts delivered through a notification.
#include <catch2/catch.hpp>

#include "check_observations.hpp"
#include "support/root_kit.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;
using test::expect;

namespace {

struct Shared {
  word notification = 0;
  word endpoint = 0;
  Message got[4];
  int count = 0;
} g;

void waiter(word) {
  g.got[g.count++] = wait(g.notification);
}

void accumulate_root(word info) {
  test::RootKit kit(info);
  word ntfn = kit.make(ObjectType::kNotification);
  word b1 = kit.mint(ntfn, Rights::kWrite, 0x1);
  word b2 = kit.mint(ntfn, Rights::kWrite, 0x2);
  word b8 = kit.mint(ntfn, Rights::kWrite, 0x8);
  expect("poll: nothing", poll(ntfn).badge, 0);
  expect("signal 1", signal(b1), Error::kOk);
  expect("signal 2", signal(b2), Error::kOk);
  expect("signal 1 again", signal(b1), Error::kOk);
  expect("signal 8", signal(b8), Error::kOk);
  Message m = poll(ntfn);
  expect("poll: status", m.status, Error::kOk);
  expect("poll: the OR of the badges", m.badge, 0xb);
  expect("poll: cleared", poll(ntfn).badge, 0);
  expect("signal 2", signal(b2), Error::kOk);
  m = wait(ntfn);
  expect("wait: returns at once", m.badge, 0x2);
  expect("wait: cleared", poll(ntfn).badge, 0);

  // A blocked waiter is woken by the first signal, with that badge.
  g.notification = ntfn;
  (void)kit.spawn(waiter, 0, kMaxPriority);
  yield();
  expect("waiter blocked", word(g.count), 0);
  expect("signal 8", signal(b8), Error::kOk);
  yield();
  expect("waiter woke", word(g.count), 1);
  expect("waiter status", g.got[0].status, Error::kOk);
  expect("waiter bits", g.got[0].badge, 0x8);
  expect("bits consumed by the waiter", poll(ntfn).badge, 0);
  expect("root done", 1, 1);
}

void bound_server(word) {
  for (int i = 0; i < 3; ++i)
    g.got[g.count++] = recv(g.endpoint);
}

void bound_root(word info) {
  test::RootKit kit(info);
  word ep = kit.make(ObjectType::kEndpoint);
  word ntfn = kit.make(ObjectType::kNotification);
  word b4 = kit.mint(ntfn, Rights::kWrite, 0x4);
  word b1 = kit.mint(ntfn, Rights::kWrite, 0x1);
  g.endpoint = ep;
  word server = kit.spawn(bound_server, 0, kMaxPriority);
  expect("bind", thread_bind_notification(server, ntfn), Error::kOk);
  yield();  // the server blocks in recv on the endpoint
  expect("server blocked in recv", thread_read_registers(server).words[0],
         word(ThreadState::kBlockedOnRecv));
  expect("signal", signal(b4), Error::kOk);
  yield();
  expect("woken once", word(g.count), 1);
  Message m(MessageInfo(3, 1));
  m.words[0] = 99;
  expect("an ordinary message still arrives", send(ep, m), Error::kOk);
  // The server is ready, not in recv: these bits stay pending, and its next recv returns them
  // at once.
  expect("server ready", thread_read_registers(server).words[0], word(ThreadState::kRunning));
  expect("signal 1", signal(b1), Error::kOk);
  expect("signal 4", signal(b4), Error::kOk);
  yield();
  expect("woken three times", word(g.count), 3);
  expect("unbind", thread_unbind_notification(server), Error::kOk);
  expect("root done", 1, 1);
}

void irq_root(word info) {
  test::RootKit kit(info);
  word ntfn = kit.make(ObjectType::kNotification);
  word badged = kit.mint(ntfn, Rights::kWrite, 0x20);
  word handler = kit.slot();
  expect("irq get", irq_control_get(kIrqControlSlot, 5, kRootCNodeSlot, handler), Error::kOk);
  expect("irq set notification", irq_set_notification(handler, badged), Error::kOk);
  Message m = wait(ntfn);  // idle until the interrupt at 1 ms
  expect("irq: wait status", m.status, Error::kOk);
  expect("irq: bits", m.badge, 0x20);
  // The second interrupt (raised 500 ns after the first) stays masked until the ack.
  word early = 0;
  for (int i = 0; i < 20; ++i)
    early |= poll(ntfn).badge;
  expect("irq: masked until ack", early, 0);
  expect("irq ack", irq_ack(handler), Error::kOk);
  expect("irq: delivered after ack", poll(ntfn).badge, 0x20);
  expect("irq ack again", irq_ack(handler), Error::kOk);
  expect("root done", 1, 1);
}

// A high-priority driver thread waits for the interrupt; a low-priority thread runs meanwhile
// and is preempted when the interrupt wakes the driver.
void irq_driver(word) {
  Message m = wait(g.notification);
  g.got[g.count++] = m;
  g.endpoint = 1;  // tells the low thread that the driver ran
}

void busy_low(word) {
  long spins = 0;
  while (g.endpoint == 0 && spins < 1'000'000) {
    (void)poll(g.notification + 1);
    ++spins;
  }
  expect("low thread saw the driver run", g.endpoint, 1);
  expect("low thread was still running at the interrupt", word(spins > 100), 1);
}

void irq_preempt_root(word info) {
  test::RootKit kit(info);
  word ntfn = kit.make(ObjectType::kNotification);
  word other = kit.make(ObjectType::kNotification);
  word badged = kit.mint(ntfn, Rights::kWrite, 0x4);
  word handler = kit.slot();
  expect("irq get", irq_control_get(kIrqControlSlot, 7, kRootCNodeSlot, handler), Error::kOk);
  expect("irq set notification", irq_set_notification(handler, badged), Error::kOk);
  expect("adjacent slots", other, ntfn + 1);
  g.notification = ntfn;
  (void)kit.spawn(irq_driver, 0, 200);
  (void)kit.spawn(busy_low, 0, 10);
}

void run_root(hosted::Entry root, std::size_t expected, hosted::Simulation& sim) {
  REQUIRE(sim.run(root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(expected);
}

}  // namespace

TEST_CASE("notification bits accumulate; wait clears them; poll never blocks") {
  test::reset_observations();
  g = Shared{};
  hosted::Simulation sim;
  run_root(accumulate_root, 18, sim);
}

TEST_CASE("a bound notification wakes a thread blocked in recv") {
  bool fastpath = GENERATE(true, false);
  INFO("fastpath " << fastpath);
  test::reset_observations();
  g = Shared{};
  hosted::Simulation sim(hosted::SimulationConfig{.fastpath = fastpath});
  run_root(bound_root, 11, sim);
  REQUIRE(g.count == 3);
  CHECK(g.got[0].status == Error::kOk);
  CHECK(g.got[0].label() == kNotificationLabel);
  CHECK(g.got[0].badge == 0x4);
  CHECK(g.got[1].label() == 3);
  CHECK(g.got[1].words[0] == 99);
  CHECK(g.got[2].label() == kNotificationLabel);
  CHECK(g.got[2].badge == 0x5);
}

TEST_CASE("an interrupt is delivered through a notification; the line stays masked until ack") {
  test::reset_observations();
  g = Shared{};
  hosted::Simulation sim;
  sim.raise_irq(5, 1'000'000);
  sim.raise_irq(5, 1'000'500);
  run_root(irq_root, 9, sim);
  CHECK(sim.now_ns() >= 1'000'000);
}

TEST_CASE("an interrupt wakes a high-priority thread, which preempts a running low one") {
  test::reset_observations();
  g = Shared{};
  hosted::Simulation sim;
  sim.raise_irq(7, 50'000);
  run_root(irq_preempt_root, 5, sim);
  REQUIRE(g.count == 1);
  CHECK(g.got[0].status == Error::kOk);
  CHECK(g.got[0].badge == 0x4);
}
