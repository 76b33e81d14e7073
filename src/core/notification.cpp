// Notifications: signal, wait, poll, and delivery to a bound thread.
#include "core/notification.hpp"

#include "core/endpoint.hpp"
#include "core/kernel.hpp"

namespace ukernel::core {

namespace {

void deliver_bits(Thread& t, word bits, word label) {
  t.context.set(SysReg::kStatus, word(Error::kOk));
  t.context.set(SysReg::kInfo, MessageInfo(label, 0).raw());
  t.context.set(SysReg::kBadge, bits);
  trace_result(t);
}

}  // namespace

void notification_signal(Notification& n, word badge) {
  if (Thread* w = n.waiters.pop_front()) {
    w->blocked_notification = nullptr;
    deliver_bits(*w, n.bits | badge, 0);
    n.bits = 0;
    wake(*w);
    return;
  }
  Thread* b = n.bound_thread;
  if (b != nullptr && b->state == ThreadState::kBlockedOnRecv) {
    b->blocked_endpoint->receivers.remove(*b);
    b->blocked_endpoint = nullptr;
    deliver_bits(*b, n.bits | badge, kNotificationLabel);
    n.bits = 0;
    wake(*b);
    return;
  }
  n.bits |= badge;
}

Error notification_wait(Thread& t, Notification& n, bool blocking) {
  if (n.bits != 0 || !blocking) {
    deliver_bits(t, n.bits, 0);
    n.bits = 0;
    return Error::kOk;
  }
  t.state = ThreadState::kBlockedOnNotification;
  t.blocked_notification = &n;
  n.waiters.insert_by_priority(t);
  current_blocked();
  return Error::kOk;
}

bool take_bound_bits(Thread& t) {
  Notification* n = t.bound_notification;
  if (n == nullptr || n->bits == 0) return false;
  deliver_bits(t, n->bits, kNotificationLabel);
  n->bits = 0;
  return true;
}

void finalise_notification(Notification& n) {
  while (Thread* t = n.waiters.head())
    cancel_ipc(*t, Error::kCancelled), wake(*t);
  if (n.bound_thread != nullptr) {
    n.bound_thread->bound_notification = nullptr;
    n.bound_thread = nullptr;
  }
}

}  // namespace ukernel::core
