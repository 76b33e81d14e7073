// The kernel invariant checker (see invariants.hpp). Freestanding: its tables are carved from
// the caller's scratch memory, so a bare-metal kernel can run it too.
#include "core/debug/invariants.hpp"

#include <cstdint>

#include "core/endpoint.hpp"
#include "core/kernel.hpp"
#include "core/notification.hpp"

namespace ukernel::core::debug {

void FailureText::set_once(std::string_view what, std::string_view detail) {
  if (size_ != 0) return;
  for (std::string_view part : {what, detail}) {
    for (char c : part) {
      if (size_ + 1 < sizeof text_) text_[size_++] = c;
    }
  }
  text_[size_] = 0;
}

namespace {

// Scratch memory handed out front to back; what a grown table leaves behind is not reused (a
// doubling table wastes at most what it ends with).
class Arena {
 public:
  explicit Arena(std::span<std::byte> memory) : next_(memory.data()), end_(next_ + memory.size()) {}
  // n zeroed T's, or nullptr (and exhausted() from then on) when they do not fit.
  template <class T>
  T* take(std::size_t n) {
    auto at = reinterpret_cast<std::uintptr_t>(next_);
    std::uintptr_t aligned = (at + alignof(T) - 1) & ~std::uintptr_t{alignof(T) - 1};
    auto available = static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(end_) - at);
    if (exhausted_ || aligned - at > available || n > (available - (aligned - at)) / sizeof(T)) {
      exhausted_ = true;
      return nullptr;
    }
    auto* p = reinterpret_cast<T*>(aligned);
    for (std::size_t i = 0; i < n; ++i)
      p[i] = T{};
    next_ = reinterpret_cast<std::byte*>(p + n);
    return p;
  }
  bool exhausted() const { return exhausted_; }

 private:
  std::byte* next_;
  std::byte* end_;
  bool exhausted_ = false;
};

// A set of pointers: open addressing in one array that doubles when half full. index() is a
// pointer's position, stable once the set stops growing (for tables kept beside it).
class PointerSet {
 public:
  static constexpr std::size_t kAbsent = ~std::size_t{0};

  PointerSet(Arena& arena, std::size_t capacity_hint) : arena_(arena) {
    std::size_t n = 64;
    while (n < 2 * capacity_hint)
      n *= 2;
    table_ = arena_.take<const void*>(n);
    capacity_ = table_ != nullptr ? n : 0;
  }
  // True if `p` was not in the set (false too when the arena ran out: the walk stops growing).
  bool insert(const void* p) {
    if (2 * (size_ + 1) > capacity_ && !grow()) return false;
    const void** at = find(p);
    if (*at != nullptr) return false;
    *at = p;
    ++size_;
    return true;
  }
  bool contains(const void* p) const { return index(p) != kAbsent; }
  std::size_t index(const void* p) const {
    if (capacity_ == 0) return kAbsent;
    const void** at = const_cast<PointerSet*>(this)->find(p);
    return *at != nullptr ? static_cast<std::size_t>(at - table_) : kAbsent;
  }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < capacity_; ++i) {
      if (table_[i] != nullptr) f(table_[i]);
    }
  }

 private:
  const void** find(const void* p) {
    std::size_t mask = capacity_ - 1;
    std::size_t i = (reinterpret_cast<std::uintptr_t>(p) >> 4) * 0x9e3779b97f4a7c15ull & mask;
    while (table_[i] != nullptr && table_[i] != p)
      i = (i + 1) & mask;
    return &table_[i];
  }
  bool grow() {
    std::size_t n = capacity_ != 0 ? 2 * capacity_ : 64;
    const void** bigger = arena_.take<const void*>(n);
    if (bigger == nullptr) return false;
    const void** old = table_;
    std::size_t old_capacity = capacity_;
    table_ = bigger;
    capacity_ = n;
    size_ = 0;
    for (std::size_t i = 0; i < old_capacity; ++i) {
      if (old[i] != nullptr) *find(old[i]) = old[i], ++size_;
    }
    return true;
  }
  Arena& arena_;
  const void** table_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

// The walk's stack of slots still to look at, doubling like the sets.
class SlotStack {
 public:
  explicit SlotStack(Arena& arena) : arena_(arena) {}
  void push(Slot* s) {
    if (size_ == capacity_) {
      std::size_t n = capacity_ != 0 ? 2 * capacity_ : 1024;
      Slot** bigger = arena_.take<Slot*>(n);
      if (bigger == nullptr) return;  // the arena is exhausted: the report says so
      for (std::size_t i = 0; i < size_; ++i)
        bigger[i] = items_[i];
      items_ = bigger;
      capacity_ = n;
    }
    items_[size_++] = s;
  }
  bool empty() const { return size_ == 0; }
  Slot* pop() { return items_[--size_]; }

 private:
  Arena& arena_;
  Slot** items_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

class Checker {
 public:
  explicit Checker(std::span<std::byte> scratch) : arena_(scratch) {}

  InvariantReport run(CNode& root) {
    walk(root);
    // Per object, beside the object set (which no longer grows): capabilities that name it,
    // queues it sits in.
    cap_refs_ = arena_.take<std::uint32_t>(objects_.capacity());
    membership_ = arena_.take<std::uint32_t>(objects_.capacity());
    if (arena_.exhausted()) {
      report_.scratch_too_small = true;
      report_.failure = FailureText{};
      fail("checker: scratch memory too small");
      return report_;
    }
    check_tree();
    check_counts();
    check_threads();
    report_.slots = slots_.size();
    report_.objects = objects_.size();
    return report_;
  }

 private:
  void fail(std::string_view what, std::string_view detail = {}) {
    report_.failure.set_once(what, detail);
  }
  void visit(Slot* s) {
    if (s != nullptr && slots_.insert(s)) pending_.push(s);
  }
  void walk(CNode& root) {
    add_object(&root);
    while (!pending_.empty()) {
      Slot* s = pending_.pop();
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
      ++report_.threads;
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
    slots_.for_each([&](const void* p) {
      const Slot* s = static_cast<const Slot*>(p);
      // Every counted capability's object was added by the walk.
      if (is_counted(s->cap.type)) ++cap_refs_[objects_.index(s->cap.as<KernelObject>())];
    });
    objects_.for_each([&](const void* p) {
      const auto* o = static_cast<const KernelObject*>(p);
      if (o->cap_count != cap_refs_[objects_.index(o)])
        fail("cap_count differs from the capabilities that name it");
      if (o->zombie_next != nullptr) fail("an object is still on the finalisation list");
    });
  }

  void note_queue(const ThreadQueue& q, ThreadState state, const void* owner, const char* what) {
    std::uint8_t last_priority = 255;
    bool ordered = owner != nullptr;  // wait queues are in priority order
    std::size_t length = 0;
    for (const Thread* t = q.head(); t != nullptr; t = t->queue_next) {
      if (++length > objects_.size()) {
        fail(what, ": a cycle");
        return;
      }
      if (t->queue_next && t->queue_next->queue_prev != t) fail(what, ": bad links");
      std::size_t at = objects_.index(t);
      if (at == PointerSet::kAbsent) {
        fail(what, ": holds a thread that no longer exists");
      } else if (++membership_[at] > 1) {
        fail("a thread sits in two queues");
      }
      if (t->state != state) fail(what, ": holds a thread in another state");
      if (ordered && t->priority > last_priority) fail(what, ": not in priority order");
      last_priority = t->priority;
      if (state == ThreadState::kBlockedOnSend || state == ThreadState::kBlockedOnRecv) {
        if (t->blocked_endpoint != owner) fail(what, ": blocked_endpoint differs");
      } else if (state == ThreadState::kBlockedOnNotification) {
        if (t->blocked_notification != owner) fail(what, ": blocked_notification differs");
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
      std::size_t at = objects_.index(k.current);
      if (at == PointerSet::kAbsent) fail("current: a thread that no longer exists");
      if (!k.current->runnable()) fail("current: not runnable after a kernel entry");
      if (at != PointerSet::kAbsent && membership_[at] != 0) fail("current: also in a queue");
    }
    objects_.for_each([&](const void* p) {
      if (static_cast<const KernelObject*>(p)->type == ObjectType::kThread)
        check_thread(*static_cast<const Thread*>(p));
    });
  }

  void check_thread(const Thread& thread) {
    Kernel& k = kernel();
    const Thread* t = &thread;
    bool queued = membership_[objects_.index(t)] != 0;
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
        if (t->reply_cap_slot != nullptr && (!slots_.contains(t->reply_cap_slot) ||
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

  Arena arena_;
  PointerSet slots_{arena_, 8192};
  SlotStack pending_{arena_};
  PointerSet objects_{arena_, 256};
  std::uint32_t* cap_refs_ = nullptr;
  std::uint32_t* membership_ = nullptr;
  InvariantReport report_;
};

}  // namespace

InvariantReport check_invariants(CNode& root, std::span<std::byte> scratch) {
  return Checker(scratch).run(root);
}

}  // namespace ukernel::core::debug
