// Logging with fmt's call syntax, and assertions that fault the server.
//
//   ukernel::log("served {} requests, last from {:#x}", count, badge);
//   UK_ASSERT(queue.size() <= kLimit);
//
// Each back-end supplies the formatter (<arch/log.hpp>): fmt itself on hosted, the freestanding
// ukernel/format.hpp on bare metal, with the same syntax. A line goes to the log sink: the
// kernel's debug console until the runtime points it at the console server.
//
// A failed assertion logs the expression and its place, then aborts the thread: its supervisor
// receives FaultKind::kAbort with code kAssertionFailed, and nothing else stops.
#pragma once

#include <arch/log.hpp>
#include <cstddef>
#include <string_view>
#include <utility>

#include "ukernel/syscall.hpp"

namespace ukernel {

inline constexpr word kAssertionFailed = 0xa55e;
inline constexpr std::size_t kMaxLogLine = 256;

using LogSink = void (*)(std::string_view line);

inline void debug_console_sink(std::string_view line) {
  (void)debug_write(line);
}

// The sink every log line of this server goes to (one per server image).
inline LogSink& log_sink() {
  static LogSink sink = debug_console_sink;
  return sink;
}

// Formats one line (cut at kMaxLogLine bytes, marked with "...") and sends it to the sink.
template <class... A>
void log(arch::FormatString<A...> text, A&&... args) {
  char line[kMaxLogLine + 1];
  std::size_t n = arch::format_to_buffer(line, kMaxLogLine, text, std::forward<A>(args)...);
  if (n > kMaxLogLine) {
    n = kMaxLogLine;
    line[n - 3] = line[n - 2] = line[n - 1] = '.';
  }
  line[n++] = '\n';
  log_sink()(std::string_view(line, n));
}

[[noreturn]] inline void assertion_failed(const char* expression, const char* file, int line) {
  log("assertion failed: {} ({}:{})", expression, file, line);
  for (;;)
    abort_thread(kAssertionFailed);  // a supervisor that resumes it sees it again
}

}  // namespace ukernel

#define UK_ASSERT(condition) \
  ((condition) ? void(0) : ::ukernel::assertion_failed(#condition, __FILE__, __LINE__))
