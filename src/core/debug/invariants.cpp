// The kernel invariant checker (see invariants.hpp). Host-only: it may allocate.
#include "core/debug/invariants.hpp"

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/endpoint.hpp"
#include "core/kernel.hpp"
#include "core/notification.hpp"

namespace ukernel::core::debug {

namespace {

// A set of pointers: open addressing in one array, so that a check makes no allocation per
// element (the fuzzer runs one after every input, under ASan, whose malloc is slow).
class PointerSet {
 public:
  explicit PointerSet(std::size_t capacity_hint) {
    std::size_t n = 64;
    while (n < 2 * capacity_hint)
      n *= 2;
    table_.assign(n, nullptr);
  }
  bool insert(const void* p) {
    if (2 * (size_ + 1) > table_.size()) grow();
    const void** at = find(p);
    if (*at != nullptr) return false;
    *at = p;
    ++size_;
    return true;
  }
  std::size_t count(const void* p) const {
    return *const_cast<PointerSet*>(this)->find(p) != nullptr;
  }
  std::size_t size() const { return size_; }
  template <class F>
  void for_each(F&& f) const {
    for (const void* p : table_) {
      if (p != nullptr) f(p);
    }
  }

 private:
  const void** find(const void* p) {
    std::size_t mask = table_.size() - 1;
    std::size_t i = (reinterpret_cast<std::uintptr_t>(p) >> 4) * 0x9e3779b97f4a7c15ull & mask;
    while (table_[i] != nullptr && table_[i] != p)
      i = (i + 1) & mask;
    return &table_[i];
  }
  void grow() {
    std::vector<const void*> old = std::move(table_);
    table_.assign(old.size() * 2, nullptr);
    size_ = 0;
    for (const void* p : old) {
      if (p != nullptr) insert(p);
    }
  }
  std::vector<const void*> table_;
  std::size_t size_ = 0;
};

class Checker {
 public:
  InvariantReport run(CNode& root) {
    walk(root);
    check_tree();
    check_counts();
    check_threads();
    report_.slots = slots_.size();
    report_.objects = objects_.size();
    report_.threads = threads_.size();
    return report_;
  }

 private:
  void fail(const std::string& what) {
    if (report_.failure.empty()) report_.failure = what;
  }
  void visit(Slot* s) {
    if (s != nullptr && slots_.insert(s)) pending_.push_back(s);
  }
  void walk(CNode& root) {
    add_object(&root);
    while (!pending_.empty()) {
      Slot* s = pending_.back();
      pending_.pop_back();
      visit(s->parent);
      visit(s->first_child);
      visit(s->next_sibling);
      visit(s->prev_sibling);
      if (is_counted(s->cap.type)) add_object(s->cap.as<KernelObject>());
    }
  }
  void add_object(KernelObject* o) {
    if (!objects_.insert(o)) return;
    if (o->type == ObjectType::kCNode) {
      auto* node = static_cast<CNode*>(o);
      for (std::size_t i = 1; i < node->slot_count(); ++i)
        visit(node->slot(i));
    } else if (o->type == ObjectType::kThread) {
      auto* t = static_cast<Thread*>(o);
      threads_.push_back(t);
      for (Slot* own : {&t->cspace_slot, &t->address_space_slot, &t->ipc_frame_slot,
                        &t->fault_endpoint_slot, &t->caller_slot})
        visit(own);
    }
  }

  void check_tree() {
    slots_.for_each([&](const void* p) { check_slot(*static_cast<const Slot*>(p)); });
  }
  void check_slot(const Slot& slot) {
    const Slot* s = &slot;
    {
      if (s->empty()) {
        if (s->parent || s->first_child || s->next_sibling || s->prev_sibling)
          fail("an empty slot is still linked into the derivation tree");
        return;
      }
      if (s->next_sibling && s->next_sibling->prev_sibling != s)
        fail("derivation tree: next_sibling->prev_sibling is not the slot");
      if (s->prev_sibling && s->prev_sibling->next_sibling != s)
        fail("derivation tree: prev_sibling->next_sibling is not the slot");
      if (s->prev_sibling && s->prev_sibling->parent != s->parent)
        fail("derivation tree: siblings with different parents");
      if (s->parent && !s->prev_sibling && s->parent->first_child != s)
        fail("derivation tree: the first sibling is not its parent's first child");
      if (s->parent && s->parent->empty()) fail("derivation tree: the parent slot is empty");
      if (s->first_child && s->first_child->parent != s)
        fail("derivation tree: first_child->parent is not the slot");
      if (s->parent && s->parent->cap.type == ObjectType::kUntyped) check_untyped_child(*s);
    }
  }

  // A capability made by retype from the untyped capability that is its parent (or a copy that
  // moved up when the original was deleted) lies in the untyped's memory, below its watermark.
  void check_untyped_child(const Slot& s) {
    ++report_.untyped_children;
    const Cap& u = s.parent->cap;
    word watermark = u.badge;
    if (watermark > (word{1} << u.size_bits)) fail("untyped: watermark past the end");
    if (s.cap.type == ObjectType::kUntyped || s.cap.type == ObjectType::kFrame) {
      word size = word{1} << s.cap.size_bits;
      if (s.cap.object < u.object || s.cap.object + size > u.object + watermark)
        fail("untyped: a child's memory is outside its parent's, or above its watermark");
      return;
    }
    if (!is_counted(s.cap.type)) {
      fail("untyped: a child of an untyped capability that retype cannot make");
      return;
    }
    auto* base = static_cast<std::byte*>(Machine::kernel_pointer(u.object));
    auto* at = reinterpret_cast<std::byte*>(s.cap.object);
    if (at < base || at >= base + watermark)
      fail("untyped: an object outside its untyped's memory, or above its watermark");
  }

  void check_counts() {
    std::unordered_map<const KernelObject*, std::uint32_t> count;
    count.reserve(objects_.size());
    slots_.for_each([&](const void* p) {
      const Slot* s = static_cast<const Slot*>(p);
      if (is_counted(s->cap.type)) ++count[s->cap.as<KernelObject>()];
    });
    objects_.for_each([&](const void* p) {
      const auto* o = static_cast<const KernelObject*>(p);
      if (o->cap_count != count[o]) fail("cap_count differs from the capabilities that name it");
      if (o->zombie_next != nullptr) fail("an object is still on the finalisation list");
    });
  }

  void note_queue(const ThreadQueue& q, ThreadState state, const void* owner, const char* what) {
    std::uint8_t last_priority = 255;
    bool ordered = owner != nullptr;  // wait queues are in priority order
    std::size_t length = 0;
    for (const Thread* t = q.head(); t != nullptr; t = t->queue_next) {
      if (++length > objects_.size()) {
        fail(std::string(what) + ": a cycle");
        return;
      }
      if (t->queue_next && t->queue_next->queue_prev != t) fail(std::string(what) + ": bad links");
      if (!objects_.count(t)) fail(std::string(what) + ": holds a thread that no longer exists");
      if (++membership_[t] > 1) fail("a thread sits in two queues");
      if (t->state != state) fail(std::string(what) + ": holds a thread in another state");
      if (ordered && t->priority > last_priority)
        fail(std::string(what) + ": not in priority order");
      last_priority = t->priority;
      if (state == ThreadState::kBlockedOnSend || state == ThreadState::kBlockedOnRecv) {
        if (t->blocked_endpoint != owner) fail(std::string(what) + ": blocked_endpoint differs");
      } else if (state == ThreadState::kBlockedOnNotification) {
        if (t->blocked_notification != owner)
          fail(std::string(what) + ": blocked_notification differs");
      }
    }
  }

  void check_threads() {
    Kernel& k = kernel();
    for (unsigned p = 0; p < kPriorityLevels; ++p) {
      note_queue(k.ready.queue(p), ThreadState::kRunning, nullptr, "ready queue");
      // Bounded as note_queue is: a cycle is reported there and must not hang this walk.
      std::size_t steps = 0;
      for (const Thread* t = k.ready.queue(p).head(); t != nullptr && steps < objects_.size();
           t = t->queue_next, ++steps) {
        if (t->priority != p) fail("ready queue: a thread in another priority's queue");
        if (!t->in_ready_queue) fail("ready queue: in_ready_queue is false");
      }
    }
    objects_.for_each([&](const void* p) {
      const auto* o = static_cast<const KernelObject*>(p);
      if (o->type == ObjectType::kEndpoint) {
        auto* ep = static_cast<const Endpoint*>(o);
        note_queue(ep->senders, ThreadState::kBlockedOnSend, ep, "endpoint senders");
        note_queue(ep->receivers, ThreadState::kBlockedOnRecv, ep, "endpoint receivers");
      } else if (o->type == ObjectType::kNotification) {
        auto* n = static_cast<const Notification*>(o);
        note_queue(n->waiters, ThreadState::kBlockedOnNotification, n, "notification waiters");
        if (n->bound_thread && n->bound_thread->bound_notification != n)
          fail("binding: the notification's thread is bound elsewhere");
      }
    });
    if (k.current != nullptr) {
      if (!objects_.count(k.current)) fail("current: a thread that no longer exists");
      if (!k.current->runnable()) fail("current: not runnable after a kernel entry");
      if (membership_.count(k.current)) fail("current: also in a queue");
    }
    for (const Thread* t : threads_) {
      bool queued = membership_.count(t) != 0;
      if (t->in_ready_queue && !queued) fail("in_ready_queue set, but in no ready queue");
      switch (t->state) {
        case ThreadState::kRunning:
          if (t != k.current && !t->in_ready_queue)
            fail("a runnable thread is neither current nor ready");
          break;
        case ThreadState::kBlockedOnSend:
        case ThreadState::kBlockedOnRecv:
        case ThreadState::kBlockedOnNotification:
          if (!queued) fail("a blocked thread is in no queue");
          break;
        case ThreadState::kBlockedOnReply:
          if (queued) fail("a thread waiting for a reply is in a queue");
          if (t->reply_cap_slot != nullptr && (!slots_.count(t->reply_cap_slot) ||
                                               t->reply_cap_slot->cap.type != ObjectType::kReply ||
                                               t->reply_cap_slot->cap.as<Thread>() != t))
            fail("a thread waiting for a reply: its reply capability does not name it");
          break;
        default:
          if (queued) fail("an inactive thread is in a queue");
          break;
      }
      if (t->bound_notification && t->bound_notification->bound_thread != t)
        fail("binding: the thread's notification is bound to another thread");
    }
  }

  PointerSet slots_{8192};
  std::vector<Slot*> pending_;
  PointerSet objects_{256};
  std::vector<const Thread*> threads_;
  std::unordered_map<const Thread*, unsigned> membership_;
  InvariantReport report_;
};

}  // namespace

InvariantReport check_invariants(CNode& root) {
  return Checker{}.run(root);
}

}  // namespace ukernel::core::debug
