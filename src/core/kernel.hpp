// The kernel's global state and its entry points.
//
// How a kernel entry works: a back-end saves the user registers into the current thread's
// Context and calls one of the handle_* functions below. The handler acts, and leaves in
// `current()` the thread the back-end must resume (nullptr: nothing is runnable, so idle). The
// kernel keeps nothing on its stack between entries.
//
// Scheduling (fixed priorities, round-robin within one): the current thread is not in a ready
// queue. A thread woken by IPC is either switched to directly (if it should run now) or queued;
// schedule() settles this once, at the end of an entry. A call or a reply that hands the CPU to
// its partner therefore never touches the ready queues ("lazy" in the sense of Benno
// scheduling), and the fast path skips schedule() altogether.
#pragma once

#include <cstdint>

#include "core/arch.hpp"
#include "core/irq.hpp"
#include "core/thread_queue.hpp"

namespace ukernel::core {

inline constexpr std::uint64_t kTickNs = 1'000'000;

// --- the event trace -------------------------------------------------------------------------
// A system call's arguments are its registers on entry (abi.hpp's SysReg); its result is the
// status, info and badge registers the kernel writes back, recorded as a kResult event when they
// are written (which, for a call that blocks, is when it is woken). A fast-path call or
// reply-recv always gives its partner kOk with the caller's info word.
//
// What tracing costs: a back-end says with Machine::kTrace whether its build records a trace at
// all. Without it (the bare-metal images, unless an image asks for a trace build) every
// recording point compiles to nothing. With it, a recording point is one predictable branch on
// the ring pointer while no ring is attached, and the registers it records are read only inside
// that branch, out of line (trace.cpp). The IPC fast path itself has no recording point: the
// kernel entry records a fast-path call once it has returned (handle_syscall).
inline constexpr bool kTraceBuild = Machine::kTrace;

enum class TraceKind : std::uint32_t {
  kSyscall = 1,       // a = syscall number, b = cap, c = info, d = message word 0
  kFastpath = 2,      // a = syscall number, b = cap, c = info, d = message word 0
  kDirectSwitch = 3,  // a = from thread id, b = to thread id; no scheduler pass
  kSchedule = 4,      // a = from thread id, b = chosen thread id (0 = idle)
  kFault = 5,         // a = fault kind, b = address
  kInterrupt = 6,     // a = line
  kTimer = 7,
  kBlock = 8,       // a = new state
  kWake = 9,        // a = woken thread id
  kResult = 10,     // thread = whose result, a = status (Error), b = info, c = badge, d = word 0
  kConfigure = 11,  // thread = the configured thread, a = its address space (physical address)
  kRestart = 12,    // thread = the restarted thread, b = the thread that restarted it
};

struct TraceEvent {
  std::uint64_t time_ns;
  TraceKind kind;
  std::uint32_t thread;  // current thread id at the event (0 = none)
  word a;
  word b;
  word c;
  word d;
};

class Trace {
 public:
  // The back-end provides the buffer; without one, tracing is off.
  void attach(TraceEvent* buffer, std::size_t capacity) {
    buffer_ = buffer;
    capacity_ = capacity;
    count_ = 0;
  }
  bool enabled() const {
    if constexpr (kTraceBuild)
      return buffer_ != nullptr;
    else
      return false;
  }
  // For values the caller already holds; a recording point that reads registers uses the
  // out-of-line helpers below, so that nothing is read while tracing is off.
  void record(TraceKind kind, std::uint32_t thread, word a = 0, word b = 0, word c = 0,
              word d = 0) {
    if (enabled()) [[unlikely]]
      record_event(TraceEvent{0, kind, thread, a, b, c, d});
  }
  std::size_t recorded() const { return count_; }
  const TraceEvent* buffer() const { return buffer_; }
  std::size_t capacity() const { return capacity_; }

 private:
  void record_event(const TraceEvent& event);  // stamps the time
  TraceEvent* buffer_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t count_ = 0;
};

// --- ready queues ----------------------------------------------------------------------------
class ReadyQueues {
 public:
  void enqueue(Thread& t);        // behind threads of the same priority
  void enqueue_front(Thread& t);  // ahead of them (a preempted thread keeps its turn)
  void dequeue(Thread& t);
  // The highest-priority ready thread, or nullptr.
  Thread* highest() const { return top_ < 0 ? nullptr : queues_[top_].head(); }
  // -1 if empty. Kept up to date by enqueue and dequeue, so the IPC fast path reads one word.
  int highest_priority() const { return top_; }
  // The queue of one priority, for debug checks (core/debug/invariants.cpp).
  const ThreadQueue& queue(unsigned priority) const { return queues_[priority]; }

 private:
  void rescan_top();
  ThreadQueue queues_[kPriorityLevels];
  std::uint64_t bitmap_[kPriorityLevels / 64] = {};
  int top_ = -1;
};

// --- the kernel ------------------------------------------------------------------------------
struct Kernel {
  Thread* current = nullptr;
  // What schedule() must do at the end of this entry.
  enum class Action { kResumeCurrent, kSwitchTo, kChooseNew } action = Action::kResumeCurrent;
  Thread* switch_candidate = nullptr;
  AddressSpace* active_space = nullptr;
  ReadyQueues ready;
  IrqLine irq_lines[Machine::kIrqLines];
  Trace trace;
  bool fastpath_enabled = true;
  std::uint32_t next_thread_id = 1;
  std::uint64_t next_tick_ns = 0;
};

Kernel& kernel();
// Back to the state before boot (tests boot many kernels in one process).
void reset_kernel();

// A thread became runnable: run it now if it should preempt, else queue it.
void wake(Thread& t);
// The current thread stops being runnable (it blocked or was suspended).
void current_blocked();
// Settles the scheduling decision of this entry; updates current() and the address space.
void schedule();
// Makes `as` the hardware's address space.
void activate_space(AddressSpace& as);

// Switches straight to `t` (the current thread blocked for it): no scheduler pass. Inline, as
// the last step of the IPC fast path. The caller records the kDirectSwitch event.
[[gnu::always_inline]] inline void direct_switch(Thread& t) {
  Kernel& k = kernel();
  k.current = &t;
  k.action = Kernel::Action::kResumeCurrent;
  AddressSpace* as = t.address_space();
  if (as != nullptr && as != k.active_space) activate_space(*as);
}

// Recording points that read registers (trace.cpp), each behind Trace::enabled().
// A system call as it enters the slow path (kSyscall with its argument registers).
void trace_syscall_registers(const Thread& t, word number);
// A call the fast path completed: kFastpath with `from`'s argument registers (the fast path
// leaves them as they were), then the kDirectSwitch to `to`.
void trace_fastpath_registers(const Thread& from, word number, const Thread& to);
// The result registers the kernel has just written into `t` (kResult).
void trace_result_registers(const Thread& t);

inline void trace_result(const Thread& t) {
  if (kernel().trace.enabled()) [[unlikely]]
    trace_result_registers(t);
}

// Kernel entry points, called by back-ends. See the top of this file.
void handle_syscall();
void handle_fault(FaultKind kind, word address);
void handle_interrupt(unsigned line);
void handle_timer();
// A preemption point the back-end injects (hosted, seeded): the current thread goes behind the
// other ready threads of its priority, as if its timeslice had run out.
void handle_preemption();
inline Thread* current() {
  return kernel().current;
}

// Stops the current thread with a fault and tells its fault endpoint.
void raise_fault(Thread& t, FaultKind kind, word address);

// Writes `text` to the kernel console with a "[kernel] " prefix.
void kernel_log(const char* text);

// --- boot ------------------------------------------------------------------------------------
struct MemoryRegion {
  word paddr;
  word size;
};

// Memory the root task's image occupies (not part of any region), mapped into its space. The
// root task gets a frame capability for each, with `rights` (so it cannot map a read-only page,
// such as the image's boot modules, writable anywhere).
struct RootMapping {
  word vaddr;
  word paddr;
  unsigned size_bits;
  Rights rights;
};

struct BootConfig {
  // The kAbiVersion the root task was built against (ukernel/abi.hpp); boot refuses any other.
  word root_abi_version;
  const MemoryRegion* regions;  // memory the kernel may hand out (becomes untyped)
  std::size_t region_count;
  // Device memory for the root task (device untyped, after the RAM blocks); only a back-end with
  // Machine::kHasDeviceMemory passes any. None may overlap RAM or a device the kernel uses.
  const MemoryRegion* device_regions = nullptr;
  std::size_t device_region_count = 0;
  const RootMapping* image = nullptr;  // frames of the root image (bare metal)
  std::size_t image_count = 0;
  word root_entry;  // root task: instruction pointer, stack pointer
  word root_stack;
  word ipc_buffer_vaddr;  // where the root's IPC buffer is mapped
  word boot_info_vaddr;   // where the BootInfo page is mapped; passed as the root's argument
  // Where the back-end mapped the image's boot modules (among `image`), for BootInfo; 0 if none.
  word modules_vaddr = 0;
  word modules_size = 0;
  // The PCI Express host bridge the back-end found (BootInfo::pci); all zero: none.
  BootInfo::PciHost pci{};
  std::uint8_t root_priority = kMaxPriority;
};

// Resets all kernel state and creates the root task from the first region (the rest becomes
// untyped memory for the root task). Returns false, with a message on the console, if the root
// task was built for another ABI version or the memory is too small. On success current() is
// the root thread.
bool boot(const BootConfig& config);

}  // namespace ukernel::core
