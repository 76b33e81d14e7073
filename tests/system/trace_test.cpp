// The kernel trace of the whole example system (docs/tracing.md): every system call with its
// arguments and result; the same seed gives the same full trace; other seeds give other traces;
// the text form reads back, and bad text is refused.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/kernel.hpp"
#include "hosted/run_system.hpp"
#include "transcript.hpp"
#include "ukernel/hosted/trace.hpp"

namespace {

using system_example::transcript::read_lines;
using ukernel::core::TraceKind;
using ukernel::hosted::TraceRecord;

const std::vector<std::string> kScript = read_lines(UKERNEL_SCENARIO_DIR "/scenario.txt", false);

struct Run {
  std::string transcript;
  std::vector<TraceRecord> trace;
};

Run run(std::uint64_t seed, const std::vector<std::string>& script) {
  Run r;
  system_example::RunOptions options{.image_directory = UKERNEL_SYSTEM_IMAGE_DIR,
                                     .seed = seed,
                                     .preempt_one_in = 4,
                                     .trace_records = &r.trace};
  r.transcript = system_example::run_script(options, script);
  return r;
}

std::size_t count(const std::vector<TraceRecord>& trace, TraceKind kind) {
  std::size_t n = 0;
  for (const TraceRecord& r : trace)
    n += r.kind == std::uint32_t(kind);
  return n;
}

}  // namespace

TEST_CASE("the whole example system: the same seed twice gives the same full trace") {
  REQUIRE(kScript.size() > 10);
  Run a = run(3, kScript);
  Run b = run(3, kScript);
  INFO(a.transcript);
  // The whole run is in the trace: the ring never wrapped.
  REQUIRE(a.trace.size() > 10'000);
  REQUIRE(a.trace.size() < (std::size_t{1} << 20));
  std::string text = ukernel::hosted::trace_text(a.trace);
  std::string other = ukernel::hosted::trace_text(b.trace);
  if (text != other) {
    std::size_t at = 0;
    while (at < text.size() && at < other.size() && text[at] == other[at])
      ++at;
    std::size_t line = text.rfind('\n', at);
    line = line == std::string::npos ? 0 : line + 1;
    FAIL_CHECK("the traces differ from: " << text.substr(line, 400) << "\n---\n"
                                          << other.substr(line, 400));
  }
  // The supervisor's fault lines name the faulting instruction by its offset in its image, not
  // by its host address (ASLR): the transcripts are the same too.
  CHECK(a.transcript == b.transcript);

  // System calls carry their arguments, results are recorded, every server's restart shows.
  std::size_t with_arguments = 0;
  for (const TraceRecord& r : a.trace) {
    bool entry = r.kind == std::uint32_t(TraceKind::kSyscall) ||
                 r.kind == std::uint32_t(TraceKind::kFastpath);
    with_arguments += entry && r.b != 0 && r.c != 0;
  }
  CHECK(with_arguments > 1000);
  CHECK(count(a.trace, TraceKind::kResult) > 1000);
  std::size_t errors = 0;
  for (const TraceRecord& r : a.trace)
    errors += r.kind == std::uint32_t(TraceKind::kResult) && r.a != 0;
  CHECK(errors > 0);  // "nonsense", "kill", crashed servers' callers: not every call succeeds
  CHECK(count(a.trace, TraceKind::kFault) >= 5);        // the scenario crashes five servers
  CHECK(count(a.trace, TraceKind::kConfigure) >= 6);    // each server's thread, at boot
  CHECK(count(a.trace, TraceKind::kRestart) >= 6 + 5);  // each starts by a restart, then again

  // Entry points a restart passes are host addresses inside server images, recorded relative
  // to their image (hosted::image_address): tag, a small image number, an offset within it.
  std::size_t image_words = 0;
  for (const TraceRecord& r : a.trace) {
    for (std::uint64_t w : {r.a, r.b, r.c, r.d}) {
      if ((w >> 56) != (ukernel::hosted::kImageAddressTag >> 56)) continue;
      ++image_words;
      CHECK(((w >> ukernel::hosted::kImageIndexShift) & 0xffff) < 16);  // ~10 images
      CHECK((w & ((std::uint64_t{1} << ukernel::hosted::kImageIndexShift) - 1)) <
            (std::uint64_t{1} << 32));
    }
  }
  CHECK(image_words >= 6 + 5);
}

TEST_CASE("the whole example system under 100 seeds: at least 99 distinct full traces") {
  // A short session of the whole system (boot, a crash and a restart, commands after it); the
  // seed itself is in no trace record, so what differs is the interleaving it chose.
  const std::vector<std::string> script = {"ps", "crash hello", "echo after", "ps"};
  std::set<std::string> distinct;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    Run r = run(seed, script);
    INFO("seed " << seed << "\n" << r.transcript);
    REQUIRE(r.trace.size() < (std::size_t{1} << 20));
    CHECK(r.transcript.find("after") != std::string::npos);
    distinct.insert(ukernel::hosted::trace_text(r.trace));
  }
  CHECK(distinct.size() >= 99);
}

TEST_CASE("the trace's text form reads back; bad text is refused with the line named") {
  std::vector<TraceRecord> records = {
      {100, 1, 3, 4, 0x21, 0x1000, 7},
      {200, 10, 5, 0, 0x1000, 9, 7},
      {~std::uint64_t{0}, 5, 3, 3, 0xffffffffffffffff, 0, 0},
  };
  std::string text = ukernel::hosted::trace_text(records);
  std::vector<TraceRecord> back;
  std::string error;
  REQUIRE(ukernel::hosted::parse_trace_text(text, back, error));
  CHECK(ukernel::hosted::trace_text(back) == text);

  for (const char* bad :
       {"1 2 3 4 5 6\n", "1 2 3 4 5 6 7 8\n", "1 2 3 x 5 6 7\n", "1 2 3 4 5 6 -7\n",
        "1 4294967296 3 4 5 6 7\n", "1 2 3 4 5 6 99999999999999999999\n"}) {
    std::vector<TraceRecord> kept = records;
    std::string message;
    CHECK_FALSE(
        ukernel::hosted::parse_trace_text(std::string("100 1 3 4 0 0 0\n") + bad, kept, message));
    CHECK(message.find("trace line 2") == 0);
    CHECK(kept.size() == records.size());  // a failed parse changes nothing
  }
}

TEST_CASE("trace JSON: a fast-path call becomes two slices joined by a flow arrow") {
  // thread 2 (space A) calls thread 3 (space B) by the fast path; thread 3 faults.
  std::vector<TraceRecord> records = {
      {1000, std::uint32_t(TraceKind::kConfigure), 2, 0x5000},
      {1000, std::uint32_t(TraceKind::kConfigure), 3, 0x9000},
      {2000, std::uint32_t(TraceKind::kFastpath), 2, 4, 0x21, 0x40, 7},
      {2000, std::uint32_t(TraceKind::kDirectSwitch), 2, 2, 3},
      {3500, std::uint32_t(TraceKind::kFault), 3, 3, 0xdead},
  };
  std::string json = ukernel::hosted::trace_json(records);
  CHECK(json.find("\"name\": \"Call (fast path)\", \"pid\": 3, \"tid\": 2, \"ts\": 2.000") !=
        std::string::npos);
  CHECK(json.find("\"name\": \"delivered (fast path)\", \"pid\": 4, \"tid\": 3, \"ts\": 2.000") !=
        std::string::npos);
  CHECK(json.find("\"ph\": \"s\", \"cat\": \"ipc\", \"name\": \"ipc\", \"id\": 1, \"pid\": 3, "
                  "\"tid\": 2") != std::string::npos);
  CHECK(json.find("\"ph\": \"f\", \"bp\": \"e\", \"cat\": \"ipc\", \"name\": \"ipc\", \"id\": 1, "
                  "\"pid\": 4, \"tid\": 3") != std::string::npos);
  CHECK(json.find("\"name\": \"fault: memory access\", \"pid\": 4, \"tid\": 3, \"ts\": 3.500") !=
        std::string::npos);
  CHECK(json.find("\"name\": \"space 2 (0x9000)\"") != std::string::npos);
}
