// The hosted back-end's process-wide state: the virtual machine one Simulation runs.
#pragma once

#include <boost/context/detail/fcontext.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "arch/machine.hpp"
#include "core/kernel.hpp"
#include "ukernel/hosted/bus.hpp"
#include "ukernel/hosted/faults.hpp"

namespace ukernel::arch {

namespace ctx = boost::context::detail;

struct HostedFiber {
  ctx::fcontext_t context = nullptr;  // where to resume it; nullptr until it first runs
  void* stack = nullptr;              // mapping base (the lowest page is a guard page)
  std::size_t stack_bytes = 0;
  word entry = 0;
  word arg = 0;
  bool dead = false;  // stopped by a hardware fault: it never runs again
  FaultKind fault = FaultKind(0);
  word fault_address = 0;
  HostedFiber* next_live = nullptr;
};

// Something due at a virtual time: an interrupt line to raise, or a device model's work
// (Bus::at). The idle path jumps the clock to the first one; events due at the same time run in
// the order they were scheduled, so a seed fixes every interleaving.
inline constexpr unsigned kNoLine = ~0u;
struct Event {
  std::uint64_t time_ns;
  std::uint64_t sequence;  // keeps events at the same time in the order they were scheduled
  unsigned line;           // kNoLine: run `work` instead
  std::function<void()> work;
};

// A device model attached to a physical range of the device window.
struct DeviceAttachment {
  word base;
  word bytes;
  hosted::MmioDevice* device;
};

struct FaultState;  // faults.cpp

struct HostedState {
  // Physical memory.
  std::byte* memory = nullptr;
  std::size_t memory_bytes = 0;
  // Clock and devices.
  std::uint64_t now_ns = 0;
  std::uint64_t timer_deadline_ns = 0;  // 0: disarmed
  std::uint64_t limit_ns = 0;
  std::uint64_t stop_ns = ~std::uint64_t{0};  // limit_ns, or never
  std::uint64_t syscall_cost_ns = 100;
  word root_abi_version = kAbiVersion;  // SimulationConfig::root_abi_version
  bool irq_masked[Machine::kIrqLines] = {};
  bool irq_pending[Machine::kIrqLines] = {};
  unsigned irq_pending_count = 0;  // lines with irq_pending set: most kernel exits scan none
  std::vector<Event> events;       // in (time, sequence) order
  std::uint64_t event_sequence = 0;
  std::vector<DeviceAttachment> devices;
  std::uint64_t dropped_msis = 0;
  // Randomness (only for preemption points; a seed fixes every choice).
  std::uint64_t rng = 0;
  unsigned preempt_one_in = 0;
  // Console.
  std::string console;
  bool echo_console = false;
  // Fibers.
  HostedFiber* running = nullptr;  // nullptr: the driver's own context
  ctx::fcontext_t main_context = nullptr;
  const void* main_stack_bottom = nullptr;
  std::size_t main_stack_size = 0;
  HostedFiber* retired = nullptr;  // to free once the CPU has left its stack
  HostedFiber* live = nullptr;     // every fiber, to free them all at the end
  bool in_user = false;
  bool quiescent = false;  // the last run stopped because nothing could ever run again
  // Trace.
  std::vector<core::TraceEvent> trace;
  // Fault injection (faults.cpp): nullptr unless a schedule is armed, so that a kernel entry
  // and an interrupt pay one predictable branch for it.
  FaultState* faults = nullptr;
  // The images the trace has named, in the order it first named them: a host address inside
  // one is recorded as its number and offset (Machine::trace_word, ukernel/hosted/trace.hpp).
  std::vector<std::string> trace_images;
};

HostedState& hosted();

// Switches to whatever the kernel chose to run; returns when `self` (nullptr: the driver's
// context) runs again. Never returns if `self` is dead or retired.
void dispatch(HostedFiber* self);

// Queues an event at `at_ns` behind every event already due then.
void schedule_event(HostedState& s, std::uint64_t at_ns, unsigned line,
                    std::function<void()> work = {});

// Stops the current thread with a fault, as if its last instruction had faulted at `ip` (an
// MMIO access the hosted bus refuses); its fault endpoint hears of it. Never returns.
[[noreturn]] void fault_current_thread(FaultKind kind, word address, word ip);

// Queues an event as schedule_event does, past fault injection.
void insert_event(HostedState& s, std::uint64_t at_ns, unsigned line, std::function<void()> work);

// Fault injection (faults.cpp). arm_faults keeps a reference to `schedule` until disarm_faults.
void arm_faults(HostedState& s, const hosted::FaultSchedule& schedule);
void disarm_faults(HostedState& s);
const std::string& fault_log();  // what fired, one line each
// At a kernel entry while armed: kills the current thread (never returns) if a fault says so;
// true if its call is to be delayed.
bool fault_at_syscall(HostedState& s);
// When interrupt `line` is raised at `at_ns` while armed: false to drop it; may move `at_ns`
// and queue a duplicate.
bool fault_at_interrupt(HostedState& s, unsigned line, std::uint64_t& at_ns);
// When the block device model takes a request while armed: true to fail it with an I/O error;
// may add to `delay_ns`.
bool fault_at_block_request(HostedState& s, std::uint64_t& delay_ns);
// When the network device model sends or receives a frame while armed: true to lose it.
bool fault_at_net_frame(HostedState& s);

void free_all_fibers();
void install_fault_handlers();
void remove_fault_handlers();

std::uint64_t next_random();

}  // namespace ukernel::arch
