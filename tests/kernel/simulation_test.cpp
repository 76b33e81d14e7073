// The hosted driver: a run stops at its virtual time limit even while threads keep running,
// and resume() carries on from there.
#include <catch2/catch.hpp>

#include "support/root_kit.hpp"

using namespace ukernel;

namespace {
int g_yields = 0;

void busy_root(word) {
  for (g_yields = 0; g_yields < 20000; ++g_yields)
    yield();
}
}  // namespace

TEST_CASE("simulation: a time limit stops a busy system, and resume continues it") {
  hosted::Simulation sim({.syscall_cost_ns = 100});
  CHECK(sim.run(busy_root, 100'000) == hosted::RunResult::kTimeLimit);
  CHECK(sim.now_ns() >= 100'000);
  CHECK(sim.now_ns() < 110'000);
  int at_limit = g_yields;
  CHECK(at_limit > 500);
  CHECK(at_limit < 20000);
  CHECK(sim.resume(200'000) == hosted::RunResult::kTimeLimit);
  CHECK(g_yields > at_limit);
  CHECK(sim.resume() == hosted::RunResult::kIdle);
  CHECK(g_yields == 20000);
}
