// I/O ports as capabilities. An IoPorts capability names a range of ports, not memory: its
// Cap::object is the first port and its Cap::badge the number of ports (the range
// [object, object + badge), never empty). Port accesses are system calls (kIoPortsRead,
// kIoPortsWrite) that the kernel makes on the thread's behalf after checking the range, so a
// thread never gets the hardware right to `in`/`out` itself; kIoPortsIssue makes a child
// capability for a sub-range, which revoking the parent takes away.
//
// Only a back-end with I/O ports (Machine::kHasIoPorts, x86-64) has such capabilities: the boot
// gives the root task one for all kIoPortCount ports. Elsewhere every invocation is
// kIllegalOperation.
#pragma once

#include "core/arch.hpp"
#include "core/cap.hpp"

namespace ukernel::core {

struct Thread;

// Whether [sub_first, sub_first + sub_count) is a non-empty part of [first, first + count).
// Written so that huge user values cannot wrap around (io_ports.cpp checks the edges).
constexpr bool io_range_contains(word first, word count, word sub_first, word sub_count) {
  return sub_first >= first && sub_first - first < count && sub_count != 0 &&
         sub_count <= count - (sub_first - first);
}

// The capability for ports [first, first + count).
Cap io_ports_cap(word first, word count);

Error invoke_io_ports(Slot& slot, word label, Thread& caller);

}  // namespace ukernel::core
