// Running the example system on the hosted back-end, for the ukernel-system program and for
// the host tests: images, the simulation, the console's input and the transcript.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ukernel::hosted {
struct FaultSchedule;
}
#include "ukernel/hosted/trace.hpp"

namespace system_example {

class HostedDisk;  // disk.hpp
// What a run leaves besides its transcript, for fault campaigns (scripts/dst).
struct RunReport {
  std::string fault_log;         // the injected faults that fired
  std::string invariants;        // the kernel's first broken invariant after the run; "" if none
  std::uint64_t trace_hash = 0;  // FNV-1a of the kernel trace (with RunOptions::trace)
  std::size_t trace_events = 0;
  std::uint64_t quiet_line_ns = 0;  // when line RunOptions::quiet_before began to be typed
};

struct RunOptions {
  std::string image_directory;  // where system_<name>.so are
  // Servers whose system_<name>.so is taken from another folder: {name, folder} (ukernel-dst
  // --planted loads the console from planted/, docs/fuzzing.md).
  std::vector<std::pair<std::string, std::string>> image_folders{};
  std::uint64_t seed = 1;
  unsigned preempt_one_in = 0;  // > 0: seeded random preemption
  bool echo = false;            // copy the transcript to stdout as it is written
  // A disk image: the ECAM host bridge and a virtio-blk function backed by it (disk.hpp).
  std::string disk{};
  // Called with the disk once it is attached (tests inject errors, read the model's records).
  std::function<void(HostedDisk&)> on_disk{};
  // Called with the disk when the run has ended (tests read what the models recorded).
  std::function<void(HostedDisk&)> after_run{};
  const ukernel::hosted::FaultSchedule* faults = nullptr;  // faults to inject
  bool trace = false;           // record the kernel trace (for RunReport::trace_hash)
  RunReport* report = nullptr;  // filled by run_script if not null
  // Line `quiet_before` (and those after it) is typed `quiet_ns` later than the gap alone says:
  // a campaign's last commands, typed once its faults have settled.
  std::size_t quiet_before = 0;
  std::uint64_t quiet_ns = 0;
  // Set: the kernel event trace of the whole run is recorded and stored here at its end.
  std::vector<ukernel::hosted::TraceRecord>* trace_records = nullptr;
};

// Runs the system with `lines` typed at the console once the system is up, each `line_gap_ns`
// of virtual time after the previous one was typed (the console's input is paced like a serial
// line), and powers off `line_gap_ns` after the last. Returns the transcript.
std::string run_script(const RunOptions& options, const std::vector<std::string>& lines,
                       std::uint64_t line_gap_ns = 300'000'000);

// Runs the system with the process's stdin as the console's input, virtual time paced to real
// time, until stdin ends. Returns the process's exit status.
int run_interactive(const RunOptions& options);

}  // namespace system_example
