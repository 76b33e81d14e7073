// The kernel invariant checker (core/debug/invariants.hpp), which the system-call fuzzer runs
// after every input: it passes on a real system with blocked threads and derived capabilities,
// and names what is broken when the kernel's state is corrupted on purpose.
#include <catch2/catch.hpp>
#include <string>

#include "core/debug/invariants.hpp"
#include "core/endpoint.hpp"
#include "core/kernel.hpp"
#include "support/root_kit.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;

namespace {

core::CNode* g_root = nullptr;
word g_endpoint = 0;

void receiver(word) {
  (void)recv(g_endpoint);  // blocks for good
}

void root(word info) {
  test::RootKit kit(info);
  g_root = core::current()->cspace();
  g_endpoint = kit.make(ObjectType::kEndpoint);
  (void)kit.mint(g_endpoint, Rights::kAll, 5);
  (void)kit.make(ObjectType::kNotification);
  (void)kit.spawn(receiver, 0, 200);
  (void)kit.spawn(receiver, 0, 100);
}

core::Endpoint& endpoint() {
  return *g_root->slot(g_endpoint)->cap.as<core::Endpoint>();
}

}  // namespace

TEST_CASE("invariants: hold on a real system; a corrupted count or queue is named") {
  hosted::Simulation sim;
  REQUIRE(sim.run(root) == hosted::RunResult::kIdle);
  REQUIRE(g_root != nullptr);
  core::debug::InvariantReport report = core::debug::check_invariants(*g_root);
  INFO(report.failure.c_str());
  CHECK(report.ok());
  CHECK(report.threads == 3);  // the root and two receivers
  CHECK(report.untyped_children >= 5);

  core::Endpoint& ep = endpoint();
  ++ep.cap_count;
  CHECK(core::debug::check_invariants(*g_root).failure ==
        "cap_count differs from the capabilities that name it");
  --ep.cap_count;

  core::Thread& waiting = *ep.receivers.head();
  waiting.state = ThreadState::kRunning;
  CHECK(core::debug::check_invariants(*g_root).failure ==
        "endpoint receivers: holds a thread in another state");
  waiting.state = ThreadState::kBlockedOnRecv;

  ep.receivers.remove(waiting);
  CHECK(core::debug::check_invariants(*g_root).failure == "a blocked thread is in no queue");
  ep.receivers.insert_by_priority(waiting);
  CHECK(core::debug::check_invariants(*g_root).ok());
}

// The checker allocates nothing (a bare-metal kernel runs it: the hostile image): its tables come
// from the scratch memory it is given, and too little is a failure, never a pass.
TEST_CASE(
    "invariants: the checker works in the scratch memory it is given, and says when it is too "
    "small") {
  hosted::Simulation sim;
  REQUIRE(sim.run(root) == hosted::RunResult::kIdle);
  REQUIRE(g_root != nullptr);
  core::debug::InvariantReport host = core::debug::check_invariants(*g_root);
  REQUIRE(host.ok());

  alignas(8) static std::byte enough[1 << 20];
  core::debug::InvariantReport fixed = core::debug::check_invariants(*g_root, enough);
  INFO(fixed.failure.c_str());
  CHECK(fixed.ok());
  CHECK(fixed.slots == host.slots);
  CHECK(fixed.objects == host.objects);
  CHECK(fixed.threads == host.threads);
  CHECK(fixed.untyped_children == host.untyped_children);

  // Misaligned and too small: the root CNode alone has 4096 slots.
  core::debug::InvariantReport tiny =
      core::debug::check_invariants(*g_root, std::span(enough + 3, 4096));
  CHECK(tiny.scratch_too_small);
  CHECK(tiny.failure == "checker: scratch memory too small");
  CHECK_FALSE(tiny.ok());

  // A corruption is found the same way in fixed memory.
  ++endpoint().cap_count;
  CHECK(core::debug::check_invariants(*g_root, enough).failure ==
        "cap_count differs from the capabilities that name it");
  --endpoint().cap_count;
}

// Regression (found by the system-call fuzzer): one revoke wakes a higher-priority thread (its
// endpoint is finalised) and then finalises the current thread itself. The woken thread was the
// kernel's switch candidate, and finalising the current thread replaced "switch to it" by
// "choose anew", so the woken thread was runnable but in no queue: it never ran again.
namespace {

struct Revoke {
  word untyped = 0;
  word endpoint = 0;
  bool sender_resumed = false;
  Error sender_status = Error::kOk;
  bool revoker_survived = false;
} g_revoke;

void blocked_sender(word) {
  Message m = call(g_revoke.endpoint, Message(MessageInfo(1, 0)));
  g_revoke.sender_status = m.status;
  g_revoke.sender_resumed = true;
}

void revoker(word) {
  (void)cnode_revoke(kRootCNodeSlot, g_revoke.untyped);  // its own thread is made from it
  g_revoke.revoker_survived = true;
}

void revoke_root(word info) {
  test::RootKit kit(info);
  g_root = core::current()->cspace();
  g_revoke.untyped = kit.make(ObjectType::kUntyped, 16);
  // The revoker's thread first, then the endpoint: revoke deletes the newest child first, so
  // the endpoint goes (waking the sender) before the revoker's own thread.
  word thread = kit.slot();
  g_revoke.endpoint = kit.slot();
  word frame = kit.make(ObjectType::kFrame, 12);
  if (retype(g_revoke.untyped, ObjectType::kThread, 0, kRootCNodeSlot, thread) != Error::kOk ||
      retype(g_revoke.untyped, ObjectType::kEndpoint, 0, kRootCNodeSlot, g_revoke.endpoint) !=
          Error::kOk ||
      map_frame(kRootAddressSpaceSlot, frame, 0x70000000, Rights::kRead | Rights::kWrite) !=
          Error::kOk ||
      thread_configure(thread, kRootCNodeSlot, kRootAddressSpaceSlot, frame, 0x70000000, 0) !=
          Error::kOk ||
      thread_set_priority(thread, 100) != Error::kOk)
    return;
  (void)kit.spawn(blocked_sender, 0, 200);
  (void)thread_restart(thread, hosted::entry_address(revoker), 0, 0);
  (void)thread_set_priority(kRootThreadSlot, 10);  // the sender blocks, then the revoker runs
}

}  // namespace

TEST_CASE("a thread woken by a revoke that also destroys the current thread still runs") {
  g_revoke = Revoke{};
  hosted::Simulation sim;
  REQUIRE(sim.run(revoke_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  CHECK_FALSE(g_revoke.revoker_survived);
  CHECK(g_revoke.sender_resumed);
  CHECK(g_revoke.sender_status != Error::kOk);  // its endpoint is gone
  core::debug::InvariantReport report = core::debug::check_invariants(*g_root);
  INFO(report.failure.c_str());
  CHECK(report.ok());
}

// Regression (found by the system-call fuzzer): a server restarts its own thread while it holds
// a caller's reply capability. Deleting that capability wakes the caller (kCancelled), which
// becomes the switch candidate; waking the restarted server, still the current thread, then
// queued it as well, and schedule() queued it a second time when it switched to the caller: the
// server sat in the ready queue twice.
namespace {

struct SelfRestart {
  word endpoint = 0;
  word server_thread = 0;
  int restarted_runs = 0;
  bool client_resumed = false;
  Error client_status = Error::kOk;
  std::string invariants_when_resumed = "not checked";
} g_self;

void restarted_server(word) {
  ++g_self.restarted_runs;
}

void restarting_server(word) {
  Message request = recv(g_self.endpoint);
  if (!request.ok()) return;
  // Restarts itself with the caller's reply capability still held.
  (void)thread_restart(g_self.server_thread, hosted::entry_address(restarted_server), 0, 0);
}

void waiting_client(word) {
  Message m = call(g_self.endpoint, Message(MessageInfo(1, 0)));
  g_self.client_status = m.status;
  g_self.client_resumed = true;
  // Right after the entry that restarted the server: the server is ready, queued once.
  core::debug::InvariantReport report = core::debug::check_invariants(*g_root);
  g_self.invariants_when_resumed = report.ok() ? "ok" : report.failure.c_str();
}

void self_restart_root(word info) {
  test::RootKit kit(info);
  g_root = core::current()->cspace();
  g_self.endpoint = kit.make(ObjectType::kEndpoint);
  g_self.server_thread = kit.spawn(restarting_server, 0, 100);
  (void)kit.spawn(waiting_client, 0, 200);
}

}  // namespace

TEST_CASE("a server that restarts itself while holding a reply is queued once") {
  g_self = SelfRestart{};
  hosted::Simulation sim;
  REQUIRE(sim.run(self_restart_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  CHECK(g_self.client_resumed);
  CHECK(g_self.client_status == Error::kCancelled);
  CHECK(g_self.restarted_runs == 1);
  CHECK(g_self.invariants_when_resumed == "ok");
  core::debug::InvariantReport report = core::debug::check_invariants(*g_root);
  INFO(report.failure.c_str());
  CHECK(report.ok());
}
