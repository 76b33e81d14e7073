// Fault injection on the hosted back-end (ukernel/hosted/faults.hpp): the schedule's text form,
// random schedules, shrinking, and the hooks the fibers and the event queue call while a
// schedule is armed (state.hpp).
#include "ukernel/hosted/faults.hpp"

#include <charconv>
#include <cstdio>

#include "state.hpp"
#include "ukernel/hosted/image.hpp"

namespace ukernel::hosted {

namespace {

struct Name {
  FaultType type;
  std::string_view text;
};
constexpr Name kNames[] = {
    {FaultType::kKill, "kill"},           {FaultType::kDelay, "delay"},
    {FaultType::kClockJump, "jump"},      {FaultType::kIrqDelay, "irqdelay"},
    {FaultType::kIrqDuplicate, "irqdup"}, {FaultType::kIrqDrop, "irqdrop"},
    {FaultType::kBlockFail, "blkfail"},   {FaultType::kBlockDelay, "blkdelay"},
    {FaultType::kNetDrop, "netdrop"},
};

std::string_view name_of(FaultType type) {
  for (const Name& n : kNames)
    if (n.type == type) return n.text;
  return "?";
}

}  // namespace

bool is_thread_fault(FaultType t) {
  return t == FaultType::kKill || t == FaultType::kDelay;
}
bool is_irq_fault(FaultType t) {
  return t == FaultType::kIrqDelay || t == FaultType::kIrqDuplicate || t == FaultType::kIrqDrop;
}
bool is_device_fault(FaultType t) {
  return t == FaultType::kBlockFail || t == FaultType::kBlockDelay || t == FaultType::kNetDrop;
}
bool has_amount(FaultType t) {
  return t == FaultType::kClockJump || t == FaultType::kIrqDelay || t == FaultType::kIrqDuplicate ||
         t == FaultType::kBlockDelay;
}

namespace {

bool parse_number(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc{} && end == text.data() + text.size();
}

std::optional<Fault> parse_one(std::string_view item, std::string& error) {
  // KIND[:TARGET]@AT[+AMOUNT]
  std::size_t at_sign = item.find('@');
  if (at_sign == std::string_view::npos) {
    error = "no '@' in \"" + std::string(item) + "\"";
    return std::nullopt;
  }
  std::string_view head = item.substr(0, at_sign);
  std::string_view tail = item.substr(at_sign + 1);
  std::size_t colon = head.find(':');
  std::string_view kind = head.substr(0, colon);
  std::string_view target = colon == std::string_view::npos ? "" : head.substr(colon + 1);
  Fault f;
  bool known = false;
  for (const Name& n : kNames) {
    if (n.text == kind) {
      f.type = n.type;
      known = true;
    }
  }
  if (!known) {
    error = "unknown fault \"" + std::string(kind) +
            "\" (kill, delay, jump, irqdelay, irqdup, irqdrop, blkfail, blkdelay, netdrop)";
    return std::nullopt;
  }
  std::size_t plus = tail.find('+');
  std::string_view at = tail.substr(0, plus);
  std::string_view amount = plus == std::string_view::npos ? "" : tail.substr(plus + 1);
  if (!parse_number(at, f.at) || (f.at == 0 && f.type != FaultType::kClockJump)) {
    error = "\"" + std::string(item) + "\": after '@' a number (from 1) is expected";
    return std::nullopt;
  }
  if (has_amount(f.type) != !amount.empty() ||
      (!amount.empty() && !parse_number(amount, f.amount))) {
    error = "\"" + std::string(item) +
            "\": " + (has_amount(f.type) ? "'+NANOSECONDS' is expected" : "takes no '+'");
    return std::nullopt;
  }
  if (is_thread_fault(f.type)) {
    if (target.empty()) {
      error = "\"" + std::string(item) + "\": a target (an image name or #ID) is expected";
      return std::nullopt;
    }
    f.target = std::string(target);
  } else if (is_irq_fault(f.type)) {
    std::uint64_t line = 0;
    if (!parse_number(target, line) || line >= arch::Machine::kIrqLines) {
      error = "\"" + std::string(item) + "\": an interrupt line (0.." +
              std::to_string(arch::Machine::kIrqLines - 1) + ") is expected";
      return std::nullopt;
    }
    f.line = unsigned(line);
  } else if (!target.empty()) {
    error = "\"" + std::string(item) + "\": " + std::string(kind) + " takes no target";
    return std::nullopt;
  }
  return f;
}

std::uint64_t mix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

std::string FaultSchedule::text() const {
  std::string out;
  for (const Fault& f : faults) {
    if (!out.empty()) out += ',';
    out += name_of(f.type);
    if (is_thread_fault(f.type)) out += ":" + f.target;
    if (is_irq_fault(f.type)) out += ":" + std::to_string(f.line);
    out += "@" + std::to_string(f.at);
    if (has_amount(f.type)) out += "+" + std::to_string(f.amount);
  }
  return out;
}

std::optional<FaultSchedule> FaultSchedule::parse(std::string_view text, std::string* error) {
  FaultSchedule schedule;
  std::string why;
  if (text.empty()) return schedule;
  for (;;) {
    std::size_t comma = text.find(',');
    std::optional<Fault> f = parse_one(text.substr(0, comma), why);
    if (!f) {
      if (error != nullptr) *error = why;
      return std::nullopt;
    }
    schedule.faults.push_back(*f);
    if (comma == std::string_view::npos) return schedule;
    text = text.substr(comma + 1);
  }
}

FaultSchedule random_faults(std::uint64_t seed, std::size_t count, const FaultSpace& space) {
  std::uint64_t rng = seed ^ 0x6661756c74736565ull;  // not the simulation's own stream
  std::vector<FaultType> kinds;
  if (!space.targets.empty())
    kinds.insert(kinds.end(),
                 {FaultType::kKill, FaultType::kKill, FaultType::kKill, FaultType::kDelay});
  if (space.horizon_ns != 0 && space.max_jump_ns != 0) kinds.push_back(FaultType::kClockJump);
  if (!space.irq_lines.empty()) {
    kinds.insert(kinds.end(), {FaultType::kIrqDelay, FaultType::kIrqDuplicate});
    if (space.drop_irqs) kinds.push_back(FaultType::kIrqDrop);
  }
  if (space.block_faults)
    kinds.insert(kinds.end(), {FaultType::kBlockFail, FaultType::kBlockDelay});
  if (space.net_faults) kinds.push_back(FaultType::kNetDrop);
  FaultSchedule schedule;
  if (kinds.empty()) return schedule;
  for (std::size_t i = 0; i < count; ++i) {
    Fault f;
    f.type = kinds[mix(rng) % kinds.size()];
    if (is_thread_fault(f.type)) {
      f.target = space.targets[mix(rng) % space.targets.size()];
      f.at = 1 + mix(rng) % space.max_syscall;
    } else if (f.type == FaultType::kClockJump) {
      f.at = mix(rng) % space.horizon_ns;
      f.amount = 1 + mix(rng) % space.max_jump_ns;
    } else if (is_device_fault(f.type)) {
      f.at = 1 + mix(rng) % space.max_request;
      if (has_amount(f.type)) f.amount = 1 + mix(rng) % space.max_device_delay_ns;
    } else {
      f.line = space.irq_lines[mix(rng) % space.irq_lines.size()];
      f.at = 1 + mix(rng) % space.max_irq;
      if (has_amount(f.type)) f.amount = 1 + mix(rng) % 10'000'000;
    }
    schedule.faults.push_back(f);
  }
  return schedule;
}

FaultSchedule shrink(const FaultSchedule& failing,
                     const std::function<bool(const FaultSchedule&)>& fails, std::size_t* runs) {
  FaultSchedule best = failing;
  std::size_t count = 0;
  auto try_candidate = [&](const FaultSchedule& candidate) {
    ++count;
    if (!fails(candidate)) return false;
    best = candidate;
    return true;
  };
  for (bool progress = true; progress;) {
    progress = false;
    // Remove one fault at a time (from the last: later faults often only follow the first).
    for (std::size_t i = best.faults.size(); i-- > 0;) {
      FaultSchedule candidate = best;
      candidate.faults.erase(candidate.faults.begin() + std::ptrdiff_t(i));
      if (try_candidate(candidate)) progress = true;
    }
    // Halve what can be smaller and still fail: delays and jumps.
    for (std::size_t i = 0; i < best.faults.size(); ++i) {
      if (!has_amount(best.faults[i].type) || best.faults[i].amount <= 1) continue;
      FaultSchedule candidate = best;
      candidate.faults[i].amount /= 2;
      if (try_candidate(candidate)) progress = true;
    }
  }
  if (runs != nullptr) *runs = count;
  return best;
}

}  // namespace ukernel::hosted

namespace ukernel::arch {

struct FaultState {
  const hosted::FaultSchedule* schedule = nullptr;
  std::vector<std::uint64_t> calls;                   // per fault: its target's system calls so far
  std::uint64_t interrupts[Machine::kIrqLines] = {};  // interrupts per line so far
  std::uint64_t block_requests = 0;                   // block requests so far
  std::uint64_t net_frames = 0;                       // frames so far
  std::vector<bool> fired;
  std::string log;
};

namespace {

FaultState g_faults;

// The image a thread runs in, without its "system_" prefix ("names"); empty for code in the
// executable.
std::string_view image_of(word entry) {
  std::string_view name = hosted::image_address(entry).image;
  if (name.starts_with("system_")) name.remove_prefix(7);
  return name;
}

void note(FaultState& f, std::size_t i, const HostedState& s, const std::string& what) {
  f.fired[i] = true;
  char line[64];
  std::snprintf(line, sizeof line, "%llu ns: ", static_cast<unsigned long long>(s.now_ns));
  f.log += line + what + "\n";
}

}  // namespace

void arm_faults(HostedState& s, const hosted::FaultSchedule& schedule) {
  g_faults = FaultState{};
  g_faults.schedule = &schedule;
  g_faults.fired.assign(schedule.faults.size(), false);
  g_faults.calls.assign(schedule.faults.size(), 0);
  s.faults = &g_faults;
  for (std::size_t i = 0; i < schedule.faults.size(); ++i) {
    const hosted::Fault& f = schedule.faults[i];
    if (f.type != hosted::FaultType::kClockJump) continue;
    insert_event(s, f.at, kNoLine, [&s, i, amount = f.amount] {
      s.now_ns += amount;
      note(g_faults, i, s, "the clock jumps " + std::to_string(amount) + " ns");
    });
  }
}

void disarm_faults(HostedState& s) {
  s.faults = nullptr;
}

const std::string& fault_log() {
  return g_faults.log;
}

bool fault_at_syscall(HostedState& s) {
  FaultState& f = *s.faults;
  core::Thread* t = core::current();
  if (t == nullptr || t->context.fiber == nullptr) return false;
  std::string_view image = image_of(t->context.fiber->entry);
  std::string id = "#" + std::to_string(t->id);
  bool delay = false;
  for (std::size_t i = 0; i < f.schedule->faults.size(); ++i) {
    const hosted::Fault& fault = f.schedule->faults[i];
    if (f.fired[i] ||
        !(fault.type == hosted::FaultType::kKill || fault.type == hosted::FaultType::kDelay))
      continue;
    if (fault.target != image && fault.target != id) continue;
    // Each fault counts its target's calls from the start of the run.
    std::uint64_t n = ++f.calls[i];
    if (n != fault.at) continue;
    if (fault.type == hosted::FaultType::kDelay) {
      note(f, i, s,
           "delay " + fault.target + "'s call " + std::to_string(n) + " (thread " + id + ")");
      delay = true;
      continue;
    }
    note(f, i, s,
         "kill " + fault.target + " at its call " + std::to_string(n) + " (thread " + id + ")");
    // The instruction pointer reported is the entry point's offset in its image, never the
    // host address, which differs from run to run (ASLR, dlopen) and would reach the fault
    // handler's message and the transcript: a replay must print the same.
    word entry = t->context.fiber->entry;
    hosted::ImageAddress where = hosted::image_address(entry);
    fault_current_thread(FaultKind::kIllegalInstruction, 0, where.image.empty() ? 0 : where.offset);
  }
  return delay;
}

bool fault_at_interrupt(HostedState& s, unsigned line, std::uint64_t& at_ns) {
  FaultState& f = *s.faults;
  std::uint64_t n = ++f.interrupts[line];
  for (std::size_t i = 0; i < f.schedule->faults.size(); ++i) {
    const hosted::Fault& fault = f.schedule->faults[i];
    if (f.fired[i] || !hosted::is_irq_fault(fault.type) || fault.line != line || fault.at != n)
      continue;
    std::string what = "interrupt " + std::to_string(n) + " of line " + std::to_string(line);
    switch (fault.type) {
      case hosted::FaultType::kIrqDrop:
        note(f, i, s, "drop " + what);
        return false;
      case hosted::FaultType::kIrqDelay:
        note(f, i, s, "delay " + what + " by " + std::to_string(fault.amount) + " ns");
        at_ns += fault.amount;
        break;
      case hosted::FaultType::kIrqDuplicate:
        note(f, i, s, "duplicate " + what + " after " + std::to_string(fault.amount) + " ns");
        insert_event(s, at_ns + fault.amount, line, {});
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace ukernel::arch

namespace ukernel::arch {

bool fault_at_block_request(HostedState& s, std::uint64_t& delay_ns) {
  FaultState& f = *s.faults;
  std::uint64_t n = ++f.block_requests;
  bool fail = false;
  for (std::size_t i = 0; i < f.schedule->faults.size(); ++i) {
    const hosted::Fault& fault = f.schedule->faults[i];
    if (f.fired[i] || fault.at != n) continue;
    if (fault.type == hosted::FaultType::kBlockFail) {
      note(f, i, s, "fail block request " + std::to_string(n));
      fail = true;
    } else if (fault.type == hosted::FaultType::kBlockDelay) {
      note(f, i, s,
           "delay block request " + std::to_string(n) + " by " + std::to_string(fault.amount) +
               " ns");
      delay_ns += fault.amount;
    }
  }
  return fail;
}

bool fault_at_net_frame(HostedState& s) {
  FaultState& f = *s.faults;
  std::uint64_t n = ++f.net_frames;
  for (std::size_t i = 0; i < f.schedule->faults.size(); ++i) {
    const hosted::Fault& fault = f.schedule->faults[i];
    if (f.fired[i] || fault.type != hosted::FaultType::kNetDrop || fault.at != n) continue;
    note(f, i, s, "drop frame " + std::to_string(n));
    return true;
  }
  return false;
}

}  // namespace ukernel::arch
