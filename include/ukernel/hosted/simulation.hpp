// Running a system on the hosted back-end: one kernel, in this process, on a virtual clock.
//
// A Simulation boots a fresh kernel whose root task runs a function of yours, and runs every
// thread as a fiber until nothing can run any more (or a virtual time limit). The same program
// and the same seed give the same interleaving and the same trace on every run; a seed with
// preempt_one_in > 0 adds seeded preemption points, to explore other interleavings.
//
// One Simulation exists at a time (the kernel is a singleton, as on hardware).
#pragma once

#include <cstdint>
#include <string>

#include "ukernel/abi.hpp"

namespace ukernel::hosted {

struct FaultSchedule;  // hosted/faults.hpp

struct SimulationConfig {
  std::uint64_t seed = 1;
  std::size_t memory_bytes = 32u << 20;  // physical memory handed to the root task
  unsigned preempt_one_in = 0;           // 0: off; n: a preemption point after ~1 in n system calls
  bool trace = false;                    // record the kernel event trace
  bool fastpath = true;                  // the IPC fast path (tests run both ways)
  bool echo_console = false;             // also copy the kernel console to stdout
  std::uint64_t syscall_cost_ns = 100;   // virtual time each kernel entry takes
  const FaultSchedule* faults = nullptr;  // faults to inject (hosted/faults.hpp); must outlive
                                          // the Simulation
};

enum class RunResult {
  kIdle,       // no thread can run and no device event is pending
  kTimeLimit,  // the virtual clock reached the limit
};

// A thread's entry point on the hosted back-end: the "instruction pointer" is this function.
using Entry = void (*)(word arg);
inline word entry_address(Entry entry) {
  return reinterpret_cast<word>(entry);
}

// Where the hosted root task finds its IPC buffer and BootInfo.
inline constexpr word kRootIpcBufferAddress = 0x10000000;
inline constexpr word kRootBootInfoAddress = 0x10001000;

class Simulation {
 public:
  explicit Simulation(const SimulationConfig& config = {});
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Boots a fresh kernel whose root task runs root(boot_info_address) at the highest priority,
  // and runs until idle or until virtual time `limit_ns` (0: no limit).
  RunResult run(Entry root, std::uint64_t limit_ns = 0);
  // Continues a run that stopped at its time limit.
  RunResult resume(std::uint64_t limit_ns = 0);

  // Raises device interrupt `line` at virtual time `at_ns` (delivered once unmasked).
  void raise_irq(unsigned line, std::uint64_t at_ns);

  std::uint64_t now_ns() const;
  const std::string& console() const;
  // The kernel event trace, one event per line ("time kind thread a b").
  std::string trace_text() const;
  std::size_t trace_events() const;
  // The injected faults that fired, one line each ("TIME ns: kill names at its call 12 ...").
  const std::string& fault_log() const;

 private:
  RunResult drive(std::uint64_t limit_ns);
};

}  // namespace ukernel::hosted
