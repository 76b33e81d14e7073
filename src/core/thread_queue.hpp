// An intrusive queue of threads, kept in priority order and FIFO within a priority.
//
// Endpoints and notifications use it for their waiters; a thread is in at most one queue at a
// time (a wait queue or a ready queue), so one pair of links per thread is enough.
#pragma once

#include "core/thread.hpp"

namespace ukernel::core {

class ThreadQueue {
 public:
  bool empty() const { return head_ == nullptr; }
  Thread* head() const { return head_; }

  // Behind every queued thread of the same or higher priority. Always inlined: the fast path's
  // reply_recv queues its thread with it, and the call cost more than the insertion.
  [[gnu::always_inline]] void insert_by_priority(Thread& t) {
    Thread* after = tail_;
    while (after != nullptr && after->priority < t.priority)
      after = after->queue_prev;
    link_after(t, after);
  }

  void push_back(Thread& t) { link_after(t, tail_); }
  void push_front(Thread& t) { link_after(t, nullptr); }

  Thread* pop_front() {
    Thread* t = head_;
    if (t != nullptr) remove(*t);
    return t;
  }

  void remove(Thread& t) {
    (t.queue_prev ? t.queue_prev->queue_next : head_) = t.queue_next;
    (t.queue_next ? t.queue_next->queue_prev : tail_) = t.queue_prev;
    t.queue_next = t.queue_prev = nullptr;
  }

 private:
  void link_after(Thread& t, Thread* after) {
    t.queue_prev = after;
    t.queue_next = after ? after->queue_next : head_;
    (t.queue_next ? t.queue_next->queue_prev : tail_) = &t;
    (after ? after->queue_next : head_) = &t;
  }

  Thread* head_ = nullptr;
  Thread* tail_ = nullptr;
};

}  // namespace ukernel::core
