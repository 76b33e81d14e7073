// A restarted hosted server starts with fresh globals when its image is loaded afresh, just as
// a bare-metal server restarts from its ELF.
#include <catch2/catch.hpp>

#include "support/root_kit.hpp"
#include "ukernel/hosted/image.hpp"

using namespace ukernel;

namespace {

struct Observed {
  word starts[4] = {};
  word faults = 0;
  FaultKind fault_kind = FaultKind(0);
  bool load_failed = false;
} g;

hosted::Image* g_image = nullptr;

void root(word info_address) {
  test::RootKit kit(info_address);
  word report = kit.make(ObjectType::kEndpoint);
  word faults = kit.make(ObjectType::kEndpoint);
  word fault_badged = kit.mint(faults, Rights::kAll, 7);
  word entry = g_image->load_fresh();
  if (entry == 0) {
    g.load_failed = true;
    return;
  }
  auto start = reinterpret_cast<hosted::Entry>(entry);
  word thread = kit.spawn(start, report, 100, fault_badged);
  for (int run = 0; run < 4; ++run) {
    Message m = recv(report);
    g.starts[run] = m.words[0];
    Message f = recv(faults);  // the image returned: FaultKind::kAbort
    if (f.label() == kFaultLabel && f.badge == 7) {
      ++g.faults;
      g.fault_kind = FaultKind(f.words[0]);
    }
    // Run 1 restarts the same copy (its globals persist); the others load a fresh copy.
    if (run != 1) entry = g_image->load_fresh();
    if (thread_restart(thread, entry, 0, report) != Error::kOk) return;
  }
}

}  // namespace

TEST_CASE("a server image restarts with fresh globals") {
  g = Observed{};
  hosted::Image image(UKERNEL_COUNTER_IMAGE);
  g_image = &image;
  hosted::Simulation sim;
  sim.run(root);
  INFO(image.error());
  REQUIRE_FALSE(g.load_failed);
  CHECK(g.starts[0] == 1);  // first load
  CHECK(g.starts[1] == 1);  // fresh copy: its global starts at 0 again
  CHECK(g.starts[2] == 2);  // same copy restarted: the old global is still there
  CHECK(g.starts[3] == 1);  // fresh copy again
  CHECK(g.faults == 4);
  CHECK(g.fault_kind == FaultKind::kAbort);
  CHECK(sim.console().find("counter image: start 2 (report to 0x") != std::string::npos);
}

TEST_CASE("a missing or malformed image is a clear error") {
  hosted::Image missing("/nonexistent/server.so");
  CHECK(missing.load_fresh() == 0);
  CHECK(missing.error().find("cannot open image") != std::string::npos);
  hosted::Image not_elf("/etc/hostname");
  CHECK(not_elf.load_fresh() == 0);
  CHECK(not_elf.error().find("cannot load image") != std::string::npos);
}
