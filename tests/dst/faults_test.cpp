// The hosted fault-injection API (ukernel/hosted/faults.hpp): the schedule's text form and its
// errors, random schedules, each kind of fault through the real kernel, and shrinking, shown on
// a planted bug: a toy counter server, built only for this test, that acknowledges an addition
// before it stores it. Only a kill at exactly the system call between the two loses
// acknowledged work; a random campaign finds a schedule that does, shrinks it to that one
// fault, and its printed text replays the same run.
#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "core/kernel.hpp"
#include "core/thread.hpp"
#include "support/root_kit.hpp"
#include "ukernel/hosted/faults.hpp"
#include "ukernel/hosted/image.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;
using hosted::Fault;
using hosted::FaultSchedule;
using hosted::FaultType;

namespace {

std::string parse_error(const char* text) {
  std::string error;
  auto schedule = FaultSchedule::parse(text, &error);
  return schedule ? "parsed" : error;
}

}  // namespace

TEST_CASE("a fault schedule's text form reads back the same, and bad text is refused") {
  const char* text =
      "kill:names@12,delay:#5@3,jump@1000+5000,irqdelay:4@3+20,irqdup:2@7+9,irqdrop:4@1";
  auto schedule = FaultSchedule::parse(text);
  REQUIRE(schedule.has_value());
  REQUIRE(schedule->faults.size() == 6);
  CHECK(schedule->faults[0] == Fault{FaultType::kKill, "names", 0, 12, 0});
  CHECK(schedule->faults[1] == Fault{FaultType::kDelay, "#5", 0, 3, 0});
  CHECK(schedule->faults[2] == Fault{FaultType::kClockJump, "", 0, 1000, 5000});
  CHECK(schedule->faults[3] == Fault{FaultType::kIrqDelay, "", 4, 3, 20});
  CHECK(schedule->faults[4] == Fault{FaultType::kIrqDuplicate, "", 2, 7, 9});
  CHECK(schedule->faults[5] == Fault{FaultType::kIrqDrop, "", 4, 1, 0});
  CHECK(schedule->text() == text);
  CHECK(FaultSchedule::parse("")->faults.empty());

  CHECK(parse_error("kill:names") == "no '@' in \"kill:names\"");
  CHECK(parse_error("crash:names@1").starts_with("unknown fault \"crash\""));
  CHECK(parse_error("kill:names@0") == "\"kill:names@0\": after '@' a number (from 1) is expected");
  CHECK(parse_error("kill:names@x") == "\"kill:names@x\": after '@' a number (from 1) is expected");
  CHECK(parse_error("kill@3") == "\"kill@3\": a target (an image name or #ID) is expected");
  CHECK(parse_error("kill:names@3+5") == "\"kill:names@3+5\": takes no '+'");
  CHECK(parse_error("jump@3") == "\"jump@3\": '+NANOSECONDS' is expected");
  CHECK(parse_error("jump:names@3+1") == "\"jump:names@3+1\": jump takes no target");
  CHECK(parse_error("irqdrop:99@1").ends_with("an interrupt line (0..31) is expected"));
  CHECK(parse_error("kill:names@1,") == "no '@' in \"\"");
}

TEST_CASE("random fault schedules follow from the seed alone") {
  hosted::FaultSpace space{.targets = {"a", "b"}, .irq_lines = {2, 4}};
  FaultSchedule one = hosted::random_faults(7, 50, space);
  CHECK(one.faults.size() == 50);
  CHECK(one == hosted::random_faults(7, 50, space));
  CHECK(one != hosted::random_faults(8, 50, space));
  bool kinds[6] = {};
  for (const Fault& f : one.faults) {
    kinds[unsigned(f.type)] = true;
    CHECK(FaultSchedule::parse(FaultSchedule{{f}}.text()).value() == FaultSchedule{{f}});
  }
  // Every kind but the dropped interrupt, which the space does not allow.
  CHECK((kinds[0] && kinds[1] && kinds[2] && kinds[3] && kinds[4] && !kinds[5]));
}

// --- each fault through the kernel ----------------------------------------------------------

namespace {

struct Counter {
  word calls = 0;   // system calls the worker made
  word faults = 0;  // fault messages the root received
  word fault_kind = 0;
  std::uint32_t id = 0;  // the worker's kernel thread id
  std::string order;     // which of two equal-priority threads ran first
} g;

void worker(word) {
  g.id = core::current()->id;
  for (int i = 0; i < 10; ++i) {
    yield();
    ++g.calls;
  }
}

void root_with_worker(word boot_info) {
  test::RootKit kit(boot_info);
  word faults = kit.make(ObjectType::kEndpoint);
  if (kit.spawn(worker, 0, 100, faults) == 0) return;
  Message m = recv(faults);
  if (m.label() == kFaultLabel) {
    ++g.faults;
    g.fault_kind = m.words[0];
  }
}

void tagger(word tag) {
  g.order += char(tag);
  yield();
  g.order += char(tag);
}

void root_with_two(word boot_info) {
  test::RootKit kit(boot_info);
  if (kit.spawn(tagger, 'a', 100) == 0) g.order = "no thread a";
  if (kit.spawn(tagger, 'b', 100) == 0) g.order = "no thread b";
}

}  // namespace

TEST_CASE("kill stops a thread at its Nth system call; its fault handler hears of it") {
  g = {};
  {
    hosted::Simulation sim;
    sim.run(root_with_worker);
  }
  REQUIRE(g.calls == 10);
  CHECK(g.fault_kind == word(FaultKind::kAbort));  // returning from its entry ends a thread
  std::uint32_t id = g.id;
  FaultSchedule kill = FaultSchedule::parse("kill:#" + std::to_string(id) + "@4").value();
  g = {};
  hosted::Simulation sim({.faults = &kill});
  sim.run(root_with_worker);
  CHECK(g.calls == 3);  // three calls made; the fourth never was
  CHECK(g.faults == 1);
  CHECK(g.fault_kind == word(FaultKind::kIllegalInstruction));
  CHECK(sim.fault_log().ends_with("kill #" + std::to_string(id) + " at its call 4 (thread #" +
                                  std::to_string(id) + ")\n"));
}

TEST_CASE("delay lets the other threads of its priority run before the call") {
  g = {};
  {
    hosted::Simulation sim;
    sim.run(root_with_two);
  }
  CHECK(g.order == "abab");
  // Thread #2 is 'a' (made first): its first call waits, so 'b' runs its own first.
  FaultSchedule delay = FaultSchedule::parse("delay:#2@1").value();
  g = {};
  hosted::Simulation sim({.faults = &delay});
  sim.run(root_with_two);
  CHECK(g.order == "abba");
  CHECK(sim.fault_log() != "");
}

TEST_CASE("a clock jump moves virtual time forward at its time") {
  std::uint64_t plain = 0;
  {
    hosted::Simulation sim;
    sim.run(root_with_two);
    plain = sim.now_ns();
  }
  FaultSchedule jump = FaultSchedule::parse("jump@0+5000000").value();
  hosted::Simulation sim({.faults = &jump});
  sim.run(root_with_two);
  CHECK(sim.now_ns() == plain + 5'000'000);
  CHECK(sim.fault_log() == "5000000 ns: the clock jumps 5000000 ns\n");
}

namespace {

struct IrqLog {
  word received = 0;
  std::uint64_t first_ns = 0;
} g_irq;

void irq_root(word boot_info) {
  test::RootKit kit(boot_info);
  word notification = kit.make(ObjectType::kNotification);
  word badged = kit.mint(notification, Rights::kWrite, 0x8);
  word handler = kit.slot();
  if (irq_control_get(kIrqControlSlot, 3, kRootCNodeSlot, handler) != Error::kOk) return;
  if (irq_set_notification(handler, badged) != Error::kOk) return;
  for (;;) {
    Message m = wait(notification);
    if (!m.ok()) return;
    if (g_irq.received++ == 0) g_irq.first_ns = arch::Machine::now_ns();
    (void)irq_ack(handler);
    if (g_irq.received == 3) return;
  }
}

}  // namespace

TEST_CASE("interrupts are delayed, duplicated or dropped") {
  auto run = [](const char* text) {
    g_irq = {};
    FaultSchedule schedule = FaultSchedule::parse(text).value();
    hosted::Simulation sim({.faults = &schedule});
    sim.raise_irq(3, 1'000'000);
    sim.raise_irq(3, 2'000'000);
    sim.raise_irq(3, 3'000'000);
    sim.run(irq_root, 10'000'000);
    return g_irq;
  };
  IrqLog plain = run("");
  CHECK(plain.received == 3);
  CHECK(plain.first_ns >= 1'000'000);
  CHECK(plain.first_ns < 1'100'000);
  IrqLog delayed = run("irqdelay:3@1+500000");
  CHECK(delayed.first_ns >= 1'500'000);
  CHECK(run("irqdrop:3@2").received == 2);
  CHECK(run("irqdrop:3@2,irqdup:3@1+100000").received == 3);  // the duplicate makes up for it
}

// --- shrinking, on a planted bug ------------------------------------------------------------

namespace {

struct Toy {
  word durable = 0;  // what the toy server has stored: survives its restarts
  word acked = 0;    // additions the client saw acknowledged
  word service = 0;
  word server = 0;
  std::uint32_t server_id = 0;
} g_toy;

// The deliberately broken toy server: it acknowledges an addition before storing it, so a kill
// at the one system call in between (the yield) loses acknowledged work.
void toy_server(word) {
  g_toy.server_id = core::current()->id;
  word total = g_toy.durable;
  Message m = recv(g_toy.service);
  for (;;) {
    total += m.words[0];
    (void)reply(Message(MessageInfo(0, 0)));
    yield();
    g_toy.durable = total;
    m = recv(g_toy.service);
  }
}

void toy_client(word) {
  for (int i = 0; i < 8; ++i) {
    Message add(MessageInfo(1, 1));
    add.words[0] = 1;
    if (call(g_toy.service, add).ok()) ++g_toy.acked;
  }
}

void toy_root(word boot_info) {
  test::RootKit kit(boot_info);
  g_toy.service = kit.make(ObjectType::kEndpoint);
  word faults = kit.make(ObjectType::kEndpoint);
  g_toy.server = kit.spawn(toy_server, 0, 100, faults);
  if (g_toy.server == 0 || kit.spawn(toy_client, 0, 50) == 0) return;
  for (int restarts = 0; restarts < 10; ++restarts) {
    Message m = recv(faults);
    if (m.label() != kFaultLabel) return;
    (void)thread_restart(g_toy.server, hosted::entry_address(toy_server), 0, 0);
  }
}

// Whether the toy loses acknowledged work under `schedule`.
bool toy_fails(const FaultSchedule& schedule) {
  g_toy = {};
  hosted::Simulation sim({.faults = &schedule});
  sim.run(toy_root, 1'000'000'000);
  return g_toy.durable < g_toy.acked;
}

}  // namespace

TEST_CASE("a campaign finds the planted bug, shrinks its schedule to one kill, and replays it") {
  REQUIRE_FALSE(toy_fails({}));
  REQUIRE(g_toy.acked == 8);
  hosted::FaultSpace space{.targets = {"#" + std::to_string(g_toy.server_id)},
                           .max_syscall = 30,
                           .horizon_ns = 0,
                           .irq_lines = {}};
  std::uint64_t seed = 1;
  FaultSchedule failing;
  for (; seed <= 200; ++seed) {
    failing = hosted::random_faults(seed, 4, space);
    if (toy_fails(failing)) break;
  }
  INFO("seed " << seed << ": " << failing.text());
  REQUIRE(seed <= 200);
  std::size_t runs = 0;
  FaultSchedule small = hosted::shrink(failing, toy_fails, &runs);
  INFO("shrunk: " << small.text() << " in " << runs << " runs");
  CHECK(small.faults.size() == 1);
  CHECK(small.faults[0].type == FaultType::kKill);
  // The kill lands on the yield: every third call of the server (recv, reply, yield).
  CHECK(small.faults[0].at % 3 == 0);
  CHECK(toy_fails(FaultSchedule::parse(small.text()).value()));
}

// --- host addresses in the trace ----------------------------------------------------------------

namespace {

// Sends two host addresses as message words: one in this program, one in the C library.
void root_sending_addresses(word boot_info) {
  test::RootKit kit(boot_info);
  word endpoint = kit.make(ObjectType::kEndpoint);
  for (word address :
       {hosted::entry_address(root_sending_addresses), reinterpret_cast<word>(&std::strlen)}) {
    Message m(MessageInfo(1, 1));
    m.words[0] = address;
    (void)try_send(endpoint, m);  // nobody receives: the call is traced all the same
  }
}

}  // namespace

TEST_CASE("the trace writes host addresses of the program and its libraries relative to them") {
  hosted::Simulation sim({.trace = true});
  sim.run(root_sending_addresses);
  std::vector<word> sent;
  for (const hosted::TraceRecord& r : sim.trace_records())
    if (r.kind == std::uint32_t(core::TraceKind::kSyscall) && r.a == word(Syscall::kTrySend))
      sent.push_back(r.d);
  REQUIRE(sent.size() == 2);
  std::pair<word, std::string_view> expected[2] = {
      {hosted::entry_address(root_sending_addresses), "program"},
      {reinterpret_cast<word>(&std::strlen), ""}};
  for (std::size_t i = 0; i < 2; ++i) {
    hosted::ImageAddress where = hosted::loaded_object_address(expected[i].first);
    REQUIRE(!where.image.empty());
    if (!expected[i].second.empty()) CHECK(where.image == expected[i].second);
    INFO("word " << std::hex << sent[i]);
    CHECK((sent[i] >> 56) == (hosted::kImageAddressTag >> 56));
    CHECK((sent[i] & ((word{1} << hosted::kImageIndexShift) - 1)) == where.offset);
    CHECK(where.offset < expected[i].first);  // relative, not the host address
  }
  // Two objects, numbered in the order the trace first named them.
  CHECK(((sent[0] >> hosted::kImageIndexShift) & 0xffff) !=
        ((sent[1] >> hosted::kImageIndexShift) & 0xffff));
}
