// Floating point on the hosted back-end: threads are fibers, and each keeps its own FP state
// (docs/kernel.md, "Floating point and SIMD"). Two threads of one priority, switching at every
// step, each compute with their own rounding mode; neither's mode or values leak into
// the other's.
#include <catch2/catch.hpp>

#include <cfenv>

#include "check_observations.hpp"
#include "support/root_kit.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;
using test::expect;

namespace {

constexpr int kSteps = 2000;

struct Shared {
  double result[2] = {};
  int mode_kept[2] = {};
  int interleaved = 0;
  int last_thread = -1;
} g;

const int kModes[2] = {FE_UPWARD, FE_DOWNWARD};

// Sums thirds with volatile operands, so that the rounding mode of each addition counts.
double sum_of_thirds(int steps, bool with_syscalls, int self) {
  volatile double one = 1.0, three = 3.0;
  double sum = 0;
  for (int i = 0; i < steps; ++i) {
    sum += one / three;
    if (with_syscalls) {
      yield();  // the other thread of this priority runs here (a fiber switch)
      if (g.last_thread != self) ++g.interleaved;
      g.last_thread = self;
    }
  }
  return sum;
}

void fp_thread(word index) {
  int self = static_cast<int>(index);
  std::fesetround(kModes[self]);
  g.result[self] = sum_of_thirds(kSteps, true, self);
  g.mode_kept[self] = std::fegetround() == kModes[self];
}

void fpu_root(word info) {
  test::RootKit kit(info);
  word a = kit.spawn(fp_thread, 0, 100);
  word b = kit.spawn(fp_thread, 1, 100);
  expect("timeslice a", thread_set_timeslice(a, kMinTimesliceNs), Error::kOk);
  expect("timeslice b", thread_set_timeslice(b, kMinTimesliceNs), Error::kOk);
}

}  // namespace

TEST_CASE("hosted threads keep their own floating-point state across thread switches") {
  test::reset_observations();
  g = Shared{};
  hosted::Simulation sim;
  REQUIRE(sim.run(fpu_root, 10'000'000'000) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(2);
  double expected[2];
  for (int i = 0; i < 2; ++i) {
    std::fesetround(kModes[i]);
    expected[i] = sum_of_thirds(kSteps, false, i);
  }
  std::fesetround(FE_TONEAREST);
  CHECK(expected[0] != expected[1]);  // the rounding modes make a difference
  CHECK(g.interleaved > kSteps);      // the threads ran interleaved
  CHECK(g.result[0] == expected[0]);
  CHECK(g.result[1] == expected[1]);
  CHECK(g.mode_kept[0] == 1);
  CHECK(g.mode_kept[1] == 1);
}
