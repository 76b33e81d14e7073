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
enum class TraceKind : std::uint32_t {
  kSyscall = 1,       // a = syscall number
  kFastpath = 2,      // a = syscall number (handled by the fast path)
  kDirectSwitch = 3,  // a = from thread id, b = to thread id; no scheduler pass
  kSchedule = 4,      // a = from thread id, b = chosen thread id (0 = idle)
  kFault = 5,         // a = fault kind, b = address
  kInterrupt = 6,     // a = line
  kTimer = 7,
  kBlock = 8,  // a = new state
  kWake = 9,   // a = woken thread id
};

struct TraceEvent {
  std::uint64_t time_ns;
  TraceKind kind;
  std::uint32_t thread;  // current thread id at the event (0 = none)
  word a;
  word b;
};

class Trace {
 public:
  // The back-end provides the buffer; without one, tracing is off and costs one branch.
  void attach(TraceEvent* buffer, std::size_t capacity) {
    buffer_ = buffer;
    capacity_ = capacity;
    count_ = 0;
  }
  bool enabled() const { return buffer_ != nullptr; }
  // One predictable branch when tracing is off; the recording itself is out of line.
  void record(TraceKind kind, std::uint32_t thread, word a = 0, word b = 0) {
    if (buffer_ != nullptr) [[unlikely]]
      record_event(kind, thread, a, b);
  }
  std::size_t recorded() const { return count_; }
  const TraceEvent* buffer() const { return buffer_; }
  std::size_t capacity() const { return capacity_; }

 private:
  void record_event(TraceKind kind, std::uint32_t thread, word a, word b);
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
// the last step of the IPC fast path.
[[gnu::always_inline]] inline void direct_switch(Thread& t) {
  Kernel& k = kernel();
  if (k.trace.enabled()) [[unlikely]] {
    std::uint32_t from = k.current ? k.current->id : 0;
    k.trace.record(TraceKind::kDirectSwitch, from, from, t.id);
  }
  k.current = &t;
  k.action = Kernel::Action::kResumeCurrent;
  AddressSpace* as = t.address_space();
  if (as != nullptr && as != k.active_space) activate_space(*as);
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
// untyped memory for the root task). Returns false, with a message on the console, if the
// memory is too small. On success current() is the root thread.
bool boot(const BootConfig& config);

}  // namespace ukernel::core
