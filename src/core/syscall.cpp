// System-call entry: decode, validate, then act.
//
// Everything a system call names is looked up and checked before anything changes; a call that
// returns an error has changed nothing. A capability address outside the caller's CSpace is the
// caller's bug, not a condition it can handle, so it is a fault (FaultKind::kCapability) rather
// than an error; an empty slot, a wrong type or a missing right are errors, because another
// thread may have deleted or revoked the capability at any moment.
#include "core/address_space.hpp"
#include "core/cnode.hpp"
#include "core/endpoint.hpp"
#include "core/fastpath.hpp"
#include "core/io_ports.hpp"
#include "core/kernel.hpp"
#include "core/message.hpp"
#include "core/notification.hpp"
#include "core/untyped.hpp"

namespace ukernel::core {

namespace {

Error invoke_object(Thread& t, Slot& slot) {
  MessageInfo info = get_info(t);
  if (info.caps() != 0 || info.length() > message_capacity(t)) return Error::kInvalidArgument;
  const Cap& cap = slot.cap;
  word label = info.label();
  switch (cap.type) {
    case ObjectType::kUntyped:
      return invoke_untyped(slot, label, t);
    case ObjectType::kThread:
      return invoke_thread(*cap.as<Thread>(), cap, label, t);
    case ObjectType::kCNode:
      return invoke_cnode(*cap.as<CNode>(), cap, label, t);
    case ObjectType::kAddressSpace:
      return invoke_address_space(*cap.as<AddressSpace>(), cap, label, t);
    case ObjectType::kFrame:
      return invoke_frame(slot, label, t);
    case ObjectType::kIrqControl:
      return invoke_irq_control(cap, label, t);
    case ObjectType::kIrqHandler:
      return invoke_irq_handler(cap, label, t);
    case ObjectType::kIoPorts:
      return invoke_io_ports(slot, label, t);
    default:
      return Error::kWrongType;
  }
}

Error debug_write(Thread& t) {
  MessageInfo info = get_info(t);
  std::size_t bytes = info.length();
  if (bytes > message_capacity(t) * sizeof(word)) return Error::kInvalidArgument;
  char text[kMaxMessageWords * sizeof(word)];
  for (std::size_t i = 0; i < bytes; ++i) {
    text[i] = char((get_mr(t, i / sizeof(word)) >> (8 * (i % sizeof(word)))) & 0xff);
  }
  if (bytes > 0) Machine::console_write(std::string_view(text, bytes));
  // The time the kernel has spent halted, for benchmarks that count instructions (abi.hpp).
  set_mr(t, 0, Machine::idle_ticks());
  set_invocation_reply(t, Error::kOk, 1);
  return Error::kOk;
}

Error dispatch(Thread& t, Syscall number) {
  switch (number) {
    case Syscall::kYield:
      t.remaining_ns = 0;
      kernel().action = Kernel::Action::kChooseNew;
      set_result(t, Error::kOk);
      return Error::kOk;
    case Syscall::kAbort:
      raise_fault(t, FaultKind::kAbort, get_mr(t, 0));
      return Error::kOk;
    case Syscall::kDebugWrite:
      return debug_write(t);
    case Syscall::kReply:
      if (t.caller_slot.empty()) return Error::kInvalidCapability;
      if (Error e = reply_to_caller(t, t.caller_slot); e != Error::kOk) return e;
      set_result(t, Error::kOk);
      return Error::kOk;
    default:
      break;
  }

  word address = t.context.get(SysReg::kCap);
  // Address 0 is inside the CSpace but never filled: "no capability", like any empty slot.
  if (address == 0 && t.cspace() != nullptr) return Error::kInvalidCapability;
  Slot* slot = t.cspace() ? t.cspace()->slot(address) : nullptr;
  if (slot == nullptr) {
    raise_fault(t, FaultKind::kCapability, address);
    return Error::kOk;
  }
  if (slot->empty()) return Error::kInvalidCapability;
  const Cap& cap = slot->cap;
  switch (number) {
    case Syscall::kSend:
    case Syscall::kTrySend:
      if (cap.type == ObjectType::kReply) {
        if (Error e = reply_to_caller(t, *slot); e != Error::kOk) return e;
        set_result(t, Error::kOk);
        return Error::kOk;
      }
      if (cap.type != ObjectType::kEndpoint) return Error::kWrongType;
      return endpoint_send(t, *cap.as<Endpoint>(), cap, number == Syscall::kSend, false);
    case Syscall::kCall:
      if (cap.type != ObjectType::kEndpoint) return invoke_object(t, *slot);
      return endpoint_send(t, *cap.as<Endpoint>(), cap, true, true);
    case Syscall::kRecv:
    case Syscall::kTryRecv:
      if (cap.type != ObjectType::kEndpoint) return Error::kWrongType;
      return endpoint_receive(t, *cap.as<Endpoint>(), cap, number == Syscall::kRecv);
    case Syscall::kReplyRecv: {
      if (cap.type != ObjectType::kEndpoint) return Error::kWrongType;
      if (!has_rights(cap.rights, Rights::kRead)) return Error::kInsufficientRights;
      // With nothing to answer (the caller went away, or this is the first round), it just
      // receives.
      if (t.caller_slot.empty()) return endpoint_receive(t, *cap.as<Endpoint>(), cap, true);
      if (Error e = validate_message(t, get_info(t), true); e != Error::kOk) return e;
      auto& ep = *cap.as<Endpoint>();
      bool will_block = ep.senders.empty() &&
                        (t.bound_notification == nullptr || t.bound_notification->bits == 0);
      if (!will_block) {
        (void)reply_to_caller(t, t.caller_slot);
        return endpoint_receive(t, ep, cap, true);
      }
      // Block first, so that the reply hands the CPU straight to the caller.
      (void)endpoint_receive(t, ep, cap, true);
      (void)reply_to_caller(t, t.caller_slot);
      return Error::kOk;
    }
    case Syscall::kSignal:
      if (cap.type != ObjectType::kNotification) return Error::kWrongType;
      if (!has_rights(cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
      if (cap.badge == 0) return Error::kInvalidArgument;
      notification_signal(*cap.as<Notification>(), cap.badge);
      set_result(t, Error::kOk);
      return Error::kOk;
    case Syscall::kWait:
    case Syscall::kPoll:
      if (cap.type != ObjectType::kNotification) return Error::kWrongType;
      if (!has_rights(cap.rights, Rights::kRead)) return Error::kInsufficientRights;
      return notification_wait(t, *cap.as<Notification>(), number == Syscall::kWait);
    default:
      raise_fault(t, FaultKind::kInvalidSyscall, word(number));
      return Error::kOk;
  }
}

}  // namespace

void handle_syscall() {
  Kernel& k = kernel();
  Thread& t = *k.current;
  word number = t.context.get(SysReg::kStatus);
  if (k.fastpath_enabled && fastpath(t, number)) {
    // Recorded here, not in the fast path, which stays free of trace checks (kernel.hpp).
    if (k.trace.enabled()) [[unlikely]]
      trace_fastpath_registers(t, number, *k.current);
    return;
  }
  if (k.trace.enabled()) [[unlikely]]
    trace_syscall_registers(t, number);
  if (number >= word(Syscall::kCount)) {
    raise_fault(t, FaultKind::kInvalidSyscall, number);
  } else if (Error e = dispatch(t, Syscall(number)); e != Error::kOk) {
    set_result(t, e);
  }
  schedule();
}

}  // namespace ukernel::core
