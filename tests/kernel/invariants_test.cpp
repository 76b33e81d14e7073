// The kernel invariant checker (core/debug/invariants.hpp), which the system-call fuzzer runs
// after every input: it passes on a real system with blocked threads and derived capabilities,
// and names what is broken when the kernel's state is corrupted on purpose.
#include <catch2/catch.hpp>

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
  INFO(report.failure);
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
