// IrqControl and IrqHandler invocations, and interrupt delivery.
#include "core/irq.hpp"

#include "core/cnode.hpp"
#include "core/kernel.hpp"
#include "core/message.hpp"
#include "core/notification.hpp"

namespace ukernel::core {

Error invoke_irq_control(const Cap& cap, word label, Thread& caller) {
  if (Invocation(label) == Invocation::kIrqControlPowerOff) {
    if (!has_rights(cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
    if (!Machine::power_off()) return Error::kIllegalOperation;
    return Error::kOk;  // not reached where power_off() succeeds
  }
  if (Invocation(label) != Invocation::kIrqControlGet) return Error::kInvalidLabel;
  if (!has_rights(cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
  InvocationArgs args(caller);
  if (!args.has(3)) return Error::kInvalidArgument;
  word line = args[0];
  if (line >= Machine::kIrqLines) return Error::kInvalidArgument;
  Slot* node_slot = caller.cspace()->slot(args[1]);
  if (node_slot == nullptr || node_slot->empty()) return Error::kInvalidCapability;
  if (node_slot->cap.type != ObjectType::kCNode) return Error::kWrongType;
  Slot* dest = node_slot->cap.as<CNode>()->slot(args[2]);
  if (dest == nullptr) return Error::kInvalidArgument;
  if (!dest->empty()) return Error::kSlotOccupied;
  IrqLine& irq = kernel().irq_lines[line];
  if (irq.claimed) return Error::kBusy;
  irq.claimed = true;
  Cap handler;
  handler.type = ObjectType::kIrqHandler;
  handler.rights = Rights::kAll;
  handler.object = line;
  slot_insert(*dest, handler, nullptr);
  set_invocation_reply(caller, Error::kOk, 0);
  return Error::kOk;
}

Error invoke_irq_handler(const Cap& cap, word label, Thread& caller) {
  if (!has_rights(cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
  auto line = unsigned(cap.object);
  IrqLine& irq = kernel().irq_lines[line];
  switch (Invocation(label)) {
    case Invocation::kIrqHandlerSetNotification: {
      InvocationArgs args(caller);
      if (!args.has(1)) return Error::kInvalidArgument;
      Slot* n = caller.cspace()->slot(args[0]);
      if (n == nullptr || n->empty()) return Error::kInvalidCapability;
      if (n->cap.type != ObjectType::kNotification) return Error::kWrongType;
      if (!has_rights(n->cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
      if (n->cap.badge == 0) return Error::kInvalidArgument;
      slot_delete(irq.notification);
      slot_insert(irq.notification, n->cap, n);
      Machine::irq_unmask(line);
      break;
    }
    case Invocation::kIrqHandlerAck:
      if (irq.notification.empty()) return Error::kIllegalOperation;
      Machine::irq_unmask(line);
      break;
    case Invocation::kIrqHandlerSetDeadline: {
      InvocationArgs args(caller);
      if (!args.has(1)) return Error::kInvalidArgument;
      if (irq.notification.empty()) return Error::kIllegalOperation;
      if (!Machine::irq_set_deadline(line, args[0])) return Error::kIllegalOperation;
      break;
    }
    case Invocation::kIrqHandlerClear:
      Machine::irq_mask(line);
      slot_delete(irq.notification);
      break;
    case Invocation::kIrqHandlerMsiMessage: {
      word address = 0;
      word data = 0;
      if (!Machine::msi_message(line, address, data)) return Error::kIllegalOperation;
      set_mr(caller, 0, address);
      set_mr(caller, 1, data);
      set_invocation_reply(caller, Error::kOk, 2);
      return Error::kOk;
    }
    default:
      return Error::kInvalidLabel;
  }
  set_invocation_reply(caller, Error::kOk, 0);
  return Error::kOk;
}

void irq_handler_cap_added(unsigned line) {
  ++kernel().irq_lines[line].handler_caps;
}

void irq_handler_cap_deleted(unsigned line) {
  IrqLine& irq = kernel().irq_lines[line];
  if (--irq.handler_caps != 0) return;
  Machine::irq_mask(line);
  irq.claimed = false;
  slot_delete(irq.notification);
}

void deliver_interrupt(unsigned line) {
  if (line >= Machine::kIrqLines) return;
  Machine::irq_mask(line);
  Slot& n = kernel().irq_lines[line].notification;
  if (n.empty()) return;  // stays masked until a handler is set up
  notification_signal(*n.cap.as<Notification>(), n.cap.badge);
}

}  // namespace ukernel::core
