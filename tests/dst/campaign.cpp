// ukernel-dst: the fault campaign over the example system (scripts/dst, docs/fuzzing.md).
//
//   ukernel-dst [--seeds FIRST..LAST | --seed N] [--faults COUNT] [--schedule TEXT] [--no-shrink]
//               [--planted] [--first] [--files]
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
// campaign must find; --first stops at the first failing seed. --files gives the system a
// FAT32 disk, adds file commands to the workload (write, append, sum, sync; each written file
// read back in the tail), kills of blk and fs, and failed and delayed block requests, and
// checks that acknowledged writes and appends are on the disk after the faults.
#include <unistd.h>

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

constexpr const char* kServers[] = {"supervisor", "names", "timer", "console", "hello",
                                    "shell",      "pci",   "blk",   "fs"};
// Without --files the system runs without a disk: pci, blk and fs are up but have nothing to
// serve, and only the first six are checked.
constexpr std::size_t kServersWithoutDisk = 6;

// --files: a disk, file commands in the workload, device faults (docs/fuzzing.md).
bool g_files = false;
// Acknowledged writes and appends found on the disk after the faults, over the campaign.
std::size_t g_verified = 0;

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

// A file command of the workload, between two echoes: if both were answered, in order, with
// nothing between them but the command's own line (no error, no restart of the shell or the
// console, which can lose typed input), the shell acknowledged it.
struct FileStep {
  std::string path;
  std::string text;  // one word: `write PATH TEXT` makes the file "TEXT\n"
  bool append = false;
  std::size_t before = 0, after = 0;  // the echoes around it
};

struct Workload {
  std::vector<std::string> lines;
  std::size_t echoes = 0;  // echo dst-SEED-0 .. dst-SEED-(echoes-1), in order
  std::size_t tail = 0;    // the first of the last commands, typed after a quiet time
  std::vector<FileStep> files;
};

constexpr std::string_view kLogPath = "/log.txt";  // where the workload's appends go

std::string echo_line(std::uint64_t seed, std::size_t n) {
  return "echo dst-" + std::to_string(seed) + " \"\" " + std::to_string(n);
}

constexpr std::uint64_t kQuietNs = 3'000'000'000;  // before the tail: faults settle, restarts end

// 8..19 random commands while faults happen, then a quiet tail that must be answered.
Workload random_workload(std::uint64_t seed) {
  std::uint64_t rng = seed ^ 0x776f726b6c6f6164ull;
  Workload w;
  std::size_t count = 8 + mix(rng) % 12;
  std::size_t writes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    switch (mix(rng) % (g_files ? 9 : 6)) {
      case 0:
      case 1:
        // Typed `echo dst-7 "" 3`, answered `dst-7  3`: the answer is never a piece of the
        // typed line the shell echoes back (which a fault's message may cut in two).
        w.lines.push_back(echo_line(seed, w.echoes++));
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
      case 5:
        w.lines.push_back("bench ipc");
        break;
      case 6:
      case 7: {
        FileStep step;
        step.append = mix(rng) % 2 == 0;
        step.path = step.append ? std::string(kLogPath) : "/d" + std::to_string(writes) + ".txt";
        step.text = "f-" + std::to_string(seed) + "-" + std::to_string(writes++);
        step.before = w.echoes++;
        w.lines.push_back(echo_line(seed, step.before));
        w.lines.push_back(std::string(step.append ? "append " : "write ") + step.path + " " +
                          step.text);
        step.after = w.echoes++;
        w.lines.push_back(echo_line(seed, step.after));
        w.files.push_back(step);
        break;
      }
      default:
        // Read back and flush: what they print is not checked, only that the rest holds.
        if (writes > 0 && mix(rng) % 2 == 0) {
          w.lines.push_back("sum /d" + std::to_string(mix(rng) % writes) + ".txt");
        } else {
          w.lines.push_back("sync");
        }
        break;
    }
  }
  w.tail = w.lines.size();
  w.lines.push_back("sleep 100");
  // Every file the workload wrote, read back once the faults are over.
  bool appended = false;
  for (const FileStep& step : w.files) {
    if (!step.append) w.lines.push_back("cat " + step.path);
    appended = appended || step.append;
  }
  if (appended) w.lines.push_back("cat " + std::string(kLogPath));
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

// The line the shell answered echo `n` with, or lines.size().
std::size_t answer_at(const std::vector<std::string>& lines, std::uint64_t seed, std::size_t n) {
  std::string answer = "dst-" + std::to_string(seed) + "  " + std::to_string(n);
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (after_prompts(lines[i]) == answer) return i;
  return lines.size();
}

// Whether the shell acknowledged `step` (see FileStep).
bool acknowledged(const std::vector<std::string>& lines, std::uint64_t seed, const FileStep& step) {
  std::size_t before = answer_at(lines, seed, step.before);
  std::size_t after = answer_at(lines, seed, step.after);
  if (before >= lines.size() || after >= lines.size() || after <= before) return false;
  std::string typed = std::string(step.append ? "append " : "write ") + step.path + " " + step.text;
  std::string next = echo_line(seed, step.after);
  bool ran = false;
  for (std::size_t i = before + 1; i < after; ++i) {
    const std::string& line = lines[i];
    if (line.find(typed) != std::string::npos) {
      ran = true;
      continue;
    }
    if (after_prompts(line).empty() || after_prompts(line) == next) continue;
    return false;  // an error, a fault's or a restart's message: not acknowledged
  }
  return ran;
}

// What `cat PATH`, typed in the tail, printed: the lines up to the next prompt.
std::vector<std::string> cat_output(const std::vector<std::string>& lines, std::size_t from,
                                    const std::string& path) {
  std::vector<std::string> out;
  std::string typed = "uk> cat " + path;
  std::size_t i = from;
  while (i < lines.size() && lines[i] != typed)
    ++i;
  if (i == lines.size()) return {"(cat " + path + " was not answered)"};
  for (++i; i < lines.size() && !lines[i].starts_with("uk> "); ++i)
    out.push_back(lines[i]);
  return out;
}

// Acknowledged work is not lost: every acknowledged write reads back exactly, every
// acknowledged append is in the log, and nothing was written that the workload did not write,
// nor twice. `tail`: the first line of the tail's output.
std::string check_files(std::uint64_t seed, const Workload& w,
                        const std::vector<std::string>& lines, std::size_t tail) {
  std::vector<std::string> appends;
  std::vector<bool> appends_acknowledged;
  for (const FileStep& step : w.files) {
    bool ok = acknowledged(lines, seed, step);
    if (step.append) {
      appends.push_back(step.text);
      appends_acknowledged.push_back(ok);
      continue;
    }
    std::vector<std::string> got = cat_output(lines, tail, step.path);
    bool exact = got.size() == 1 && got[0] == step.text;
    // Not acknowledged: the file may be missing (an error), empty (made, then the write
    // failed) or whole, never other text.
    bool error = got.empty() || (got.size() == 1 && got[0].starts_with("cat: " + step.path + ":"));
    if (ok && !exact)
      return "the acknowledged write of " + step.path + " is lost: cat printed \"" +
             (got.empty() ? "" : got[0]) + "\"";
    if (!exact && !error) return "cat " + step.path + " printed \"" + got[0] + "\"";
    g_verified += ok;
  }
  if (appends.empty()) return "";
  std::vector<std::string> got = cat_output(lines, tail, std::string(kLogPath));
  bool none = got.size() == 1 && got[0].starts_with("cat: " + std::string(kLogPath) + ":");
  std::size_t next = 0;  // appends are in the log in order, each at most once
  std::vector<bool> found(appends.size(), false);
  for (const std::string& line : none ? std::vector<std::string>{} : got) {
    std::size_t k = next;
    while (k < appends.size() && appends[k] != line)
      ++k;
    if (k == appends.size())
      return "the log holds \"" + line + "\", not appended there, or twice, or out of order";
    found[k] = true;
    next = k + 1;
  }
  for (std::size_t k = 0; k < appends.size(); ++k)
    if (appends_acknowledged[k] && !found[k])
      return "the acknowledged append of \"" + appends[k] + "\" is not in the log";
  for (std::size_t k = 0; k < appends.size(); ++k)
    g_verified += appends_acknowledged[k];
  return "";
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
  std::size_t tail = 0;  // where the tail's answers begin: after the last workload echo's
  for (std::size_t n = 0; n < w.echoes; ++n)
    if (std::size_t at = answer_at(lines, seed, n); at < lines.size()) tail = std::max(tail, at);
  if (std::string files = check_files(seed, w, lines, tail); !files.empty()) return files;
  std::string final_echo = "dst-final  " + std::to_string(seed);
  std::size_t at = 0;
  while (at < lines.size() && lines[at] != final_echo)
    ++at;
  if (at == lines.size()) return "the last commands were not answered (no \"" + final_echo + "\")";
  for (std::size_t s = 0; s < (g_files ? std::size(kServers) : kServersWithoutDisk); ++s) {
    const char* server = kServers[s];
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
  // --files: a fresh FAT32 disk, the same bytes every time (mkfs.fat --invariant), so that a
  // replay is bit-exact.
  std::string disk;
  if (g_files) {
    const char* dir = std::getenv("TMPDIR");
    disk = std::string(dir != nullptr ? dir : "/tmp") + "/ukernel-dst-" +
           std::to_string(::getpid()) + ".img";
    std::remove(disk.c_str());
    std::string mkfs = "/usr/sbin/mkfs.fat --invariant -F 32 -C " + disk + " 34816 >/dev/null";
    if (std::system(mkfs.c_str()) != 0) {
      std::fprintf(stderr, "ukernel-dst: %s failed\n", mkfs.c_str());
      std::exit(2);
    }
  }
  system_example::RunOptions options{.image_directory = UKERNEL_SYSTEM_IMAGE_DIR,
                                     .image_folders = folders,
                                     .seed = seed,
                                     .preempt_one_in = 8,
                                     .faults = &schedule,
                                     .trace = true,
                                     .report = &o.report,
                                     .quiet_before = w.tail,
                                     .quiet_ns = kQuietNs};
  options.disk = disk;
  o.transcript = system_example::run_script(options, w.lines, 50'000'000);
  if (!disk.empty()) std::remove(disk.c_str());
  o.failure = check(seed, w, o.transcript, o.report);
  return o;
}

ukernel::hosted::FaultSpace fault_space() {
  ukernel::hosted::FaultSpace space;
  space.targets = {"names", "timer", "console", "hello", "shell"};
  if (g_files) {
    space.targets.insert(space.targets.end(), {"blk", "fs"});
    space.block_faults = true;
    space.max_request = 900;  // the mount takes about 550 requests, each file command 10 to 20
  }
  space.max_syscall = 500;
  space.horizon_ns = 1'000'000'000;
  space.max_jump_ns = 1'000'000'000;  // the tail's quiet time outlasts any jump
  space.irq_lines = {ukernel::hosted::kConsoleIrqLine, ukernel::hosted::kTimerIrqLine};
  space.max_irq = 200;
  return space;
}

void print_replay(const char* self, std::uint64_t seed, const FaultSchedule& schedule) {
  std::printf(
      "replay: %s%s%s --seed %llu --schedule '%s'   (build: the hosted preset, build/hosted)\n",
      self, g_planted ? " --planted" : "", g_files ? " --files" : "",
      static_cast<unsigned long long>(seed), schedule.text().c_str());
}

void print_hashes(const Outcome& o) {
  std::printf("trace %016llx (%zu events), transcript %016llx\n",
              static_cast<unsigned long long>(o.report.trace_hash), o.report.trace_events,
              static_cast<unsigned long long>(fnv(o.transcript)));
}

int usage(const char* self) {
  std::fprintf(stderr,
               "usage: %s [--seeds FIRST..LAST | --seed N] [--faults COUNT] [--schedule TEXT] "
               "[--no-shrink] [--verbose] [--planted] [--first] [--files]\n",
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
    } else if (arg == "--files") {
      g_files = true;
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
  if (g_files)
    std::printf("dst: %zu acknowledged writes and appends read back after the faults\n",
                g_verified);
  return failures == 0 ? 0 : 1;
}
