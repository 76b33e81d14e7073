// The IPC fast path: kCall and kReplyRecv between two threads when the message fits in
// registers (or, past them, both threads have IPC buffers) and the partner is waiting and
// should run next.
#pragma once

#include "core/thread.hpp"

namespace ukernel::core {

// Handles system call `number` of the current thread `t` if it qualifies and returns true;
// otherwise changes nothing and returns false, and the general path takes it.
bool fastpath(Thread& t, word number);

}  // namespace ukernel::core
