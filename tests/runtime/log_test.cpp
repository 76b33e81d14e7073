// Logging from a server, and an assertion that faults the server (and only the server).
#include <catch2/catch.hpp>
#include <string>

#include "support/root_kit.hpp"
#include "ukernel/log.hpp"

using namespace ukernel;

namespace {

struct {
  word fault_label = 0;
  FaultKind kind = FaultKind(0);
  word code = 0;
  bool root_still_runs = false;
} g;

void asserting_server(word limit) {
  log("server up, limit {}, hex {:#x}", limit, limit);
  word queued = limit + 1;
  UK_ASSERT(queued <= limit);
  log("not reached");
}

void root(word info) {
  test::RootKit kit(info);
  word faults = kit.make(ObjectType::kEndpoint);
  kit.spawn(asserting_server, 16, 100, kit.mint(faults, Rights::kAll, 3));
  Message f = recv(faults);
  g.fault_label = f.label();
  g.kind = FaultKind(f.words[0]);
  g.code = f.words[1];
  g.root_still_runs = kit.make(ObjectType::kEndpoint) != 0;
}

}  // namespace

TEST_CASE("log lines reach the console; a failed assertion faults only the server") {
  hosted::Simulation sim;
  sim.run(root);
  const std::string& console = sim.console();
  CHECK(console.find("server up, limit 16, hex 0x10\n") != std::string::npos);
  CHECK(console.find("assertion failed: queued <= limit (") != std::string::npos);
  CHECK(console.find("not reached") == std::string::npos);
  CHECK(g.fault_label == kFaultLabel);
  CHECK(g.kind == FaultKind::kAbort);
  CHECK(g.code == kAssertionFailed);
  CHECK(g.root_still_runs);
}

TEST_CASE("an over-long log line is cut, not overflowed") {
  static std::string captured;
  captured.clear();
  log_sink() = [](std::string_view line) { captured.assign(line); };
  log("{}", std::string(1000, 'z'));
  log_sink() = debug_console_sink;
  CHECK(captured.size() == kMaxLogLine + 1);
  CHECK(captured.substr(kMaxLogLine - 3) == "...\n");
}
