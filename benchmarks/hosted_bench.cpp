// Hosted benchmarks: the IPC round trip through the real kernel core, against what the host
// itself costs for the same shape of work (a raw fiber switch pair, a bare fiber hand-off of a
// 4-word message, and a futex ping-pong between two OS threads on one core).
//
// Google Benchmark runs each figure several times; its table goes to stderr. Stdout gets one
// line per figure, "NAME VALUE UNIT", each the fastest of the repetitions (scripts/bench prints
// them). The IPC round trip is timed from inside the client fiber: the benchmark's own loop runs
// in the root task, so the wall clock covers exactly the call/reply_recv pairs.
//
// The raw fiber benchmarks switch without telling ASan: run them from the release build only.
#include <benchmark/benchmark.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;
namespace ctx = boost::context::detail;

namespace {

constexpr int kRepetitions = 9;

// --- IPC round trip through the kernel -------------------------------------------------------

// What the benchmark function and the root task (the client) share.
struct IpcSetup {
  benchmark::State* state = nullptr;
  word server_endpoint = 0;  // in the server's own CNode
  word checksum = 0;         // of the replies, so the work cannot be skipped
  bool failed = false;
};
IpcSetup g_ipc;

constexpr word kServerEndpointSlot = 1;

void ipc_server(word) {
  Message m = recv(kServerEndpointSlot);
  for (;;) {
    Message r(MessageInfo(0, 4));
    r.words[0] = m.words[0] + 1;
    r.words[1] = m.words[1] + 1;
    r.words[2] = m.words[2] + 1;
    r.words[3] = m.words[3] + 1;
    m = reply_recv(kServerEndpointSlot, r);
  }
}

// The server gets its own CNode (holding only the endpoint) and its own address space.
bool spawn_server(word first_free, word untyped, word endpoint) {
  word next = first_free;
  auto make = [&](ObjectType type, unsigned size_bits) -> word {
    word s = next++;
    return retype(untyped, type, size_bits, kRootCNodeSlot, s) == Error::kOk ? s : 0;
  };
  word cnode = make(ObjectType::kCNode, 4);
  word space = make(ObjectType::kAddressSpace, 16);
  word frame = make(ObjectType::kFrame, 12);
  word thread = make(ObjectType::kThread, 0);
  if (cnode == 0 || space == 0 || frame == 0 || thread == 0) return false;
  if (cnode_copy(cnode, kServerEndpointSlot, kRootCNodeSlot, endpoint, Rights::kAll) != Error::kOk)
    return false;
  constexpr word kIpcVaddr = 0x40000000;
  if (map_frame(space, frame, kIpcVaddr, Rights::kRead | Rights::kWrite) != Error::kOk)
    return false;
  if (thread_configure(thread, cnode, space, frame, kIpcVaddr, 0) != Error::kOk) return false;
  if (thread_set_priority(thread, kMaxPriority) != Error::kOk) return false;
  return thread_restart(thread, hosted::entry_address(ipc_server), 0, 0) == Error::kOk;
}

void ipc_client(word info_address) {
  const BootInfo* info = boot_info(info_address);
  word best = 0;
  for (word i = 0; i < info->untyped_count; ++i) {
    if (info->untyped[i].size_bits > info->untyped[best].size_bits) best = i;
  }
  word untyped = kFirstUntypedSlot + best;
  word endpoint = info->first_free_slot;
  if (retype(untyped, ObjectType::kEndpoint, 0, kRootCNodeSlot, endpoint) != Error::kOk ||
      !spawn_server(endpoint + 1, untyped, endpoint)) {
    g_ipc.failed = true;
    return;
  }
  Message m(MessageInfo(1, 4));
  m.words[0] = 1;
  m.words[1] = 2;
  m.words[2] = 3;
  m.words[3] = 4;
  // The first call finds the server not yet receiving (general path); time the steady state.
  Message r = call(endpoint, m);
  word checksum = 0;
  for (auto _ : *g_ipc.state) {
    r = call(endpoint, m);
    checksum += r.words[0] + r.words[3];
  }
  if (!r.ok() || r.words[0] != 2 || r.words[3] != 5) g_ipc.failed = true;
  g_ipc.checksum = checksum;
}

void BM_ipc_roundtrip(benchmark::State& state) {
  g_ipc = IpcSetup{};
  g_ipc.state = &state;
  {
    hosted::Simulation sim;
    (void)sim.run(ipc_client);
  }
  benchmark::DoNotOptimize(g_ipc.checksum);
  if (g_ipc.failed) state.SkipWithError("IPC setup or reply failed");
}

// --- raw fibers ------------------------------------------------------------------------------

constexpr std::size_t kFiberStackBytes = 64 * 1024;

struct RawFiber {
  std::vector<char> stack = std::vector<char>(kFiberStackBytes);
  ctx::fcontext_t context = nullptr;
  explicit RawFiber(void (*entry)(ctx::transfer_t)) {
    context = ctx::make_fcontext(stack.data() + stack.size(), stack.size(), entry);
  }
};

// Jumps straight back to whoever switched to it, forever.
void bounce(ctx::transfer_t from) {
  for (;;)
    from = ctx::jump_fcontext(from.fctx, nullptr);
}

void BM_fiber_switch_pair(benchmark::State& state) {
  RawFiber fiber(bounce);
  ctx::fcontext_t to = fiber.context;
  for (auto _ : state) {
    to = ctx::jump_fcontext(to, nullptr).fctx;
  }
}

// A bare hand-off of a 4-word message and a 4-word answer, as an IPC round trip without a kernel.
struct FourWords {
  word w[4];
};

void echo_four(ctx::transfer_t from) {
  for (;;) {
    auto* m = static_cast<FourWords*>(from.data);
    FourWords r{{m->w[0] + 1, m->w[1] + 1, m->w[2] + 1, m->w[3] + 1}};
    *m = r;
    from = ctx::jump_fcontext(from.fctx, m);
  }
}

void BM_fiber_handoff_4w(benchmark::State& state) {
  RawFiber fiber(echo_four);
  ctx::fcontext_t to = fiber.context;
  FourWords m{{1, 2, 3, 4}};
  word checksum = 0;
  for (auto _ : state) {
    FourWords sent{{1, 2, 3, 4}};
    m = sent;
    ctx::transfer_t back = ctx::jump_fcontext(to, &m);
    to = back.fctx;
    checksum += static_cast<FourWords*>(back.data)->w[0];
  }
  benchmark::DoNotOptimize(checksum);
}

// --- Linux: a futex ping-pong between two threads on one core --------------------------------

void futex_wait(std::atomic<std::uint32_t>& futex_word, std::uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&futex_word), FUTEX_WAIT_PRIVATE, expected,
          nullptr, nullptr, 0);
}
void futex_wake(std::atomic<std::uint32_t>& futex_word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&futex_word), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
}

bool pin_to_cpu(pthread_t thread, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(thread, sizeof set, &set) == 0;
}

// turn: 0 = the ping side's turn, 1 = the pong side's, 2 = stop.
void BM_futex_pingpong_same_core(benchmark::State& state) {
  std::atomic<std::uint32_t> turn{0};
  cpu_set_t original;
  pthread_getaffinity_np(pthread_self(), sizeof original, &original);
  int cpu = sched_getcpu();
  if (cpu < 0) cpu = 0;
  if (!pin_to_cpu(pthread_self(), cpu)) {
    state.SkipWithError("cannot pin to a CPU");
    return;
  }
  std::thread pong([&] {
    pin_to_cpu(pthread_self(), cpu);
    for (;;) {
      std::uint32_t t = turn.load(std::memory_order_acquire);
      if (t == 2) return;
      if (t == 0) {
        futex_wait(turn, 0);
        continue;
      }
      turn.store(0, std::memory_order_release);
      futex_wake(turn);
    }
  });
  for (auto _ : state) {
    turn.store(1, std::memory_order_release);
    futex_wake(turn);
    while (turn.load(std::memory_order_acquire) == 1)
      futex_wait(turn, 1);
  }
  turn.store(2, std::memory_order_release);
  futex_wake(turn);
  pong.join();
  pthread_setaffinity_np(pthread_self(), sizeof original, &original);
}

BENCHMARK(BM_ipc_roundtrip)->Repetitions(kRepetitions)->MinTime(0.1);
BENCHMARK(BM_fiber_switch_pair)->Repetitions(kRepetitions)->MinTime(0.1);
BENCHMARK(BM_fiber_handoff_4w)->Repetitions(kRepetitions)->MinTime(0.1);
BENCHMARK(BM_futex_pingpong_same_core)->Repetitions(kRepetitions)->MinTime(0.2);

// Shows Google Benchmark's table on stderr and keeps the time of every repetition.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  CollectingReporter() : ConsoleReporter(OO_Tabular) {}  // no colour codes in logs
  void ReportRuns(const std::vector<Run>& reports) override {
    for (const Run& run : reports) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      times_[run.run_name.function_name].push_back(run.GetAdjustedRealTime());
    }
    ConsoleReporter::ReportRuns(reports);
  }

  // The fastest repetition of `name`, in ns; negative if it did not run. Other processes on
  // this small machine only ever add time, so the minimum is the stable figure.
  double min_ns(const std::string& name) {
    const std::vector<double>& v = times_[name];
    if (v.empty()) return -1;
    return *std::min_element(v.begin(), v.end());
  }

 private:
  std::map<std::string, std::vector<double>> times_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  CollectingReporter reporter;
  reporter.SetOutputStream(&std::cerr);
  reporter.SetErrorStream(&std::cerr);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  double ipc = reporter.min_ns("BM_ipc_roundtrip");
  double pair = reporter.min_ns("BM_fiber_switch_pair");
  double handoff = reporter.min_ns("BM_fiber_handoff_4w");
  double futex = reporter.min_ns("BM_futex_pingpong_same_core");
  if (ipc >= 0) std::printf("hosted.ipc_roundtrip_ns %.1f ns\n", ipc);
  if (pair >= 0) std::printf("hosted.fiber_switch_pair_ns %.1f ns\n", pair);
  if (ipc >= 0 && pair > 0) std::printf("hosted.ipc_over_fiber_ratio %.2f x\n", ipc / pair);
  if (handoff >= 0) std::printf("hosted.fiber_handoff_4w_ns %.1f ns\n", handoff);
  if (futex >= 0) std::printf("linux.futex_pingpong_same_core_ns %.0f ns\n", futex);
  return 0;
}
