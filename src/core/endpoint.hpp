// Endpoint: a synchronous rendezvous between senders and receivers.
//
// Nothing is buffered in the kernel: a sender that finds no receiver waits in the send queue
// with its message still in its own registers and IPC buffer, and the message is copied when a
// receiver arrives (and the other way round). Both queues are priority-ordered, FIFO within a
// priority.
#pragma once

#include "core/thread_queue.hpp"

namespace ukernel::core {

struct Endpoint : KernelObject {
  static constexpr unsigned kSizeBits = 6;
  ThreadQueue senders;
  ThreadQueue receivers;
};
static_assert(sizeof(Endpoint) <= (std::size_t{1} << Endpoint::kSizeBits));

// The system calls on an endpoint, for the current thread `t`. `cap` was looked up and
// type-checked by the caller; these check rights and the message, then act.
Error endpoint_send(Thread& t, Endpoint& ep, const Cap& cap, bool blocking, bool is_call);
Error endpoint_receive(Thread& t, Endpoint& ep, const Cap& cap, bool blocking);

// Answers the caller named by the reply capability in `reply_slot` with `t`'s message.
Error reply_to_caller(Thread& t, Slot& reply_slot);

// Copies t's message (registers and IPC buffer, capabilities through `can_grant`) to `receiver`.
void transfer_message(Thread& sender, Thread& receiver, word badge, bool can_grant);

// Checks that `t`'s outgoing message is well-formed before anything changes.
Error validate_message(Thread& t, MessageInfo info, bool can_grant);

// Sends `t`'s pending fault to `ep` as a call: it waits for the reply (or a restart).
void send_fault(Thread& t, Endpoint& ep, word badge);

void finalise_endpoint(Endpoint& ep);

}  // namespace ukernel::core
