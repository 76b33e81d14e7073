// The kernel trace on bare metal (trace builds only: arch/trace_build.hpp).
//
// The ring is kernel memory the core records into once boot has reset it (attach_trace, from
// kernel_main); it keeps the newest kTraceRecords events. At power-off (core_entry.cpp, when the
// root task ends the system) dump_trace writes them, oldest first, through the back-end's trace
// port (x86-64: QEMU's debug console; AArch64: semihosting) in the text form the hosted trace
// uses, one record per line "time kind thread a b c d" in decimal (ukernel/hosted/trace.hpp), so
// that scripts/trace-json turns a dump into the same Chrome JSON as `ukernel-system --trace`.
// Without a trace build the ring is one record and neither function does anything.
#include "arch/backend.hpp"
#include "arch/console.hpp"
#include "arch/root_task.hpp"
#include "arch/trace_build.hpp"
#include "core/kernel.hpp"

namespace ukernel::baremetal {
namespace {

core::TraceEvent ring[kTraceRecords > 0 ? kTraceRecords : 1];

// Appends `value` in decimal at `out`; returns the end.
char* decimal(char* out, std::uint64_t value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = char('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0)
    *out++ = digits[--n];
  return out;
}

}  // namespace

void attach_trace() {
  if constexpr (kTraceBuild) core::kernel().trace.attach(ring, kTraceRecords);
}

void dump_trace() {
  if constexpr (kTraceBuild) {
    const core::Trace& trace = core::kernel().trace;
    std::size_t count = trace.recorded() < trace.capacity() ? trace.recorded() : trace.capacity();
    for (std::size_t i = trace.recorded() - count; i < trace.recorded(); ++i) {
      const core::TraceEvent& e = trace.buffer()[i % trace.capacity()];
      char line[7 * 21 + 1];
      char* p = line;
      const std::uint64_t fields[7] = {e.time_ns, std::uint64_t(e.kind), e.thread, e.a, e.b, e.c,
                                       e.d};
      for (std::uint64_t field : fields) {
        if (p != line) *p++ = ' ';
        p = decimal(p, field);
      }
      *p++ = '\n';
      backend::trace_port_write(std::string_view(line, std::size_t(p - line)));
    }
  }
}

}  // namespace ukernel::baremetal
