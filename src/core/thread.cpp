// Threads: state changes, cancelling IPC, and the thread invocations.
#include "core/thread.hpp"

#include "core/address_space.hpp"
#include "core/cnode.hpp"
#include "core/endpoint.hpp"
#include "core/kernel.hpp"
#include "core/message.hpp"
#include "core/notification.hpp"

namespace ukernel::core {

namespace {

// A capability argument: the slot, checked for type; or an error.
Error cap_argument(Thread& caller, word address, ObjectType type, Slot*& out) {
  Slot* s = caller.cspace()->slot(address);
  if (s == nullptr || s->empty()) return Error::kInvalidCapability;
  if (s->cap.type != type) return Error::kWrongType;
  out = s;
  return Error::kOk;
}

void replace_own_slot(Slot& own, Slot* source) {
  slot_delete(own);
  if (source != nullptr) slot_insert(own, source->cap.derive(Rights::kAll), source);
}

Error configure(Thread& target, Thread& caller, const InvocationArgs& args) {
  if (!args.has(5)) return Error::kInvalidArgument;
  Slot* cspace = nullptr;
  Slot* space = nullptr;
  Slot* frame = nullptr;
  Slot* fault = nullptr;
  if (Error e = cap_argument(caller, args[0], ObjectType::kCNode, cspace); e != Error::kOk)
    return e;
  if (Error e = cap_argument(caller, args[1], ObjectType::kAddressSpace, space); e != Error::kOk)
    return e;
  if (args[2] != 0) {
    if (Error e = cap_argument(caller, args[2], ObjectType::kFrame, frame); e != Error::kOk)
      return e;
    // The kernel writes the buffer, so it must be RAM, not a device's registers.
    if ((word{1} << frame->cap.size_bits) < sizeof(IpcBuffer) || frame->cap.device)
      return Error::kInvalidArgument;
    if (!has_rights(frame->cap.rights, Rights::kRead | Rights::kWrite))
      return Error::kInsufficientRights;
  }
  if (args[4] != 0) {
    if (Error e = cap_argument(caller, args[4], ObjectType::kEndpoint, fault); e != Error::kOk)
      return e;
    if (!has_rights(fault->cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
  }
  replace_own_slot(target.cspace_slot, cspace);
  replace_own_slot(target.address_space_slot, space);
  replace_own_slot(target.ipc_frame_slot, frame);
  replace_own_slot(target.fault_endpoint_slot, fault);
  // Lets a trace group threads by the space (the server) they run in.
  kernel().trace.record(TraceKind::kConfigure, target.id,
                        space != nullptr ? space->cap.as<AddressSpace>()->paddr : 0);
  target.ipc_buffer =
      frame ? static_cast<IpcBuffer*>(Machine::kernel_pointer(frame->cap.object)) : nullptr;
  // The thread finds its buffer through the back-end (a thread register on bare metal).
  if (target.ipc_buffer != nullptr) target.ipc_buffer->self = args[3];
  target.context.set_ipc_buffer_address(frame ? args[3] : 0);
  return Error::kOk;
}

void requeue_for_priority(Thread& t, std::uint8_t priority) {
  Kernel& k = kernel();
  bool queued = t.in_ready_queue;
  if (queued) k.ready.dequeue(t);
  t.priority = priority;
  if (queued) k.ready.enqueue(t);
  if (t.state == ThreadState::kBlockedOnSend) {
    t.blocked_endpoint->senders.remove(t);
    t.blocked_endpoint->senders.insert_by_priority(t);
  } else if (t.state == ThreadState::kBlockedOnRecv) {
    t.blocked_endpoint->receivers.remove(t);
    t.blocked_endpoint->receivers.insert_by_priority(t);
  } else if (t.state == ThreadState::kBlockedOnNotification) {
    t.blocked_notification->waiters.remove(t);
    t.blocked_notification->waiters.insert_by_priority(t);
  }
  // Any change may make another thread the right one to run: decide afresh.
  current_blocked();
}

}  // namespace

void set_result(Thread& t, Error status) {
  t.context.set(SysReg::kStatus, word(status));
  t.context.set(SysReg::kInfo, 0);
  t.context.set(SysReg::kBadge, 0);
  trace_result(t);
}

void cancel_ipc(Thread& t, Error status) {
  switch (t.state) {
    case ThreadState::kBlockedOnSend:
      t.blocked_endpoint->senders.remove(t);
      break;
    case ThreadState::kBlockedOnRecv:
      t.blocked_endpoint->receivers.remove(t);
      break;
    case ThreadState::kBlockedOnNotification:
      t.blocked_notification->waiters.remove(t);
      break;
    case ThreadState::kBlockedOnReply:
      if (t.reply_cap_slot != nullptr) {
        t.reply_cap_slot->cap.clear();
        t.reply_cap_slot = nullptr;
      }
      break;
    default:
      return;
  }
  t.blocked_endpoint = nullptr;
  t.blocked_notification = nullptr;
  // A fault message that was waiting to be received or answered is withdrawn with the IPC: if
  // the thread is resumed, its next message is its own.
  t.pending_fault = FaultKind(0);
  t.state = ThreadState::kInactive;
  set_result(t, status);
}

void make_inactive(Thread& t) {
  Kernel& k = kernel();
  cancel_ipc(t, Error::kCancelled);
  if (t.in_ready_queue) k.ready.dequeue(t);
  if (k.switch_candidate == &t) {
    k.switch_candidate = nullptr;
    k.action = Kernel::Action::kChooseNew;
  }
  t.state = ThreadState::kInactive;
  if (&t == k.current) current_blocked();
}

Error invoke_thread(Thread& target, const Cap& cap, word label, Thread& caller) {
  InvocationArgs args(caller);
  auto inv = Invocation(label);
  Rights need = inv == Invocation::kThreadReadRegisters ? Rights::kRead : Rights::kWrite;
  if (!has_rights(cap.rights, need)) return Error::kInsufficientRights;
  std::size_t results = 0;
  switch (inv) {
    case Invocation::kThreadConfigure:
      if (Error e = configure(target, caller, args); e != Error::kOk) return e;
      break;
    case Invocation::kThreadSetPriority:
      if (!args.has(1)) return Error::kInvalidArgument;
      if (args[0] > caller.priority) return Error::kInvalidArgument;
      requeue_for_priority(target, std::uint8_t(args[0]));
      break;
    case Invocation::kThreadSetTimeslice:
      if (!args.has(1) || args[0] < kMinTimesliceNs) return Error::kInvalidArgument;
      target.timeslice_ns = args[0];
      if (target.remaining_ns > args[0]) target.remaining_ns = args[0];
      break;
    case Invocation::kThreadWriteRegisters:
    case Invocation::kThreadRestart:
      if (!args.has(3)) return Error::kInvalidArgument;
      if (inv == Invocation::kThreadWriteRegisters && target.state != ThreadState::kInactive)
        return Error::kIllegalOperation;
      if (inv == Invocation::kThreadRestart &&
          (target.cspace() == nullptr || target.address_space() == nullptr))
        return Error::kIllegalOperation;
      {
        word ip = args[0], sp = args[1], arg = args[2];
        make_inactive(target);
        if (!target.caller_slot.empty()) slot_delete(target.caller_slot);
        target.pending_fault = FaultKind(0);
        target.context.start(ip, sp, arg);
        if (inv == Invocation::kThreadRestart) {
          kernel().trace.record(TraceKind::kRestart, target.id, 0, caller.id);
          target.remaining_ns = target.timeslice_ns;
          wake(target);
        }
      }
      break;
    case Invocation::kThreadReadRegisters: {
      results = 3 + Context::kRegisterCount;
      if (results > message_capacity(caller)) results = message_capacity(caller);
      word values[3] = {word(target.state), target.context.instruction_pointer(),
                        target.context.stack_pointer()};
      for (std::size_t i = 0; i < results; ++i) {
        set_mr(caller, i, i < 3 ? values[i] : target.context.reg(i - 3));
      }
      break;
    }
    case Invocation::kThreadResume:
      if (target.state == ThreadState::kInactive) {
        if (target.cspace() == nullptr || target.address_space() == nullptr)
          return Error::kIllegalOperation;
        wake(target);
      }
      break;
    case Invocation::kThreadSuspend:
      make_inactive(target);
      break;
    case Invocation::kThreadBindNotification: {
      if (!args.has(1)) return Error::kInvalidArgument;
      Slot* n = nullptr;
      if (Error e = cap_argument(caller, args[0], ObjectType::kNotification, n); e != Error::kOk)
        return e;
      if (!has_rights(n->cap.rights, Rights::kRead)) return Error::kInsufficientRights;
      Notification& ntfn = *n->cap.as<Notification>();
      if (target.bound_notification != nullptr || ntfn.bound_thread != nullptr) return Error::kBusy;
      target.bound_notification = &ntfn;
      ntfn.bound_thread = &target;
      break;
    }
    case Invocation::kThreadUnbindNotification:
      if (target.bound_notification == nullptr) return Error::kNotFound;
      target.bound_notification->bound_thread = nullptr;
      target.bound_notification = nullptr;
      break;
    default:
      return Error::kInvalidLabel;
  }
  // The caller may have just changed itself (restart, suspend): its registers then hold what
  // that operation left there, not a reply.
  if (&target != &caller ||
      (inv != Invocation::kThreadRestart && inv != Invocation::kThreadWriteRegisters)) {
    set_invocation_reply(caller, Error::kOk, results);
  }
  return Error::kOk;
}

void finalise_thread(Thread& t) {
  Kernel& k = kernel();
  make_inactive(t);
  if (t.bound_notification != nullptr) {
    t.bound_notification->bound_thread = nullptr;
    t.bound_notification = nullptr;
  }
  if (k.current == &t) {
    k.current = nullptr;
    // A thread this entry already woke as the switch candidate (the same revoke may have freed
    // its endpoint first) stays the candidate: "choose anew" would forget it, runnable but in
    // no queue. schedule() takes or queues the candidate whether or not a current thread runs.
    if (k.action != Kernel::Action::kSwitchTo) k.action = Kernel::Action::kChooseNew;
  }
  slot_delete(t.caller_slot);
  slot_delete(t.fault_endpoint_slot);
  slot_delete(t.ipc_frame_slot);
  slot_delete(t.address_space_slot);
  slot_delete(t.cspace_slot);
  t.ipc_buffer = nullptr;
  t.context.release();
}

}  // namespace ukernel::core
