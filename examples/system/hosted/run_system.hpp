// Running the example system on the hosted back-end, for the ukernel-system program and for
// the host tests: images, the simulation, the console's input and the transcript.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ukernel/hosted/trace.hpp"

namespace system_example {

struct RunOptions {
  std::string image_directory;  // where system_<name>.so are
  std::uint64_t seed = 1;
  unsigned preempt_one_in = 0;  // > 0: seeded random preemption
  bool echo = false;            // copy the transcript to stdout as it is written
  // Set: the kernel event trace of the whole run is recorded and stored here at its end.
  std::vector<ukernel::hosted::TraceRecord>* trace = nullptr;
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
