// Notification: a word of bits for asynchronous signalling.
//
// signal ORs the capability's badge into the word; wait blocks until the word is non-zero,
// returns it and clears it; poll never blocks. A notification bound to a thread also wakes that
// thread while it waits in kRecv on an endpoint (label kNotificationLabel, bits in the badge),
// so a server needs one blocking call for both kinds of event. Interrupts arrive this way too.
#pragma once

#include "core/thread_queue.hpp"

namespace ukernel::core {

struct Notification : KernelObject {
  static constexpr unsigned kSizeBits = 6;
  word bits = 0;
  ThreadQueue waiters;
  Thread* bound_thread = nullptr;
};
static_assert(sizeof(Notification) <= (std::size_t{1} << Notification::kSizeBits));

void notification_signal(Notification& n, word badge);
Error notification_wait(Thread& t, Notification& n, bool blocking);
// kRecv on an endpoint first takes pending bits of the thread's bound notification.
bool take_bound_bits(Thread& t);

void finalise_notification(Notification& n);

}  // namespace ukernel::core
