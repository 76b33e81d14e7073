// ukernel-system: the example multiserver system on the hosted back-end (scripts/run hosted).
//
//   ukernel-system [--script FILE] [--seed N] [--preempt N] [--disk IMG] [--trace FILE]
//
// --disk IMG attaches the PCI host bridge and a virtio-blk device backed by IMG (read and
// written in place), which the PCI server and the blk server find at boot.
// Without --script the process's stdin is the console: type at the `uk> ` prompt; end of input
// (Ctrl-D) powers off. With --script, FILE's lines are typed one by one, the session is printed,
// and the system powers off after the last line. With --trace, the kernel's event trace of the
// run is written to FILE as Chrome trace-event JSON (docs/tracing.md).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "run_system.hpp"

int main(int argc, char** argv) {
  system_example::RunOptions options{.image_directory = UKERNEL_SYSTEM_IMAGE_DIR};
  const char* script = nullptr;
  const char* trace_file = nullptr;
  std::vector<ukernel::hosted::TraceRecord> trace;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--script" && has_value) {
      script = argv[++i];
    } else if (arg == "--seed" && has_value) {
      options.seed = std::strtoull(argv[++i], nullptr, 0);
    } else if (arg == "--preempt" && has_value) {
      options.preempt_one_in = unsigned(std::strtoul(argv[++i], nullptr, 0));
    } else if (arg == "--disk" && has_value) {
      options.disk = argv[++i];
      if (!std::ifstream(options.disk)) {
        std::fprintf(stderr, "ukernel-system: cannot read disk image %s\n", options.disk.c_str());
        return 2;
      }
    } else if (arg == "--trace" && has_value) {
      trace_file = argv[++i];
      options.trace_records = &trace;
    } else {
      std::fprintf(
          stderr,
          "usage: %s [--script FILE] [--seed N] [--preempt N] [--disk IMG] [--trace FILE]\n",
          argv[0]);
      return 2;
    }
  }
  // Checked before the run, so a bad path costs no run.
  if (trace_file != nullptr && !std::ofstream(trace_file)) {
    std::fprintf(stderr, "ukernel-system: cannot write trace %s\n", trace_file);
    return 2;
  }
  int status = 0;
  if (script == nullptr) {
    status = system_example::run_interactive(options);
  } else {
    std::ifstream file(script);
    if (!file) {
      std::fprintf(stderr, "ukernel-system: cannot read script %s\n", script);
      return 2;
    }
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);)
      lines.push_back(line);
    options.echo = true;
    (void)system_example::run_script(options, lines);
    std::fputs("\n", stdout);
  }
  if (trace_file != nullptr) {
    std::ofstream out(trace_file);
    out << ukernel::hosted::trace_json(trace);
    if (!out.flush()) {
      std::fprintf(stderr, "ukernel-system: cannot write trace %s\n", trace_file);
      return 2;
    }
  }
  return status;
}
