// ukernel-dst: the fault campaign over the example system (scripts/dst, docs/fuzzing.md).
//
//   ukernel-dst [--seeds FIRST..LAST | --seed N] [--faults COUNT] [--schedule TEXT] [--no-shrink]
//               [--planted] [--first]
//
// Each seed draws a random shell workload and COUNT random faults (hosted/faults.hpp: kills of
// restartable servers at their Nth system call, delayed calls, clock jumps, delayed and
// duplicated interrupts), runs the system with both, and checks what the system promises:
// - the run's last commands, typed once the faults are over, are answered: every server
//   serves again (a server may have failed only by its restart policy, after 3 restarts);
// - acknowledged work is not lost: each `echo` output appears at most once and in order, and
//   the supervisor's restart counts never go down;
// - the kernel's invariants hold at the end.
// A failing seed is shrunk to a minimal fault schedule that still fails, and printed with the
// one-line command that replays it; a replay prints the trace hash and the transcript's hash,
// which equal the failing run's (bit-exact). --schedule replays a given schedule instead.
// --planted runs the console built with a planted restart race (docs/fuzzing.md), which the
// campaign must find; --first stops at the first failing seed.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hosted/run_system.hpp"
#include "ukernel/hosted/devices.hpp"
#include "ukernel/hosted/faults.hpp"

namespace {

using ukernel::hosted::FaultSchedule;

constexpr const char* kServers[] = {"supervisor", "names", "timer", "console", "hello", "shell"};

std::uint64_t mix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t fnv(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : text)
    hash = (hash ^ std::uint8_t(c)) * 0x100000001b3ull;
  return hash;
}

struct Workload {
  std::vector<std::string> lines;
  std::size_t echoes = 0;  // echo dst-SEED-0 .. dst-SEED-(echoes-1), in order
  std::size_t tail = 0;    // the first of the last commands, typed after a quiet time
};

constexpr std::uint64_t kQuietNs = 3'000'000'000;  // before the tail: faults settle, restarts end

// 8..19 random commands while faults happen, then a quiet tail that must be answered.
Workload random_workload(std::uint64_t seed) {
  std::uint64_t rng = seed ^ 0x776f726b6c6f6164ull;
  Workload w;
  std::size_t count = 8 + mix(rng) % 12;
  for (std::size_t i = 0; i < count; ++i) {
    switch (mix(rng) % 6) {
      case 0:
      case 1:
        // Typed `echo dst-7 "" 3`, answered `dst-7  3`: the answer is never a piece of the
        // typed line the shell echoes back (which a fault's message may cut in two).
        w.lines.push_back("echo dst-" + std::to_string(seed) + " \"\" " +
                          std::to_string(w.echoes++));
        break;
      case 2:
        w.lines.push_back("ps");
        break;
      case 3:
        w.lines.push_back("uptime");
        break;
      case 4:
        w.lines.push_back("sleep " + std::to_string(1 + mix(rng) % 30));
        break;
      default:
        w.lines.push_back("bench ipc");
        break;
    }
  }
  w.tail = w.lines.size();
  w.lines.push_back("sleep 100");
  w.lines.push_back("echo dst-final \"\" " + std::to_string(seed));
  w.lines.push_back("ps");
  return w;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// A line without the shell's prompts in front: output printed after a prompt (a console that
// prints a stretch of output twice puts the second copy there) is output all the same.
std::string_view after_prompts(std::string_view line) {
  constexpr std::string_view kPrompt = "uk> ";
  while (line.starts_with(kPrompt))
    line.remove_prefix(kPrompt.size());
  return line;
}

// When the last injected fault fired (0: none did).
std::uint64_t last_fault_ns(const std::string& fault_log) {
  std::uint64_t last = 0;
  for (const std::string& line : split_lines(fault_log))
    last = std::max<std::uint64_t>(last, std::strtoull(line.c_str(), nullptr, 10));
  return last;
}

// What is wrong with a run, or "" if nothing.
std::string check(std::uint64_t seed, const Workload& w, const std::string& transcript,
                  const system_example::RunReport& report) {
  if (!report.invariants.empty()) return "kernel invariant broken: " + report.invariants;
  std::vector<std::string> lines = split_lines(transcript);
  // Echo outputs: at most once each, in order.
  std::string prefix = "dst-" + std::to_string(seed) + "  ";
  long last = -1;
  std::set<long> seen;
  for (const std::string& whole : lines) {
    std::string line(after_prompts(whole));
    if (!line.starts_with(prefix)) continue;
    long n = std::strtol(line.c_str() + prefix.size(), nullptr, 10);
    if (seen.count(n) != 0) return "echo " + line + " answered twice";
    if (n <= last) return "echo " + line + " answered out of order";
    seen.insert(n);
    last = n;
  }
  // Restart counts never go down, from one `ps` to the next.
  long restarts[std::size(kServers)] = {};
  for (const std::string& line : lines) {
    for (std::size_t i = 0; i < std::size(kServers); ++i) {
      std::string name = kServers[i];
      if (line.rfind(name + " ", 0) != 0) continue;
      std::size_t at = line.find("restarts ");
      if (at == std::string::npos) continue;
      long r = std::strtol(line.c_str() + at + 9, nullptr, 10);
      if (r < restarts[i]) return name + "'s restart count went down: " + line;
      restarts[i] = r;
    }
  }
  // The tail: the final echo answered, then every server running (or failed by its policy).
  // Unless a fault fired once the tail was being typed: then the tail is a fault's victim
  // like any other command, and the run is counted as unchecked (`unchecked`).
  if (last_fault_ns(report.fault_log) >= report.quiet_line_ns) return "";
  std::string final_echo = "dst-final  " + std::to_string(seed);
  std::size_t at = 0;
  while (at < lines.size() && lines[at] != final_echo)
    ++at;
  if (at == lines.size()) return "the last commands were not answered (no \"" + final_echo + "\")";
  for (const char* server : kServers) {
    bool ok = false;
    for (std::size_t i = at; i < lines.size(); ++i) {
      const std::string& line = lines[i];
      if (line.rfind(std::string(server) + " ", 0) != 0) continue;
      bool running = line.find(" running ") != std::string::npos;
      bool failed_by_policy = line.find(" failed ") != std::string::npos &&
                              line.find("restarts 3") != std::string::npos;
      ok = running || failed_by_policy;
    }
    if (!ok) return std::string("after the faults, ") + server + " is not serving";
  }
  (void)w;
  return "";
}

struct Outcome {
  std::string failure;
  std::string transcript;
  system_example::RunReport report;
};

// --planted: the console with the planted race (examples/console/console_server.cpp).
bool g_planted = false;

Outcome run(std::uint64_t seed, const FaultSchedule& schedule) {
  Workload w = random_workload(seed);
  Outcome o;
  std::vector<std::pair<std::string, std::string>> folders;
  if (g_planted) folders.emplace_back("console", UKERNEL_SYSTEM_IMAGE_DIR "/planted");
  system_example::RunOptions options{.image_directory = UKERNEL_SYSTEM_IMAGE_DIR,
                                     .image_folders = folders,
                                     .seed = seed,
                                     .preempt_one_in = 8,
                                     .faults = &schedule,
                                     .trace = true,
                                     .report = &o.report,
                                     .quiet_before = w.tail,
                                     .quiet_ns = kQuietNs};
  o.transcript = system_example::run_script(options, w.lines, 50'000'000);
  o.failure = check(seed, w, o.transcript, o.report);
  return o;
}

ukernel::hosted::FaultSpace fault_space() {
  ukernel::hosted::FaultSpace space;
  space.targets = {"names", "timer", "console", "hello", "shell"};
  space.max_syscall = 500;
  space.horizon_ns = 1'000'000'000;
  space.max_jump_ns = 1'000'000'000;  // the tail's quiet time outlasts any jump
  space.irq_lines = {ukernel::hosted::kConsoleIrqLine, ukernel::hosted::kTimerIrqLine};
  space.max_irq = 200;
  return space;
}

void print_replay(const char* self, std::uint64_t seed, const FaultSchedule& schedule) {
  std::printf(
      "replay: %s%s --seed %llu --schedule '%s'   (build: the hosted preset, build/hosted)\n", self,
      g_planted ? " --planted" : "", static_cast<unsigned long long>(seed),
      schedule.text().c_str());
}

void print_hashes(const Outcome& o) {
  std::printf("trace %016llx (%zu events), transcript %016llx\n",
              static_cast<unsigned long long>(o.report.trace_hash), o.report.trace_events,
              static_cast<unsigned long long>(fnv(o.transcript)));
}

int usage(const char* self) {
  std::fprintf(stderr,
               "usage: %s [--seeds FIRST..LAST | --seed N] [--faults COUNT] [--schedule TEXT] "
               "[--no-shrink] [--verbose] [--planted] [--first]\n",
               self);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t first = 1, last = 20;
  std::size_t faults = 4;
  bool shrinking = true, verbose = false, first_only = false;
  std::string schedule_text;
  bool have_schedule = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--seeds" && has_value) {
      std::string v = argv[++i];
      std::size_t dots = v.find("..");
      if (dots == std::string::npos) return usage(argv[0]);
      first = std::strtoull(v.c_str(), nullptr, 10);
      last = std::strtoull(v.c_str() + dots + 2, nullptr, 10);
    } else if (arg == "--seed" && has_value) {
      first = last = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--faults" && has_value) {
      faults = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--schedule" && has_value) {
      schedule_text = argv[++i];
      have_schedule = true;
    } else if (arg == "--no-shrink") {
      shrinking = false;
    } else if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "--planted") {
      g_planted = true;
    } else if (arg == "--first") {
      first_only = true;
    } else {
      return usage(argv[0]);
    }
  }
  if (have_schedule) {
    std::string error;
    auto schedule = FaultSchedule::parse(schedule_text, &error);
    if (!schedule) {
      std::fprintf(stderr, "ukernel-dst: bad --schedule: %s\n", error.c_str());
      return 2;
    }
    Outcome o = run(first, *schedule);
    std::printf("seed %llu schedule '%s'\n%s", static_cast<unsigned long long>(first),
                schedule->text().c_str(), o.report.fault_log.c_str());
    print_hashes(o);
    if (verbose) std::printf("%s\n", o.transcript.c_str());
    std::printf("%s\n", o.failure.empty() ? "ok" : ("FAIL: " + o.failure).c_str());
    return o.failure.empty() ? 0 : 1;
  }
  std::size_t failures = 0, fired = 0, unchecked = 0;
  std::size_t seeds_run = 0;
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    ++seeds_run;
    FaultSchedule schedule = ukernel::hosted::random_faults(seed, faults, fault_space());
    Outcome o = run(seed, schedule);
    std::size_t n = 0;
    for (char c : o.report.fault_log)
      n += c == '\n';
    fired += n;
    if (last_fault_ns(o.report.fault_log) >= o.report.quiet_line_ns) ++unchecked;
    if (verbose) {
      std::printf("seed %llu: %zu of %zu faults fired\n%s", static_cast<unsigned long long>(seed),
                  n, schedule.faults.size(), o.report.fault_log.c_str());
    }
    if (o.failure.empty()) continue;
    ++failures;
    std::printf("FAIL seed %llu: %s\n", static_cast<unsigned long long>(seed), o.failure.c_str());
    print_hashes(o);
    print_replay(argv[0], seed, schedule);
    if (shrinking) {
      std::size_t runs = 0;
      FaultSchedule small = ukernel::hosted::shrink(
          schedule, [seed](const FaultSchedule& s) { return !run(seed, s).failure.empty(); },
          &runs);
      Outcome again = run(seed, small);
      std::printf("shrunk to %zu of %zu faults in %zu runs: %s\n", small.faults.size(),
                  schedule.faults.size(), runs, again.failure.c_str());
      print_hashes(again);
      print_replay(argv[0], seed, small);
    }
    if (first_only) break;
  }
  std::printf(
      "dst: %llu seeds, %zu faults scheduled, %zu fired, %zu failures (%zu seeds with a fault in "
      "the last commands, whose answers were not required)\n",
      static_cast<unsigned long long>(seeds_run), seeds_run * faults, fired, failures, unchecked);
  return failures == 0 ? 0 : 1;
}
