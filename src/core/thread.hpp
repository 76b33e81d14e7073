// Thread: the kernel's unit of execution (seL4's TCB, NOVA's EC).
//
// A thread owns its saved user registers, its scheduling parameters, and five capability slots
// of its own: its CSpace root, its address space, its IPC buffer frame, its fault endpoint, and
// the reply capability of the caller it is serving. Holding them as real slots keeps each of
// those objects alive while the thread uses it, and makes them subject to revoke like any other
// capability.
#pragma once

#include <cstdint>

#include "core/arch.hpp"
#include "core/cap.hpp"

namespace ukernel::core {

struct Thread : KernelObject {
  static constexpr unsigned kSizeBits = 11;  // retyped threads take 2 KiB

  ThreadState state = ThreadState::kInactive;
  std::uint8_t priority = 0;
  std::uint32_t id = 0;  // for traces and debugging
  std::uint64_t timeslice_ns = kDefaultTimesliceNs;
  std::uint64_t remaining_ns = kDefaultTimesliceNs;

  // Ready queue or wait queue links (a thread is in at most one queue).
  Thread* queue_next = nullptr;
  Thread* queue_prev = nullptr;
  bool in_ready_queue = false;

  // What the thread is blocked on, if anything.
  Endpoint* blocked_endpoint = nullptr;
  Notification* blocked_notification = nullptr;
  // While blocked on send: the badge of the capability it sent through, whether it may transfer
  // capabilities, and whether it is a call (expects a reply).
  word send_badge = 0;
  bool send_can_grant = false;
  bool send_is_call = false;
  // While blocked on reply: the slot that holds the reply capability naming this thread.
  Slot* reply_cap_slot = nullptr;

  // The fault that stopped the thread, for a hosted resume that must re-raise it.
  FaultKind pending_fault = FaultKind(0);
  word pending_fault_address = 0;

  Notification* bound_notification = nullptr;
  IpcBuffer* ipc_buffer = nullptr;  // the kernel's pointer to it; nullptr: none configured

  Slot cspace_slot;
  Slot address_space_slot;
  Slot ipc_frame_slot;
  Slot fault_endpoint_slot;
  Slot caller_slot;  // the reply capability of the call being served

  // Last: the back-end's Context carries the thread's FP/SIMD save area (832 bytes on x86-64,
  // 528 on AArch64). Ahead of the fields above it pushed them past the reach of AArch64's
  // load/store-pair offsets (504 bytes), which cost the scheduler's paths 3-6 instructions.
  Context context;

  CNode* cspace() const { return cspace_slot.cap.as<CNode>(); }
  AddressSpace* address_space() const { return address_space_slot.cap.as<AddressSpace>(); }
  // The IPC buffer, while the thread still holds its frame: once revoke has deleted that
  // capability, the memory may already hold other kernel objects.
  IpcBuffer* buffer() const { return ipc_frame_slot.empty() ? nullptr : ipc_buffer; }
  bool runnable() const { return state == ThreadState::kRunning; }
};

static_assert(sizeof(Thread) <= (std::size_t{1} << Thread::kSizeBits));

// Status, info and badge a system call returns, written into the thread's registers.
void set_result(Thread& t, Error status);

// Releases the thread from whatever it waits on; its system call returns `status`.
void cancel_ipc(Thread& t, Error status);

// Stops `t` (fault or suspend): cancels its IPC and takes it off the run queue.
void make_inactive(Thread& t);

// Runs the thread's invocation `label` for the current thread.
Error invoke_thread(Thread& target, const Cap& cap, word label, Thread& caller);

// Final clean-up when the last capability to a thread is gone.
void finalise_thread(Thread& t);

}  // namespace ukernel::core
