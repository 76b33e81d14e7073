// ukernel-trace-json DUMP OUT: turns a kernel trace in its text form (a bare-metal trace build's
// dump, or Simulation::trace_text()) into Chrome trace-event JSON (docs/tracing.md). A dump that
// does not parse is refused with the line named, and nothing is written.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ukernel/hosted/trace.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DUMP OUT.json\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "ukernel-trace-json: cannot read %s\n", argv[1]);
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::vector<ukernel::hosted::TraceRecord> records;
  std::string error;
  if (!ukernel::hosted::parse_trace_text(text.str(), records, error)) {
    std::fprintf(stderr, "ukernel-trace-json: %s: %s\n", argv[1], error.c_str());
    return 1;
  }
  if (records.empty()) {
    std::fprintf(stderr, "ukernel-trace-json: %s holds no trace records\n", argv[1]);
    return 1;
  }
  std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
  out << ukernel::hosted::trace_json(records);
  if (!out.flush()) {
    std::fprintf(stderr, "ukernel-trace-json: cannot write %s\n", argv[2]);
    return 1;
  }
  std::printf("%zu records -> %s\n", records.size(), argv[2]);
  return 0;
}
