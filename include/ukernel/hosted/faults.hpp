// Fault injection on the hosted back-end: a schedule of faults a Simulation applies as it runs.
//
// A schedule is a short list of faults, each named by what it hits and when, in the
// simulation's own terms (a thread's Nth system call, an interrupt line's Nth interrupt, a
// virtual time), never by host time or host addresses: the same schedule, program and seed give
// the same run, so a failing schedule replays bit-exactly from its one-line text form
// (FaultSchedule::text, FaultSchedule::parse) and can be shrunk (shrink) as TigerBeetle's VOPR
// does.
//
//   kill:TARGET@N        TARGET's thread stops with an illegal-instruction fault at its Nth
//                        system call (the call is not made): its fault handler hears of it
//   delay:TARGET@N       TARGET's Nth system call waits until the scheduler has let every other
//                        ready thread of its priority run (an IPC sent later, never reordered)
//   jump@T+D             at virtual time T ns the clock jumps forward by D ns
//   irqdelay:L@N+D       interrupt line L's Nth interrupt arrives D ns late
//   irqdup:L@N+D         ... arrives, and again D ns later
//   irqdrop:L@N          ... never arrives
//   blkfail@N            the block device model's Nth request (from 1, counted over the run)
//                        completes with an I/O error, the disk untouched
//   blkdelay@N+D         ... is served D ns later than it would have been
//   netdrop@N            the network device model's Nth frame (sent or received, from 1) is
//                        lost on the wire
//
// TARGET is a server image's name (a thread runs in image "system_names.so": "names") or "#ID",
// a kernel thread id as the trace shows it. Faults are separated by ','; "" is no fault.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ukernel::hosted {

enum class FaultType : std::uint8_t {
  kKill,
  kDelay,
  kClockJump,
  kIrqDelay,
  kIrqDuplicate,
  kIrqDrop,
  kBlockFail,
  kBlockDelay,
  kNetDrop
};

struct Fault {
  FaultType type = FaultType::kKill;
  std::string target;        // kill, delay: an image name or "#ID"
  unsigned line = 0;         // irq*: the interrupt line
  std::uint64_t at = 0;      // kill, delay: the Nth system call (from 1); jump: virtual time ns;
                             // irq*: the line's Nth interrupt (from 1); blk*: the Nth block
                             // request; netdrop: the Nth frame
  std::uint64_t amount = 0;  // jump, irqdelay, irqdup, blkdelay: ns
  bool operator==(const Fault&) const = default;
};

bool is_thread_fault(FaultType type);  // kill, delay
bool is_irq_fault(FaultType type);     // irqdelay, irqdup, irqdrop
bool is_device_fault(FaultType type);  // blkfail, blkdelay, netdrop
bool has_amount(FaultType type);       // jump, irqdelay, irqdup, blkdelay

struct FaultSchedule {
  std::vector<Fault> faults;

  std::string text() const;
  // The schedule `text` names, or nullopt with `error` saying what is wrong.
  static std::optional<FaultSchedule> parse(std::string_view text, std::string* error = nullptr);
  bool operator==(const FaultSchedule&) const = default;
};

// What random_faults may choose from.
struct FaultSpace {
  std::vector<std::string> targets;          // kill/delay targets (servers that are restarted)
  std::uint64_t max_syscall = 1000;          // kill/delay at a target's call 1..max_syscall
  std::uint64_t horizon_ns = 1'000'000'000;  // clock jumps happen before this
  std::uint64_t max_jump_ns = 2'000'000'000;
  std::vector<unsigned> irq_lines;  // lines whose interrupts may be delayed or duplicated
  std::uint64_t max_irq = 100;      // ... the line's interrupt 1..max_irq
  bool drop_irqs = false;           // a lost edge is a fault most drivers do not claim to survive
  bool block_faults = false;        // failed and delayed block requests
  bool net_faults = false;          // lost frames
  std::uint64_t max_request = 100;  // ... at the device's request or frame 1..max_request
  std::uint64_t max_device_delay_ns = 50'000'000;
};

// `count` faults drawn from `space` by `seed` alone.
FaultSchedule random_faults(std::uint64_t seed, std::size_t count, const FaultSpace& space);

// Shrinks a failing schedule: removes faults, then halves delays and jumps, while `fails`
// still says the run fails, until no single step keeps it failing (a 1-minimal schedule).
// `runs` (optional) counts the runs made.
FaultSchedule shrink(const FaultSchedule& failing,
                     const std::function<bool(const FaultSchedule&)>& fails,
                     std::size_t* runs = nullptr);

}  // namespace ukernel::hosted
