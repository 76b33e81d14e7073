// The FP/SIMD test of the bare-metal back-ends (docs/kernel.md, "Floating point and SIMD"): a root
// task whose threads do floating-point and SIMD work at the same time, preempted by the timer, and
// which checks that a restarted thread starts with a clean FP state. One line per check, as the
// scenario root task prints them; it returns the number of failed checks (0: the image exits with
// success).
//
// The worker threads run in the root task's own address space (so they write their results into
// this image's globals), at a priority below the root task's and with a short timeslice, so that
// the timer switches between them many times in the middle of their loops. Each worker's result
// is compared bit for bit with the same computation done by the root task alone beforehand.
#include <cstddef>
#include <cstdint>

#include "arch_kit.hpp"
#include "log.hpp"
#include "root_kit.hpp"
#include "ukernel/syscall.hpp"

namespace ukernel {
namespace {

using user::hex;
using user::Line;

constexpr unsigned kWorkers = 4;
constexpr word kWorkerPriority = 100;
constexpr word kWorkerTimesliceNs = 100'000;  // the least the kernel takes
constexpr unsigned kIterations = 200'000;
constexpr unsigned kProgressEvery = 1024;
// Stacks of the threads, below the root task's stack (arch/user_frame.hpp), two pages each.
constexpr word kStacksTop = arch::kRootStackTop - 0x100000;
constexpr word kStackSpacing = 0x10000;
constexpr word kStackPages = 2;

using Doubles = double __attribute__((vector_size(16)));
using Words = std::uint32_t __attribute__((vector_size(16)));

// Scalar floating point and SIMD (integer lanes and double lanes) from a seed; every value
// stays in FP/SIMD registers through the loop. The result mixes the bits of all of them.
struct Result {
  std::uint64_t scalar;
  std::uint64_t lanes;
  bool operator==(const Result&) const = default;
};

std::uint64_t bits(double d) {
  return __builtin_bit_cast(std::uint64_t, d);
}

// `progress` (may be nullptr): bumped every kProgressEvery iterations, and `interleaved` counts
// the checkpoints at which another worker had made progress since the previous one.
Result compute(unsigned seed, volatile unsigned* progress, volatile unsigned* others,
               unsigned* interleaved) {
  double x = 1.0 + seed;
  Doubles v = {0.5 * seed, 0.25 + seed};
  Words h = {seed, seed * 3u + 1u, seed * 5u + 2u, seed * 7u + 3u};
  unsigned last_others = 0;
  for (unsigned n = 1; n <= kIterations; ++n) {
    x = x * 1.0000001 + 1.0 / double(n + seed);
    v = v * Doubles{0.999999, 1.000001} + Doubles{double(n), 1.0 / double(n)};
    h = h * 2654435761u + (h >> 7) + Words{n, n ^ seed, n + seed, n * seed};
    if (progress != nullptr && n % kProgressEvery == 0) {
      *progress = *progress + 1;
      unsigned now = 0;
      for (unsigned i = 0; i < kWorkers; ++i)
        now += others[i];
      now -= *progress;
      if (now != last_others) ++*interleaved;
      last_others = now;
    }
  }
  std::uint64_t lanes = bits(v[0]) ^ (bits(v[1]) << 1);
  for (unsigned i = 0; i < 4; ++i)
    lanes = lanes * 31 + h[i];
  return Result{bits(x), lanes};
}

struct Worker {
  Result result;
  unsigned interleaved;
};

user::RootKit root;
Worker workers[kWorkers];
volatile unsigned progress[kWorkers];
word done_notification;   // the root CNode's slot of the notification workers signal (badge i+1)
word block_notification;  // never signalled: where a thread waits for good

// What a restarted thread found when it started (check_main).
volatile word seen_control;
volatile word seen_register;

[[noreturn]] void block() {
  for (;;)
    (void)wait(block_notification);
}

void worker_main(word index) {
  auto i = static_cast<unsigned>(index);
  workers[i].result = compute(i + 1, &progress[i], progress, &workers[i].interleaved);
  (void)signal(done_notification + 1 + i);  // the badged copies follow the notification
  block();
}

// Leaves the FP/SIMD state dirty (rounding mode, a register), tells the root task, blocks.
void dirty_main(word) {
  user::set_fp_control(user::kFpControlDirty);
  user::set_fp_register15(0x4242424242424242);
  (void)signal(done_notification + 1);
  block();
}

// Records what the FP/SIMD state is as the thread starts, tells the root task, blocks.
void check_main(word) {
  seen_control = user::fp_control();
  seen_register = user::fp_register15();
  (void)signal(done_notification + 1);
  block();
}

user::Checks checks;

void report(bool ok, const char* what) {
  checks.report("fpu", ok, what);
}

word stack_top(unsigned i) {
  return kStacksTop - i * kStackSpacing;
}

// Waits until every bit of `bits` has been signalled.
bool wait_all(word bits) {
  word seen = 0;
  while ((seen & bits) != bits) {
    Message m = wait(done_notification);
    if (!m.ok()) return false;
    seen |= m.badge;
  }
  // The other threads wrote this image's globals: read them afresh.
  asm volatile("" ::: "memory");
  return true;
}

word start(void (*entry)(word), word arg, unsigned stack) {
  return root.start_thread(entry, arg, kRootCNodeSlot, kRootAddressSpaceSlot, 0, 0, kWorkerPriority,
                           stack_top(stack));
}

// A thread restarted after dirtying its FP state starts with the initial state, whether its
// registers were still live in the unit (`root_claims` false) or saved when the root task took
// the unit (`root_claims` true).
void restart_check(bool root_claims, const char* what) {
  word thread = start(dirty_main, 0, kWorkers);
  bool ok = thread != 0 && wait_all(1);
  if (root_claims) {
    volatile double d = 3.0;
    d = d / 7.0;  // the root task's own FP work takes the unit from the dirty thread
  }
  seen_control = ~word{0};
  seen_register = ~word{0};
  Error restarted =
      thread_restart(thread, reinterpret_cast<word>(reinterpret_cast<void*>(check_main)),
                     user::entry_stack(stack_top(kWorkers)), 0);
  ok = ok && restarted == Error::kOk && wait_all(1);
  ok = ok && seen_control == user::kFpControlInitial && seen_register == 0 &&
       thread_suspend(thread) == Error::kOk;
  Line line;
  line << "fpu: thread " << thread << " restarted (status " << word(restarted) << "), saw control "
       << hex(seen_control) << ", register " << hex(seen_register);
  line.end();
  report(ok, what);
}

}  // namespace
}  // namespace ukernel

extern "C" ukernel::word user_main(ukernel::word boot_info_address) {
  using namespace ukernel;
  root.init(boot_info_address);
  done_notification = root.make(ObjectType::kNotification);
  bool ok = done_notification != 0;
  for (unsigned i = 0; ok && i < kWorkers; ++i)
    ok = root.mint(done_notification, Rights::kWrite, word{1} << i) == done_notification + 1 + i;
  block_notification = root.make(ObjectType::kNotification);
  for (unsigned i = 0; ok && i <= kWorkers; ++i) {
    for (word page = 1; ok && page <= kStackPages; ++page)
      ok = root.map_fresh_frame(kRootAddressSpaceSlot, stack_top(i) - page * user::kPage) != 0;
  }
  report(ok && block_notification != 0, "set-up");
  if (!ok) return 1;

  // The expected results: the same computation, by the root task alone.
  Result expected[kWorkers];
  unsigned unused = 0;
  for (unsigned i = 0; i < kWorkers; ++i)
    expected[i] = compute(i + 1, nullptr, nullptr, &unused);

  word threads[kWorkers] = {};
  for (unsigned i = 0; ok && i < kWorkers; ++i) {
    threads[i] = start(worker_main, i, i);
    ok = threads[i] != 0 && thread_set_timeslice(threads[i], kWorkerTimesliceNs) == Error::kOk;
  }
  report(ok, "4 threads started");
  ok = ok && wait_all((word{1} << kWorkers) - 1);
  bool exact = ok;
  unsigned interleaved = 0;
  for (unsigned i = 0; i < kWorkers; ++i) {
    exact = exact && workers[i].result == expected[i];
    interleaved += workers[i].interleaved;
    (void)thread_suspend(threads[i]);
  }
  Line line;
  line << "fpu: " << word(kWorkers) << " threads, " << word(interleaved)
       << " checkpoints saw another thread's progress";
  line.end();
  report(ok && interleaved >= kWorkers, "the threads were preempted in the middle of their work");
  report(exact, "each thread's FP and SIMD results are exact");
  restart_check(false, "a restarted thread starts with a clean FP state (registers were live)");
  restart_check(true, "a restarted thread starts with a clean FP state (registers were saved)");
  return checks.summarise("fpu");
}
