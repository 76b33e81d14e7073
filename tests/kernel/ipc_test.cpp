// First smoke test: the root task boots, makes an endpoint and a thread, and they talk.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "check_observations.hpp"
#include "core/kernel.hpp"
#include "support/root_kit.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;

namespace {
word g_reply_word = 0;
Error g_status = Error::kIllegalOperation;
word g_server_endpoint = 0;

void server(word) {
  Message m = recv(g_server_endpoint);
  Message r(MessageInfo(7, 1));
  r.words[0] = m.words[0] + m.badge;
  (void)reply_recv(g_server_endpoint, r);
}

void root(word info_address) {
  test::RootKit kit(info_address);
  word ep = kit.make(ObjectType::kEndpoint);
  word badged = kit.mint(ep, Rights::kAll, 100);
  g_server_endpoint = ep;
  if (kit.spawn(server, 0, 200) == 0) return;
  Message m(MessageInfo(1, 1));
  m.words[0] = 5;
  Message r = call(badged, m);
  g_status = r.status;
  g_reply_word = r.words[0];
}
}  // namespace

TEST_CASE("root task calls a server through a badged endpoint") {
  hosted::Simulation sim;
  REQUIRE(sim.run(root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  CHECK(g_status == Error::kOk);
  CHECK(g_reply_word == 105);
}

// --- messages, capability transfer and ordering, with the fast path on and off ----------------

namespace {

using test::expect;

struct IpcShared {
  word endpoint = 0;
  word window = 0;        // first slot of the server's receive window
  word window_count = 0;  // its size
  std::vector<word> order;
  std::vector<std::string> log;
} g_ipc;

// Echo server: answers each call with the label + 1, the same length, every word + 1000, and
// the badge in the last word when there is room.
void echo_server(word) {
  Message m = recv(g_ipc.endpoint);
  for (;;) {
    std::size_t n = m.info.length();
    Message r(MessageInfo(m.label() + 1, n));
    for (std::size_t i = 0; i < n; ++i)
      set_message_word(r, i, message_word(m, i) + 1000);
    if (n > 0) set_message_word(r, n - 1, m.badge);
    m = reply_recv(g_ipc.endpoint, r);
  }
}

constexpr std::size_t kMessageLengths[] = {0, 1, 4, 5, 17, 63, kMaxMessageWords};

// What message_root records: per length, status, label, length and "not truncated", then one
// observation per word (n - 1 words, and the badge in the last); then the over-long message,
// the waiting server and "root done".
constexpr std::size_t message_root_observations() {
  std::size_t count = 3;
  for (std::size_t n : kMessageLengths)
    count += 4 + n;
  return count;
}
static_assert(message_root_observations() == 185);

void message_root(word info) {
  test::RootKit kit(info);
  word ep = kit.make(ObjectType::kEndpoint);
  word badged = kit.mint(ep, Rights::kAll, 0xbad);
  g_ipc.endpoint = ep;
  (void)kit.spawn(echo_server, 0, kMaxPriority);
  yield();  // the server blocks in recv

  for (std::size_t n : kMessageLengths) {
    std::string what = "length " + std::to_string(n) + ": ";
    Message m(MessageInfo(40, n));
    for (std::size_t i = 0; i < n; ++i)
      set_message_word(m, i, 7 * i + 3);
    Message r = call(badged, m);
    expect(what + "status", r.status, Error::kOk);
    expect(what + "label", r.label(), 41);
    expect(what + "length", r.info.length(), n);
    expect(what + "not truncated", word(r.info.truncated()), 0);
    for (std::size_t i = 0; i + 1 < n; ++i)
      expect(what + "word " + std::to_string(i), message_word(r, i), 7 * i + 3 + 1000);
    if (n > 0) expect(what + "badge in the last word", message_word(r, n - 1), 0xbad);
  }
  Message too_long(MessageInfo(40, kMaxMessageWords + 1));
  expect("65 words", call(badged, too_long).status, Error::kInvalidArgument);
  // Nothing was delivered: the server still waits for the next message.
  expect("server still waiting", try_send(ep, Message{}), Error::kOk);
  expect("root done", 1, 1);
}

void cap_server(word) {
  IpcBuffer* buffer = arch::user_ipc_buffer();
  buffer->receive_slot = g_ipc.window;
  buffer->receive_count = g_ipc.window_count;
  Message m = recv(g_ipc.endpoint);
  for (;;) {
    Message r(MessageInfo(0, 3));
    r.words[0] = m.info.caps();
    r.words[1] = m.info.caps_dropped() ? 1 : 0;
    r.words[2] = m.words[0];
    // Use each transferred notification capability: the root sees the signals.
    for (std::size_t i = 0; i < m.info.caps(); ++i)
      (void)signal(g_ipc.window + i);
    for (std::size_t i = 0; i < m.info.caps(); ++i)
      (void)cnode_delete(kRootCNodeSlot, g_ipc.window + i);
    buffer->receive_count = g_ipc.window_count;
    m = reply_recv(g_ipc.endpoint, r);
  }
}

void cap_root(word info) {
  test::RootKit kit(info);
  word ep = kit.make(ObjectType::kEndpoint);
  word no_grant = kit.mint(ep, Rights::kRead | Rights::kWrite, 0);
  word ntfn = kit.make(ObjectType::kNotification);
  word n[4];
  for (word i = 0; i < 4; ++i)
    n[i] = kit.mint(ntfn, Rights::kWrite, word{1} << i);
  g_ipc.endpoint = ep;
  g_ipc.window = kit.slot();
  for (int i = 0; i < 3; ++i)
    (void)kit.slot();
  g_ipc.window_count = 4;
  (void)kit.spawn(cap_server, 0, kMaxPriority);
  yield();

  IpcBuffer* buffer = arch::user_ipc_buffer();
  for (std::size_t i = 0; i < 4; ++i)
    buffer->caps[i] = n[i];
  Message m(MessageInfo(1, 1, 4));
  m.words[0] = 77;
  expect("4 caps without grant", call(no_grant, m).status, Error::kInsufficientRights);
  expect("no signal from a rejected send", poll(ntfn).badge, 0);

  Message r = call(ep, m);
  expect("4 caps: status", r.status, Error::kOk);
  expect("4 caps: received", r.words[0], 4);
  expect("4 caps: not dropped", r.words[1], 0);
  expect("4 caps: word", r.words[2], 77);
  expect("4 caps: each one signalled", poll(ntfn).badge, 0xf);

  Message two(MessageInfo(1, 1, 2));
  two.words[0] = 78;
  r = call(ep, two);
  expect("2 caps: received", r.words[0], 2);
  expect("2 caps: signalled", poll(ntfn).badge, 0x3);

  g_ipc.window_count = 2;  // the server's next window is too small for 4
  r = call(ep, Message(MessageInfo(1, 1)));
  r = call(ep, m);
  expect("window too small: status", r.status, Error::kOk);
  expect("window too small: none received", r.words[0], 0);
  expect("window too small: kCapsDropped", r.words[1], 1);
  expect("window too small: words still delivered", r.words[2], 77);
  expect("window too small: nothing signalled", poll(ntfn).badge, 0);
  expect("root done", 1, 1);
}

void fifo_sender(word value) {
  Message m(MessageInfo(1, 1));
  m.words[0] = value;
  (void)send(g_ipc.endpoint, m);
}

// Senders arrive in the order the root resumes them (each preempts the low-priority root and
// blocks in send); the root then receives: by priority, FIFO within one.
void ordering_root(word info) {
  test::RootKit kit(info);
  word ep = kit.make(ObjectType::kEndpoint);
  g_ipc.endpoint = ep;
  struct Sender {
    word value;
    word priority;
  };
  const Sender senders[] = {{3, 50}, {9, 80}, {1, 50}, {20, 150}, {2, 50}, {8, 80}};
  word threads[6];
  for (std::size_t i = 0; i < 6; ++i) {
    threads[i] = kit.spawn(fifo_sender, senders[i].value, senders[i].priority);
    expect("suspend sender", thread_suspend(threads[i]), Error::kOk);
  }
  expect("root lowers itself", thread_set_priority(kRootThreadSlot, 10), Error::kOk);
  for (word t : threads) {
    expect("resume sender", thread_resume(t), Error::kOk);
    expect("sender blocked at once", thread_read_registers(t).words[0],
           word(ThreadState::kBlockedOnSend));
  }
  for (int i = 0; i < 6; ++i) {
    Message m = recv(ep);
    expect("recv status", m.status, Error::kOk);
    g_ipc.order.push_back(m.words[0]);
  }
  expect("root done", 1, 1);
}

void logging_high(word) {
  (void)wait(g_ipc.window);
  g_ipc.log.push_back("H woke");
  Message m = recv(g_ipc.endpoint);
  g_ipc.log.push_back("H got " + std::to_string(m.words[0]));
}

void logging_middle(word) {
  (void)wait(g_ipc.window + 2);
  g_ipc.log.push_back("M before");
  (void)signal(g_ipc.window);
  g_ipc.log.push_back("M after");
  (void)signal(g_ipc.window + 1);
  g_ipc.log.push_back("M after 2");
  Message m(MessageInfo(1, 1));
  m.words[0] = 5;
  (void)send(g_ipc.endpoint, m);
  g_ipc.log.push_back("M after send");
}

void logging_low(word) {
  (void)wait(g_ipc.window + 1);
  g_ipc.log.push_back("L woke");
}

void preemption_root(word info) {
  test::RootKit kit(info);
  g_ipc.endpoint = kit.make(ObjectType::kEndpoint);
  word n[3];
  for (word& x : n)
    x = kit.make(ObjectType::kNotification);
  g_ipc.window = kit.slot();  // three badged notification caps in a row
  (void)kit.slot();
  (void)kit.slot();
  for (word i = 0; i < 3; ++i) {
    expect("mint",
           cnode_mint(kRootCNodeSlot, g_ipc.window + i, kRootCNodeSlot, n[i], Rights::kAll, 1),
           Error::kOk);
  }
  (void)kit.spawn(logging_high, 0, 200);
  (void)kit.spawn(logging_middle, 0, 100);
  (void)kit.spawn(logging_low, 0, 20);
  expect("root lowers itself", thread_set_priority(kRootThreadSlot, 5), Error::kOk);
  g_ipc.log.push_back("root go");
  (void)signal(g_ipc.window + 2);
  g_ipc.log.push_back("root end");
}

void call_client(word) {
  for (word i = 0; i < 3; ++i) {
    Message m(MessageInfo(1, 1));
    m.words[0] = i;
    Message r = call(g_ipc.endpoint, m);
    g_ipc.order.push_back(r.label() * 100 + r.info.length());
  }
}

void direct_switch_root(word info) {
  test::RootKit kit(info);
  g_ipc.endpoint = kit.make(ObjectType::kEndpoint);
  (void)kit.spawn(echo_server, 0, 100);  // thread id 2
  (void)kit.spawn(call_client, 0, 100);  // thread id 3
}

}  // namespace

TEST_CASE("messages of 0, 4, 5..64 words; over-long is rejected") {
  bool fastpath = GENERATE(true, false);
  INFO("fastpath " << fastpath);
  test::reset_observations();
  g_ipc = IpcShared{};
  hosted::Simulation sim(hosted::SimulationConfig{.trace = true, .fastpath = fastpath});
  REQUIRE(sim.run(message_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(message_root_observations());
  std::size_t fast = 0;
  const core::Trace& trace = core::kernel().trace;
  for (std::size_t i = 0; i < trace.recorded(); ++i) {
    if (trace.buffer()[i].kind == core::TraceKind::kFastpath) ++fast;
  }
  if (fastpath) {
    CHECK(fast >= 6);  // the calls and replies of 0..4 words
  } else {
    CHECK(fast == 0);
  }
}

TEST_CASE("capability transfer: grant, receive window, kCapsDropped") {
  bool fastpath = GENERATE(true, false);
  INFO("fastpath " << fastpath);
  test::reset_observations();
  g_ipc = IpcShared{};
  hosted::Simulation sim(hosted::SimulationConfig{.fastpath = fastpath});
  REQUIRE(sim.run(cap_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(15);
}

TEST_CASE("queued senders: priority order, FIFO within a priority") {
  bool fastpath = GENERATE(true, false);
  INFO("fastpath " << fastpath);
  test::reset_observations();
  g_ipc = IpcShared{};
  hosted::Simulation sim(hosted::SimulationConfig{.fastpath = fastpath});
  REQUIRE(sim.run(ordering_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(26);
  CHECK(g_ipc.order == std::vector<word>{20, 9, 8, 3, 1, 2});
}

TEST_CASE("a woken higher-priority thread preempts; a lower one waits its turn") {
  bool fastpath = GENERATE(true, false);
  INFO("fastpath " << fastpath);
  test::reset_observations();
  g_ipc = IpcShared{};
  hosted::Simulation sim(hosted::SimulationConfig{.fastpath = fastpath});
  REQUIRE(sim.run(preemption_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(4);
  CHECK(g_ipc.log == std::vector<std::string>{"root go", "M before", "H woke", "M after",
                                              "M after 2", "H got 5", "M after send", "L woke",
                                              "root end"});
}

TEST_CASE("call and reply switch directly to the partner, without a scheduler pass") {
  bool fastpath = GENERATE(true, false);
  INFO("fastpath " << fastpath);
  test::reset_observations();
  g_ipc = IpcShared{};
  hosted::Simulation sim(hosted::SimulationConfig{.trace = true, .fastpath = fastpath});
  REQUIRE(sim.run(direct_switch_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  CHECK(g_ipc.order == std::vector<word>{201, 201, 201});
  const core::Trace& trace = core::kernel().trace;
  REQUIRE(trace.recorded() < trace.capacity());
  constexpr std::uint32_t kServer = 2, kClient = 3;
  int calls = 0, replies = 0, fast = 0;
  for (std::size_t i = 0; i < trace.recorded(); ++i) {
    const core::TraceEvent& e = trace.buffer()[i];
    if (e.kind == core::TraceKind::kFastpath) ++fast;
    bool entry = e.kind == core::TraceKind::kSyscall || e.kind == core::TraceKind::kFastpath;
    bool is_call = entry && e.thread == kClient && e.a == word(Syscall::kCall);
    bool is_reply = entry && e.thread == kServer && e.a == word(Syscall::kReplyRecv);
    if (!is_call && !is_reply) continue;
    // The next switch after this entry: a direct one, to the partner.
    std::size_t j = i + 1;
    while (j < trace.recorded() && trace.buffer()[j].kind != core::TraceKind::kDirectSwitch &&
           trace.buffer()[j].kind != core::TraceKind::kSchedule)
      ++j;
    REQUIRE(j < trace.recorded());
    const core::TraceEvent& sw = trace.buffer()[j];
    CHECK(sw.kind == core::TraceKind::kDirectSwitch);
    CHECK(sw.a == e.thread);
    CHECK(sw.b == (is_call ? kServer : kClient));
    (is_call ? calls : replies) += 1;
  }
  CHECK(calls == 3);
  CHECK(replies == 3);
  if (fastpath) {
    CHECK(fast == 6);
  } else {
    CHECK(fast == 0);
  }
}
