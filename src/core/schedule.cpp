// Ready queues, the scheduling decision at the end of a kernel entry, and the timer tick.
#include <bit>

#include "core/address_space.hpp"
#include "core/kernel.hpp"

namespace ukernel::core {

namespace {

Kernel g_kernel;

void set_bit(std::uint64_t* bitmap, unsigned prio) {
  bitmap[prio / 64] |= 1ull << (prio % 64);
}
void clear_bit(std::uint64_t* bitmap, unsigned prio) {
  bitmap[prio / 64] &= ~(1ull << (prio % 64));
}

void switch_space(Thread* t) {
  if (t == nullptr) return;
  AddressSpace* as = t->address_space();
  if (as != nullptr && as != kernel().active_space) activate_space(*as);
}

std::uint32_t id_of(const Thread* t) {
  return t ? t->id : 0;
}

}  // namespace

Kernel& kernel() {
  return g_kernel;
}

void reset_kernel() {
  g_kernel = Kernel{};
}

void activate_space(AddressSpace& as) {
  Machine::activate(as.page_table);
  kernel().active_space = &as;
}

void ReadyQueues::enqueue(Thread& t) {
  queues_[t.priority].push_back(t);
  set_bit(bitmap_, t.priority);
  if (int(t.priority) > top_) top_ = t.priority;
  t.in_ready_queue = true;
}

void ReadyQueues::enqueue_front(Thread& t) {
  queues_[t.priority].push_front(t);
  set_bit(bitmap_, t.priority);
  if (int(t.priority) > top_) top_ = t.priority;
  t.in_ready_queue = true;
}

void ReadyQueues::dequeue(Thread& t) {
  queues_[t.priority].remove(t);
  if (queues_[t.priority].empty()) {
    clear_bit(bitmap_, t.priority);
    if (int(t.priority) == top_) rescan_top();
  }
  t.in_ready_queue = false;
}

void ReadyQueues::rescan_top() {
  top_ = -1;
  for (int i = int(kPriorityLevels / 64) - 1; i >= 0; --i) {
    if (bitmap_[i] != 0) {
      top_ = i * 64 + 63 - std::countl_zero(bitmap_[i]);
      return;
    }
  }
}

void wake(Thread& t) {
  Kernel& k = kernel();
  t.state = ThreadState::kRunning;
  k.trace.record(TraceKind::kWake, id_of(k.current), t.id);
  // The current thread stopped and was woken again within one entry (a thread that restarts
  // itself): it stays current and in no queue; schedule() settles whether it keeps the CPU, and
  // queues it if not. Queueing it here too would put it in the ready queue twice.
  if (&t == k.current) return;
  // A thread woken while the current one blocks (the partner of a call or a reply) becomes
  // the candidate for a direct switch; schedule() takes it if nothing ready outranks it.
  if (k.action != Kernel::Action::kSwitchTo) {
    if (k.current == nullptr || !k.current->runnable() || t.priority > k.current->priority) {
      k.action = Kernel::Action::kSwitchTo;
      k.switch_candidate = &t;
      return;
    }
  } else if (k.action == Kernel::Action::kSwitchTo && t.priority > k.switch_candidate->priority) {
    k.ready.enqueue(*k.switch_candidate);
    k.switch_candidate = &t;
    return;
  }
  k.ready.enqueue(t);
}

void current_blocked() {
  Kernel& k = kernel();
  if (k.action == Kernel::Action::kResumeCurrent) k.action = Kernel::Action::kChooseNew;
}

void schedule() {
  Kernel& k = kernel();
  Thread* prev = k.current;
  switch (k.action) {
    case Kernel::Action::kResumeCurrent:
      if (prev != nullptr && prev->runnable()) return;
      break;
    case Kernel::Action::kSwitchTo: {
      Thread* t = k.switch_candidate;
      bool prev_runs = prev != nullptr && prev->runnable();
      if (t->priority >= k.ready.highest_priority() &&
          (!prev_runs || t->priority > prev->priority)) {
        if (prev_runs && prev->remaining_ns == 0) {
          prev->remaining_ns = prev->timeslice_ns;  // it yielded or its slice ran out
          k.ready.enqueue(*prev);
        } else if (prev_runs) {
          k.ready.enqueue_front(*prev);  // preempted: it keeps its turn
        }
        k.action = Kernel::Action::kResumeCurrent;
        k.switch_candidate = nullptr;
        if (t != prev) {
          k.trace.record(TraceKind::kDirectSwitch, id_of(prev), id_of(prev), t->id);
          direct_switch(*t);
        }
        return;
      }
      k.ready.enqueue(*t);
      break;
    }
    case Kernel::Action::kChooseNew:
      break;
  }
  k.action = Kernel::Action::kResumeCurrent;
  k.switch_candidate = nullptr;
  if (prev != nullptr && prev->runnable() && !prev->in_ready_queue) {
    // Stays current unless someone of higher priority (or, after its slice ran out, of the same
    // priority) is waiting.
    int top = k.ready.highest_priority();
    bool expired = prev->remaining_ns == 0;
    if (expired) prev->remaining_ns = prev->timeslice_ns;
    if (top < int(prev->priority) || (top == int(prev->priority) && !expired)) return;
    k.ready.enqueue(*prev);
  }
  Thread* next = k.ready.highest();
  if (next != nullptr) k.ready.dequeue(*next);
  k.trace.record(TraceKind::kSchedule, id_of(prev), id_of(prev), id_of(next));
  k.current = next;
  switch_space(next);
}

void handle_timer() {
  Kernel& k = kernel();
  k.trace.record(TraceKind::kTimer, id_of(k.current));
  std::uint64_t now = Machine::now_ns();
  while (k.next_tick_ns <= now)
    k.next_tick_ns += kTickNs;
  Machine::timer_arm(k.next_tick_ns);
  Thread* t = k.current;
  if (t == nullptr || !t->runnable()) return;
  t->remaining_ns = t->remaining_ns > kTickNs ? t->remaining_ns - kTickNs : 0;
  if (t->remaining_ns == 0) {
    // Round-robin: the slice is used up; schedule() refills it and puts it behind its peers.
    k.action = Kernel::Action::kChooseNew;
  }
  schedule();
}

void handle_preemption() {
  Kernel& k = kernel();
  Thread* t = k.current;
  if (t != nullptr && t->runnable()) {
    t->remaining_ns = 0;
    if (k.action == Kernel::Action::kResumeCurrent) k.action = Kernel::Action::kChooseNew;
  }
  schedule();
}

}  // namespace ukernel::core
