// The kernel event trace, as text and as Chrome trace-event JSON (docs/tracing.md).
//
// One record per kernel event (core/kernel.hpp's TraceKind says what a, b, c and d hold). The
// text form, one record per line "time_ns kind thread a b c d" in decimal, is what
// Simulation::trace_text() returns and what a bare-metal kernel dumps; trace_json() turns the
// records into the JSON that chrome://tracing and Perfetto open.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ukernel::hosted {

// On hosted, servers are shared objects loaded where the host's loader chooses (ASLR), and so
// are the program and its libraries: a host address inside any of them (an entry point a restart
// passes, a function of the program a test sends) is written as the tag, the image's number (in
// the order the run's trace first named images) and the offset in the image
// (loaded_object_address in ukernel/hosted/image.hpp, asked when the event is recorded), so
// traces of two runs, in one process or two, compare.
inline constexpr std::uint64_t kImageAddressTag = std::uint64_t{0xfe} << 56;
inline constexpr unsigned kImageIndexShift = 40;

struct TraceRecord {
  std::uint64_t time_ns = 0;
  std::uint32_t kind = 0;
  std::uint32_t thread = 0;
  std::uint64_t a = 0, b = 0, c = 0, d = 0;
};

// The text form of `records`.
std::string trace_text(const std::vector<TraceRecord>& records);

// Parses the text form. A line that is not seven decimal numbers fails the whole parse: the
// result is false and `error` names the line.
[[nodiscard]] bool parse_trace_text(std::string_view text, std::vector<TraceRecord>& out,
                                    std::string& error);

// Chrome trace-event JSON: one process per address space (a server), one track per thread;
// system calls and message deliveries as slices (with their arguments and results), IPC as flow
// arrows from the sender's system call to the receiver's delivery, faults and thread starts as
// instant events, interrupts on the kernel's track. Timestamps in microseconds.
std::string trace_json(const std::vector<TraceRecord>& records);

}  // namespace ukernel::hosted
