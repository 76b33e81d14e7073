// The shell: reads lines from the console's input ring (with backspace), splits them into words
// (double quotes keep spaces in one word), runs a command, prints through the console's output
// ring. A line longer than kMaxLine is refused as a whole when it ends, and the input after it is
// read as usual. Its loop is event-driven, so it answers the supervisor's
// pings while a `sleep` is in progress: input typed meanwhile waits in the ring.
//
// Everything it uses it finds through the name service (NamedClient), so it keeps working after
// any server it talks to was restarted: idempotent calls are repeated by themselves, output
// waits in the ring until a console prints it.
#include <charconv>

#include "console/protocol.hpp"
#include "shell/file_commands.hpp"
#include "supervisor/protocol.hpp"
#include "system/runtime.hpp"
#include "timer/protocol.hpp"

using namespace system_example;

namespace {

constexpr word kRingsAddress = grant(kShellIndex, "rings").first;
constexpr sysdesc::Grant kFsGrant = grant(kShellIndex, "fs");
constexpr word kFsRegionBytes = kSystem.regions[kSystem.region_of(kFsGrant.target)].bytes;
constexpr word kInputBit = notify_bit(kConsoleIndex);
constexpr std::size_t kMaxLine = 120;
constexpr std::size_t kMaxWords = 16;
constexpr unsigned kBenchCalls = 1000;
constexpr std::string_view kPrompt = "uk> ";
constexpr std::string_view kCommands =
    "commands: help, ps, echo ARGS, uptime, sleep MS, crash SERVER, hang SERVER, kill SERVER, "
    "bench ipc, bench fsread SIZE, bench fswrite SIZE, poweroff";

struct ShellProtocol {
  using Methods = rpc::Methods<>;  // the shell serves only the control protocol
};

class Shell : public rpc::Server<Shell, ShellProtocol> {
 public:
  Shell(Runtime& runtime, console::Rings& rings)
      : runtime_(runtime),
        rings_(rings),
        console_(runtime.names(), names::Name("console"), kSelfCNodeSlot, runtime.slot()),
        timer_(runtime.names(), names::Name("timer"), kSelfCNodeSlot, runtime.slot()),
        target_slot_(runtime.slot()),
        files_(runtime, *this,
               ukernel::SharedRegion(static_cast<std::byte*>(ukernel::arch::user_pointer(
                                         kFsGrant.first, std::size_t(kFsRegionBytes))),
                                     std::size_t(kFsRegionBytes))) {}

  void start() { prompt(); }

  void on_bits(word bits) {
    if ((bits & kTimerBit) != 0 && sleeping_ && slept_enough()) {
      sleeping_ = false;
      print("slept {} ms\n", sleep_ms_);
      prompt();
    }
    if ((bits & (kInputBit | kTimerBit)) != 0) read_input();
  }

 private:
  // --- input and line editing ---------------------------------------------------------------
  void read_input() {
    char c;
    while (!sleeping_ && rings_.in.pop(c) == ukernel::RingStatus::kOk) {
      if (c == '\r' || c == '\n') {
        out("\n");
        flush();  // the command line appears before anything the command causes
        if (overflow_ > 0) {
          print("line too long ({} characters, at most {}): discarded\n", length_ + overflow_,
                kMaxLine);
        } else {
          run(std::string_view(line_, length_));
        }
        length_ = 0;
        overflow_ = 0;
        if (!sleeping_) prompt();
      } else if (c == '\b' || c == 0x7f) {
        if (overflow_ > 0) {
          --overflow_;  // it was never echoed
        } else if (length_ > 0) {
          --length_;
          out("\b \b");
        }
      } else if (c >= 0x20 && c < 0x7f) {
        // Past kMaxLine the characters are counted, not kept: the line is refused when it ends,
        // rather than run cut short.
        if (length_ < kMaxLine) {
          line_[length_++] = c;
          out(std::string_view(&c, 1));
        } else {
          ++overflow_;
        }
      }
    }
    flush();
  }

  // --- output (also FileCommands') ------------------------------------------------------------
 public:
  void out(std::string_view text) {
    for (char c : text) {
      if (rings_.out.push(c) == ukernel::RingStatus::kFull) {
        flush();  // full: let the console catch up; if none runs, the byte is dropped
        (void)rings_.out.push(c);
      }
    }
  }
  template <class... A>
  void print(std::string_view text, const A&... args) {
    char line[256];
    out(std::string_view(line, format(line, sizeof line, text, args...)));
  }

 private:
  // Asks the console to print the ring. If no console runs just now, the next one will.
  void flush() { (void)console_.call<console::Protocol::Flush>(); }
  void prompt() {
    out(kPrompt);
    flush();
  }

  // --- commands ---------------------------------------------------------------------------
  // The words of a command line: separated by spaces; a double-quoted part keeps its spaces and
  // may be empty (`""`); inside quotes, \" and \\ stand for " and \. Quotes may join parts of
  // one word (`a"b c"` is `ab c`). The words' text lives in words_text_.
  struct Words {
    std::string_view word[kMaxWords];
    std::size_t count = 0;
  };
  enum class SplitError { kNone, kUnterminatedQuote, kTooManyWords };

  SplitError split(std::string_view line, Words& words) {
    std::size_t at = 0, used = 0;
    for (;;) {
      while (at < line.size() && line[at] == ' ')
        ++at;
      if (at == line.size()) return SplitError::kNone;
      if (words.count == kMaxWords) return SplitError::kTooManyWords;
      std::size_t start = used;
      bool quoted = false;
      for (; at < line.size() && (quoted || line[at] != ' '); ++at) {
        char c = line[at];
        if (c == '"') {
          quoted = !quoted;
          continue;
        }
        if (quoted && c == '\\' && at + 1 < line.size() &&
            (line[at + 1] == '"' || line[at + 1] == '\\'))
          c = line[++at];
        words_text_[used++] = c;  // never more than the line's length
      }
      if (quoted) return SplitError::kUnterminatedQuote;
      words.word[words.count++] = std::string_view(words_text_ + start, used - start);
    }
  }

  // The command's one argument, or a usage message and false.
  bool one_argument(const Words& words, std::string_view usage) {
    if (words.count == 2) return true;
    print("usage: {}\n", usage);
    return false;
  }

  void run(std::string_view line) {
    Words words;
    switch (split(line, words)) {
      case SplitError::kNone:
        break;
      case SplitError::kUnterminatedQuote:
        print("error: unterminated quote: a \" without its closing \"; nothing was run\n");
        return;
      case SplitError::kTooManyWords:
        print("error: more than {} words; nothing was run\n", kMaxWords);
        return;
    }
    if (words.count == 0) return;
    std::string_view command = words.word[0];
    std::string_view argument = words.count > 1 ? words.word[1] : "";
    if (command == "help") {
      print("{}\n", kCommands);
      print("{}\n", FileCommands<Shell>::kHelp);
    } else if (command == "ps") {
      ps();
    } else if (command == "echo") {
      echo(words);
    } else if (command == "uptime") {
      uptime();
    } else if (command == "sleep") {
      sleep(words.count == 2 ? argument : "");
    } else if (command == "crash") {
      if (one_argument(words, "crash SERVER")) crash(argument);
    } else if (command == "hang") {
      if (one_argument(words, "hang SERVER")) hang(argument);
    } else if (command == "kill") {
      if (one_argument(words, "kill SERVER")) kill(argument);
    } else if (command == "bench" && words.count == 2 && argument == "ipc") {
      bench();
    } else if (command == "bench" && (argument == "fsread" || argument == "fswrite")) {
      files_.bench(argument, std::span(words.word + 2, words.count - 2));
    } else if (command == "poweroff") {
      power_off();
    } else if (files_.run(command, std::span(words.word + 1, words.count - 1))) {
      // a file command (file_commands.hpp)
    } else {
      print("unknown command '{}'; {}\n", command, kCommands);
    }
  }

  // The arguments, one space between each (a quoted argument keeps its own spaces).
  void echo(const Words& words) {
    for (std::size_t i = 1; i < words.count; ++i) {
      if (i > 1) out(" ");
      out(words.word[i]);
    }
    out("\n");
  }

  void ps() {
    for (word i = 0; i < kServerCount; ++i) {
      auto status = runtime_.supervisor().call<supervisor::Protocol::Status>(i);
      const sysdesc::Server& server = kSystem.servers[i];
      if (!status.ok()) {
        print("{:<12}unknown (error {})\n", server.name, word(status.error()));
        continue;
      }
      print("{:<12}{:<12}priority {:<5}restarts {}\n", server.name,
            supervisor::state_name(supervisor::State(status.value()[0])), server.priority,
            status.value()[1]);
    }
  }

  void uptime() {
    auto now = timer_.call<timer::Protocol::Now>();
    if (!now.ok()) {
      print("uptime: the timer service does not answer (error {})\n", word(now.error()));
      return;
    }
    print("up {}.{:03} s\n", now.value() / 1'000'000'000, now.value() / 1'000'000 % 1000);
  }

  void sleep(std::string_view argument) {
    std::uint64_t ms = 0;
    auto [end, error] = std::from_chars(argument.data(), argument.data() + argument.size(), ms);
    if (argument.empty() || error != std::errc{} || end != argument.data() + argument.size() ||
        ms > 3'600'000) {
      print("sleep: give a time in milliseconds, 0 to 3600000\n");
      return;
    }
    auto woken =
        timer_.call<timer::Protocol::Wake>(rpc::Capability{kTimerWakeSlot}, ms * 1'000'000);
    if (!woken.ok()) {
      print("sleep: the timer service does not answer (error {})\n", word(woken.error()));
      return;
    }
    sleeping_ = true;
    sleep_ms_ = ms;
    wake_at_ns_ = woken.value() + ms * 1'000'000;
  }

  // A wake-up bit means "look at the clock": the supervisor also sets it when a restarted timer
  // service has forgotten the wake-ups. Asks again for what is left, if anything.
  bool slept_enough() {
    auto now = timer_.call<timer::Protocol::Now>();
    if (!now.ok() || now.value() >= wake_at_ns_) return true;
    auto again = timer_.call<timer::Protocol::Wake>(rpc::Capability{kTimerWakeSlot},
                                                    wake_at_ns_ - now.value());
    return !again.ok();
  }

  // The server named `name`, or a message and kNotFound.
  std::size_t server_named(std::string_view command, std::string_view name) {
    std::size_t index = kSystem.index_of(name);
    if (index == kSystem.kNotFound) print("{}: no server named '{}'\n", command, name);
    return index;
  }

  void crash(std::string_view name) {
    std::size_t index = server_named("crash", name);
    if (index == kSystem.kNotFound) return;
    if (index == kSupervisorIndex) {
      print("crash: the supervisor is the root task; nothing would restart it\n");
      return;
    }
    if (index == kShellIndex) {
      // A server cannot send itself a request: the supervisor's test hook sends it.
      auto asked = runtime_.supervisor().call<supervisor::Protocol::Crash>(word(index));
      if (asked.ok()) {
        print("crash: the supervisor will crash the shell\n");
      } else {
        print("crash: the supervisor refused (error {})\n", word(asked.error()));
      }
      return;
    }
    rpc::Result<void> crashed = Error::kNotFound;
    if (index == kNamesIndex) {  // not registered with itself: the shell holds its endpoint
      crashed = rpc::Client<Control>(kNamesSlot).call<Control::Crash>();
    } else {
      names::NamedClient<Control> target(runtime_.names(), names::Name(name), kSelfCNodeSlot,
                                         target_slot_);
      crashed = target.call<Control::Crash>();
    }
    if (crashed.error() == Error::kCancelled) {
      print("crash: {} crashed\n", name);
    } else {
      print("crash: {} did not crash (error {})\n", name, word(crashed.error()));
    }
  }

  // The server stops answering; the supervisor's ping watchdog restarts it, which cancels
  // this call.
  void hang(std::string_view name) {
    std::size_t index = server_named("hang", name);
    if (index == kSystem.kNotFound) return;
    if (index == kSupervisorIndex || index == kShellIndex || index == kTimerIndex) {
      // The shell cannot wait for itself, and the watchdog's clock is the timer.
      print("hang: not {}: the watchdog could not see it\n", name);
      return;
    }
    rpc::Result<void> hung = Error::kNotFound;
    if (index == kNamesIndex) {
      hung = rpc::Client<Control>(kNamesSlot).call<Control::Hang>();
    } else {
      names::NamedClient<Control> target(runtime_.names(), names::Name(name), kSelfCNodeSlot,
                                         target_slot_);
      hung = target.call<Control::Hang>();
    }
    if (hung.error() == Error::kCancelled) {
      print("hang: {} stopped answering and was restarted\n", name);
    } else {
      print("hang: {} did not hang (error {})\n", name, word(hung.error()));
    }
  }

  void kill(std::string_view name) {
    std::size_t index = server_named("kill", name);
    if (index == kSystem.kNotFound) return;
    auto killed = runtime_.supervisor().call<supervisor::Protocol::Kill>(word(index));
    if (killed.ok()) {
      print("kill: {} stopped\n", name);
    } else {
      print("kill: {} not stopped (error {})\n", name, word(killed.error()));
    }
  }

  // Returns only if the supervisor cannot power off (a hosted run ends when its input ends).
  void power_off() {
    auto off = runtime_.supervisor().call<supervisor::Protocol::PowerOff>();
    print("poweroff: not on this back-end (error {})\n", word(off.error()));
  }

  // Round trips to the hello server's ping, timed with the timer service.
  void bench() {
    names::NamedClient<Control> hello(runtime_.names(), names::Name("hello"), kSelfCNodeSlot,
                                      target_slot_);
    auto before = timer_.call<timer::Protocol::Now>();
    if (!before.ok() || !hello.call<Control::Ping>().ok()) {
      print("bench: needs the hello and timer servers\n");
      return;
    }
    before = timer_.call<timer::Protocol::Now>();
    for (unsigned i = 0; i < kBenchCalls; ++i)
      (void)hello.call<Control::Ping>();
    auto after = timer_.call<timer::Protocol::Now>();
    if (!before.ok() || !after.ok()) return;
    // The figure is only as real as the clock: say which one measured it.
    print("ipc round trip: {} ns (average of {} calls to hello, timed by the timer service)\n",
          (after.value() - before.value()) / kBenchCalls, kBenchCalls);
    print("bench: measured with the {}\n", Platform::kClockMeasures);
  }

  Runtime& runtime_;
  console::ShellSide rings_;
  names::NamedClient<console::Protocol> console_;
  names::NamedClient<timer::Protocol> timer_;
  word target_slot_;
  FileCommands<Shell> files_;
  char line_[kMaxLine] = {};
  std::size_t length_ = 0;
  std::size_t overflow_ = 0;  // characters typed past kMaxLine on this line
  char words_text_[kMaxLine] = {};
  bool sleeping_ = false;
  std::uint64_t sleep_ms_ = 0;
  std::uint64_t wake_at_ns_ = 0;
};

}  // namespace

extern "C" void ukernel_image_main(word index) {
  Runtime runtime(index);
  runtime.announce();
  (void)runtime.supervisor().call<supervisor::Protocol::WaitUp>();
  auto* rings = static_cast<console::Rings*>(
      ukernel::arch::user_pointer(kRingsAddress, sizeof(console::Rings)));
  // The console made them before it was ready, and the system is up.
  if (rings == nullptr || !rings->ready()) fail("shell: no console rings");
  Shell shell(runtime, *rings);
  shell.start();
  runtime.serve(shell, 0, [&](word bits) { shell.on_bits(bits); });
}
