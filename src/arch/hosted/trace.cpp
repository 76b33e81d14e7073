// The trace's text form and its Chrome trace-event JSON; see ukernel/hosted/trace.hpp.
#include "ukernel/hosted/trace.hpp"

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <map>

#include "core/kernel.hpp"
#include "state.hpp"
#include "ukernel/abi.hpp"
#include "ukernel/hosted/image.hpp"

namespace ukernel::hosted {

namespace {

using core::TraceKind;

// A slice lasts this long unless the next slice on its track starts sooner: short enough never
// to reach the next kernel entry (each costs 100 ns of virtual time on hosted), long enough to
// click on when zoomed in.
constexpr std::uint64_t kSliceNs = 50;
// Process ids: the kernel's own track, threads whose space the trace never saw (the root task
// is configured by boot), then one per address space in the order they appear.
constexpr unsigned kKernelPid = 1;
constexpr unsigned kUnknownSpacePid = 2;
constexpr unsigned kFirstSpacePid = 3;

const char* syscall_name(std::uint64_t number) {
  static constexpr const char* kNames[] = {"Send",  "TrySend",   "Recv",      "TryRecv", "Call",
                                           "Reply", "ReplyRecv", "Signal",    "Wait",    "Poll",
                                           "Yield", "Abort",     "DebugWrite"};
  static_assert(std::size(kNames) == std::size_t(Syscall::kCount));
  return number < std::size(kNames) ? kNames[number] : "invalid";
}

const char* fault_name(std::uint64_t kind) {
  static constexpr const char* kNames[] = {"none",          "capability", "invalid syscall",
                                           "memory access", "arithmetic", "illegal instruction",
                                           "protection",    "breakpoint", "abort"};
  return kind < std::size(kNames) ? kNames[kind] : "unknown";
}

struct Slice {
  unsigned pid;
  std::uint32_t tid;
  std::uint64_t ts;
  std::uint64_t dur;
  std::string name;
  std::string args;  // JSON object members, without braces
};

struct Instant {
  unsigned pid;
  std::uint32_t tid;
  std::uint64_t ts;
  std::string name;
  std::string args;
};

struct Flow {
  std::size_t from;  // slice indices
  std::size_t to;
};

std::string micros(std::uint64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
  return text;
}

std::string hex(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "\"0x%" PRIx64 "\"", value);
  return text;
}

class Builder {
 public:
  unsigned pid_of(std::uint32_t thread) const {
    auto it = thread_pid_.find(thread);
    return it == thread_pid_.end() ? kUnknownSpacePid : it->second;
  }

  void configure(const TraceRecord& r) {
    auto [it, fresh] = space_pid_.try_emplace(r.a, kFirstSpacePid + unsigned(space_pid_.size()));
    (void)fresh;
    thread_pid_[r.thread] = it->second;
    instants_.push_back(
        {it->second, r.thread, r.time_ns, "thread start", "\"space\": " + hex(r.a)});
    threads_[r.thread] = it->second;
  }

  std::size_t slice(std::uint32_t thread, std::uint64_t ts, std::string name, std::string args) {
    unsigned pid = pid_of(thread);
    threads_.try_emplace(thread, pid);
    slices_.push_back({pid, thread, ts, kSliceNs, std::move(name), std::move(args)});
    return slices_.size() - 1;
  }

  void instant(unsigned pid, std::uint32_t tid, std::uint64_t ts, std::string name,
               std::string args) {
    threads_.try_emplace(tid, pid);
    instants_.push_back({pid, tid, ts, std::move(name), std::move(args)});
  }

  void flow(std::size_t from, std::size_t to) { flows_.push_back({from, to}); }
  Slice& at(std::size_t index) { return slices_[index]; }

  std::string finish() {
    // Slices on one track nest or follow each other: cut one short where the next begins.
    std::map<std::pair<unsigned, std::uint32_t>, std::size_t> last;
    for (std::size_t i = 0; i < slices_.size(); ++i) {
      auto key = std::make_pair(slices_[i].pid, slices_[i].tid);
      auto it = last.find(key);
      if (it != last.end()) {
        Slice& before = slices_[it->second];
        if (before.ts + before.dur > slices_[i].ts) before.dur = slices_[i].ts - before.ts;
      }
      last[key] = i;
    }
    std::string out = "{\"displayTimeUnit\": \"ns\", \"otherData\": {\"timestamps\": \"us\"},\n";
    out += "\"traceEvents\": [\n";
    bool first = true;
    auto add = [&](const std::string& event) {
      if (!first) out += ",\n";
      first = false;
      out += event;
    };
    auto meta = [&](unsigned pid, const std::string& name) {
      add("{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": " + std::to_string(pid) +
          ", \"tid\": 0, \"args\": {\"name\": \"" + name + "\"}}");
    };
    meta(kKernelPid, "kernel");
    meta(kUnknownSpacePid, "root task (configured at boot)");
    for (const auto& [space, pid] : space_pid_) {
      char name[64];
      std::snprintf(name, sizeof name, "space %u (0x%" PRIx64 ")", pid - kFirstSpacePid + 1, space);
      meta(pid, name);
    }
    for (const auto& [tid, pid] : threads_) {
      add("{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": " + std::to_string(pid) +
          ", \"tid\": " + std::to_string(tid) + ", \"args\": {\"name\": \"thread " +
          std::to_string(tid) + "\"}}");
    }
    for (const Slice& s : slices_) {
      add("{\"ph\": \"X\", \"cat\": \"syscall\", \"name\": \"" + s.name +
          "\", \"pid\": " + std::to_string(s.pid) + ", \"tid\": " + std::to_string(s.tid) +
          ", \"ts\": " + micros(s.ts) + ", \"dur\": " + micros(s.dur) + ", \"args\": {" + s.args +
          "}}");
    }
    for (const Instant& i : instants_) {
      add("{\"ph\": \"i\", \"s\": \"t\", \"cat\": \"event\", \"name\": \"" + i.name +
          "\", \"pid\": " + std::to_string(i.pid) + ", \"tid\": " + std::to_string(i.tid) +
          ", \"ts\": " + micros(i.ts) + ", \"args\": {" + i.args + "}}");
    }
    std::size_t id = 1;
    for (const Flow& f : flows_) {
      const Slice& from = slices_[f.from];
      const Slice& to = slices_[f.to];
      std::string common = "\"cat\": \"ipc\", \"name\": \"ipc\", \"id\": " + std::to_string(id++);
      add("{\"ph\": \"s\", " + common + ", \"pid\": " + std::to_string(from.pid) +
          ", \"tid\": " + std::to_string(from.tid) + ", \"ts\": " + micros(from.ts) + "}");
      add("{\"ph\": \"f\", \"bp\": \"e\", " + common + ", \"pid\": " + std::to_string(to.pid) +
          ", \"tid\": " + std::to_string(to.tid) + ", \"ts\": " + micros(to.ts) + "}");
    }
    out += "\n]}\n";
    return out;
  }

 private:
  std::map<std::uint64_t, unsigned> space_pid_;
  std::map<std::uint32_t, unsigned> thread_pid_;
  std::map<std::uint32_t, unsigned> threads_;  // every track: thread -> its (last) pid
  std::vector<Slice> slices_;
  std::vector<Instant> instants_;
  std::vector<Flow> flows_;
};

std::string result_args(const TraceRecord& r) {
  return "\"status\": " + std::to_string(r.a) + ", \"info\": " + hex(r.b) +
         ", \"badge\": " + hex(r.c) + ", \"word0\": " + hex(r.d);
}

}  // namespace

std::string trace_text(const std::vector<TraceRecord>& records) {
  std::string out;
  char line[160];
  for (const TraceRecord& r : records) {
    std::snprintf(line, sizeof line,
                  "%" PRIu64 " %" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                  "\n",
                  r.time_ns, r.kind, r.thread, r.a, r.b, r.c, r.d);
    out += line;
  }
  return out;
}

bool parse_trace_text(std::string_view text, std::vector<TraceRecord>& out, std::string& error) {
  std::vector<TraceRecord> records;
  std::size_t line_number = 0;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::uint64_t fields[7] = {};
    const char* p = line.data();
    const char* stop = line.data() + line.size();
    bool ok = true;
    for (std::uint64_t& field : fields) {
      while (p < stop && *p == ' ')
        ++p;
      auto [next, ec] = std::from_chars(p, stop, field);
      if (ec != std::errc{} || next == p) {
        ok = false;
        break;
      }
      p = next;
    }
    if (!ok || p != stop || fields[1] > 0xffffffffu || fields[2] > 0xffffffffu) {
      error = "trace line " + std::to_string(line_number) +
              ": expected seven decimal numbers \"time kind thread a b c d\": " +
              std::string(line.substr(0, 80));
      return false;
    }
    records.push_back({fields[0], std::uint32_t(fields[1]), std::uint32_t(fields[2]), fields[3],
                       fields[4], fields[5], fields[6]});
  }
  out = std::move(records);
  return true;
}

std::string trace_json(const std::vector<TraceRecord>& records) {
  Builder b;
  // The system call of the kernel entry under way: results for other threads in the same entry
  // were delivered by it (a message, a reply, a signal), so they get a flow arrow from it.
  bool in_entry = false;
  std::uint32_t entry_thread = 0;
  std::size_t entry_slice = 0;
  for (const TraceRecord& r : records) {
    switch (TraceKind(r.kind)) {
      case TraceKind::kSyscall:
      case TraceKind::kFastpath: {
        bool fast = TraceKind(r.kind) == TraceKind::kFastpath;
        std::string name = syscall_name(r.a);
        if (fast) name += " (fast path)";
        entry_slice = b.slice(
            r.thread, r.time_ns, name,
            "\"cap\": " + hex(r.b) + ", \"info\": " + hex(r.c) + ", \"word0\": " + hex(r.d));
        entry_thread = r.thread;
        in_entry = true;
        break;
      }
      case TraceKind::kResult:
        if (in_entry && r.thread == entry_thread) {
          // The caller's own result, written in the same entry: part of its slice.
          b.at(entry_slice).args += ", \"result\": {" + result_args(r) + "}";
        } else {
          std::size_t to = b.slice(r.thread, r.time_ns, "delivered", result_args(r));
          if (in_entry) b.flow(entry_slice, to);
        }
        break;
      case TraceKind::kDirectSwitch:
        // The fast path hands its message over by switching: the partner's result is kOk.
        if (in_entry && r.a == entry_thread && r.b != 0 &&
            b.at(entry_slice).name.ends_with("(fast path)")) {
          std::size_t to = b.slice(std::uint32_t(r.b), r.time_ns, "delivered (fast path)",
                                   "\"status\": 0, \"info\": " + hex(0));
          b.flow(entry_slice, to);
        }
        in_entry = false;
        break;
      case TraceKind::kSchedule:
        in_entry = false;
        break;
      case TraceKind::kFault:
        b.instant(b.pid_of(r.thread), r.thread, r.time_ns, std::string("fault: ") + fault_name(r.a),
                  "\"kind\": " + std::to_string(r.a) + ", \"address\": " + hex(r.b));
        in_entry = false;
        break;
      case TraceKind::kInterrupt:
        b.instant(kKernelPid, 0, r.time_ns, "interrupt " + std::to_string(r.a), "");
        in_entry = false;
        break;
      case TraceKind::kTimer:
        in_entry = false;
        break;
      case TraceKind::kConfigure:
        b.configure(r);
        break;
      case TraceKind::kRestart:
        b.instant(b.pid_of(r.thread), r.thread, r.time_ns, "restart",
                  "\"by thread\": " + std::to_string(r.b));
        break;
      case TraceKind::kBlock:
      case TraceKind::kWake:
        break;
    }
  }
  return b.finish();
}

}  // namespace ukernel::hosted

namespace ukernel::arch {

word Machine::trace_word(word value) {
  hosted::ImageAddress where = hosted::loaded_object_address(value);
  if (where.image.empty()) return value;
  std::vector<std::string>& names = hosted().trace_images;
  std::size_t number = 0;
  while (number < names.size() && names[number] != where.image)
    ++number;
  if (number == names.size()) names.emplace_back(where.image);
  return hosted::kImageAddressTag | (word(number) << hosted::kImageIndexShift) | where.offset;
}

}  // namespace ukernel::arch
