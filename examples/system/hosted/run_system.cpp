// The hosted host side of the example system; see run_system.hpp.
//
// No change to the simulation's idle path is needed: console input is an interrupt event at a
// virtual time (hosted/devices.hpp), so a script's lines keep the run going until the last is
// typed, and the interactive loop runs the simulation in slices of virtual time, reading stdin
// between them.
#include "run_system.hpp"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/debug/invariants.hpp"
#include "core/kernel.hpp"
#include "disk.hpp"
#include "supervisor/supervisor.hpp"
#include "ukernel/hosted/devices.hpp"
#include "ukernel/hosted/faults.hpp"
#include "ukernel/hosted/image.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/log.hpp"

namespace system_example {

namespace {

using ukernel::hosted::Image;
using ukernel::hosted::RunResult;
using ukernel::hosted::Simulation;

constexpr std::uint64_t kBootNs = 200'000'000;  // the first line is typed after this
constexpr std::uint64_t kSliceNs = 10'000'000;  // interactive: virtual time per real 10 ms
constexpr std::uint64_t kStopAfterInputNs = 500'000'000;

std::unique_ptr<Image> g_images[kServerCount];

supervisor::Entry load_image(supervisor::Boot&, std::size_t index) {
  ukernel::word entry = g_images[index]->load_fresh();
  if (entry == 0) ukernel::log("system: {}", g_images[index]->error());
  return {.ip = entry, .sp = 0};  // threads run on the simulation's fibers
}

// The root CNode, for the kernel's invariant check after a run (host code may look inside the
// kernel it runs; the root task is the supervisor, which no fault schedule kills).
ukernel::core::CNode* g_root_cnode = nullptr;

void root(ukernel::word boot_info) {
  g_root_cnode = ukernel::core::current()->cspace();
  supervisor::run(boot_info, load_image);
}

// The images live as long as the run: declare before the Simulation, so it is gone first.
struct Images {
  explicit Images(const RunOptions& options) {
    for (std::size_t i = 0; i < kServerCount; ++i) {
      std::string name(kSystem.servers[i].name);
      std::string directory = options.image_directory;
      for (const auto& [server, folder] : options.image_folders)
        if (server == name) directory = folder;
      g_images[i] = std::make_unique<Image>(directory + "/system_" + name + ".so");
    }
  }
  ~Images() {
    for (auto& image : g_images)
      image.reset();
  }
};

termios g_saved_terminal{};

// Ctrl-C (the terminal still sends signals): leave the terminal as it was found.
void restore_terminal_and_exit(int signal) {
  tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_terminal);
  _exit(128 + signal);
}

ukernel::hosted::SimulationConfig config_for(const RunOptions& options) {
  return {.seed = options.seed,
          .preempt_one_in = options.preempt_one_in,
          .trace = options.trace || options.trace_records != nullptr,
          .faults = options.faults};
}

void fill_report(const Simulation& sim, RunReport& report) {
  report.fault_log = sim.fault_log();
  report.invariants =
      g_root_cnode != nullptr
          ? std::string(ukernel::core::debug::check_invariants(*g_root_cnode).failure.view())
          : "the root task never ran";
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : sim.trace_text())
    hash = (hash ^ std::uint8_t(c)) * 0x100000001b3ull;
  report.trace_hash = hash;
  report.trace_events = sim.trace_events();
}

// The disk of `options`, attached to the current Simulation (nullptr: none, or it failed,
// which is said on stderr: the system then runs without a disk).
std::unique_ptr<HostedDisk> attach_disk(const RunOptions& options) {
  if (options.disk.empty()) return nullptr;
  auto disk = std::make_unique<HostedDisk>(options.disk);
  if (!disk->attach()) {
    std::fprintf(stderr, "ukernel-system: %s\n",
                 disk->error().empty() ? "cannot attach the disk" : disk->error().c_str());
    return nullptr;
  }
  if (options.on_disk) options.on_disk(*disk);
  return disk;
}

}  // namespace

std::string run_script(const RunOptions& options, const std::vector<std::string>& lines,
                       std::uint64_t line_gap_ns) {
  Images images(options);
  ukernel::hosted::reset_devices();
  ukernel::hosted::console_echo(options.echo);
  std::string transcript;
  {
    Simulation sim(config_for(options));
    std::unique_ptr<HostedDisk> disk = attach_disk(options);
    std::uint64_t at = kBootNs;
    std::uint64_t quiet_line_ns = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::string& line = lines[i];
      if (options.quiet_ns != 0 && i == options.quiet_before) {
        at += options.quiet_ns;
        quiet_line_ns = at;
      }
      ukernel::hosted::console_input(line + "\n", at);
      // The next line follows this one's last byte (a long line takes a while to type).
      at = std::max(at, ukernel::hosted::console_input_done_ns()) + line_gap_ns;
    }
    ukernel::hosted::console_close_input(at);
    // A clock jump skips virtual time the script needs: the run lasts that much longer.
    if (options.faults != nullptr) {
      for (const ukernel::hosted::Fault& fault : options.faults->faults)
        if (fault.type == ukernel::hosted::FaultType::kClockJump) at += fault.amount;
    }
    sim.run(root, at);
    transcript = ukernel::hosted::console_transcript();
    if (disk != nullptr && options.after_run) options.after_run(*disk);
    if (options.report != nullptr) {
      fill_report(sim, *options.report);
      options.report->quiet_line_ns = quiet_line_ns;
    }
    if (options.trace_records != nullptr) *options.trace_records = sim.trace_records();
    g_root_cnode = nullptr;
  }
  ukernel::hosted::console_echo(false);
  return transcript;
}

int run_interactive(const RunOptions& options) {
  Images images(options);
  ukernel::hosted::reset_devices();
  ukernel::hosted::console_echo(true);
  // The shell edits lines itself: the terminal passes keys through unechoed.
  bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &g_saved_terminal) == 0;
  if (tty) {
    std::signal(SIGINT, restore_terminal_and_exit);
    std::signal(SIGTERM, restore_terminal_and_exit);
    termios raw = g_saved_terminal;
    raw.c_lflag &= ~tcflag_t(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  {
    Simulation sim(config_for(options));
    std::unique_ptr<HostedDisk> disk = attach_disk(options);
    std::uint64_t limit = kSliceNs;
    (void)sim.run(root, limit);
    auto start = std::chrono::steady_clock::now();
    bool open = true;
    std::uint64_t stop_at = 0;
    for (;;) {
      if (open) {
        // Let real time catch up with virtual time, watching stdin meanwhile.
        auto real_ns = std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count());
        int wait_ms = limit > real_ns ? int((limit - real_ns) / 1'000'000) : 0;
        pollfd in{STDIN_FILENO, POLLIN, 0};
        if (poll(&in, 1, wait_ms) > 0) {
          char buffer[256];
          ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
          // On a terminal in raw mode, Ctrl-D arrives as a byte: it ends the input.
          std::string_view typed(buffer, n > 0 ? std::size_t(n) : 0);
          std::size_t end_of_input = tty ? typed.find('\x04') : std::string_view::npos;
          ukernel::hosted::console_input(typed.substr(0, end_of_input), sim.now_ns());
          if (n <= 0 || end_of_input != std::string_view::npos) {
            open = false;
            ukernel::hosted::console_close_input(sim.now_ns());
            // Let the last command finish, after the last byte has arrived.
            stop_at = std::max(limit, ukernel::hosted::console_input_done_ns()) + kStopAfterInputNs;
          }
        }
      }
      limit += kSliceNs;
      RunResult result = sim.resume(limit);
      (void)ukernel::hosted::console_transcript();  // shows log lines no output followed yet
      if (!open && (limit >= stop_at || result == RunResult::kIdle)) break;
    }
    (void)ukernel::hosted::console_transcript();
    if (options.trace_records != nullptr) *options.trace_records = sim.trace_records();
  }
  if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_terminal);
  std::fputs("\n", stdout);
  return 0;
}

}  // namespace system_example
