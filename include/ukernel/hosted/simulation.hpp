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
#include "ukernel/hosted/trace.hpp"

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
  // The ABI version the root task is built against: this default is compiled from the caller's
  // copy of ukernel/abi.hpp, so a program built against other headers than the library's is
  // refused at boot (RunResult::kBootRefused). Tests set another value to see the refusal.
  word root_abi_version = kAbiVersion;
};

enum class RunResult {
  kIdle,       // no thread can run and no device event is pending
  kTimeLimit,  // the virtual clock reached the limit
  // The kernel refused to boot the root task (SimulationConfig::root_abi_version is not the
  // kernel's kAbiVersion); console() says why. Nothing ran.
  kBootRefused,
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
  // The kernel event trace (the last 2^20 events), as records and as text, one event per line
  // ("time kind thread a b c d", see ukernel/hosted/trace.hpp).
  std::vector<TraceRecord> trace_records() const;
  std::string trace_text() const;
  std::size_t trace_events() const;
  // The injected faults that fired, one line each ("TIME ns: kill names at its call 12 ...").
  const std::string& fault_log() const;

 private:
  RunResult drive(std::uint64_t limit_ns);
};

}  // namespace ukernel::hosted
