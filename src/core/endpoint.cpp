// Synchronous IPC through endpoints: send, receive, call, reply, and message transfer.
#include "core/endpoint.hpp"

#include "core/cnode.hpp"
#include "core/kernel.hpp"
#include "core/message.hpp"
#include "core/notification.hpp"

namespace ukernel::core {

namespace {

bool is_hardware_fault(FaultKind kind) {
  return kind != FaultKind::kCapability && kind != FaultKind::kInvalidSyscall &&
         kind != FaultKind::kAbort;
}

// Capabilities of `sender`'s message that can be copied into `receiver`'s receive window.
// Returns the number transferred, or -1 if they had to be dropped.
int transfer_caps(Thread& sender, Thread& receiver, std::size_t count) {
  if (receiver.buffer() == nullptr || receiver.cspace() == nullptr) return -1;
  const IpcBuffer& in = *sender.buffer();
  IpcBuffer& out = *receiver.buffer();
  if (out.receive_count < count) return -1;
  Slot* sources[kMaxTransferCaps];
  Slot* dests[kMaxTransferCaps];
  for (std::size_t i = 0; i < count; ++i) {
    sources[i] = sender.cspace() ? sender.cspace()->slot(in.caps[i]) : nullptr;
    dests[i] = receiver.cspace()->slot(out.receive_slot + i);
    if (sources[i] == nullptr || sources[i]->empty() || dests[i] == nullptr || !dests[i]->empty())
      return -1;
    ObjectType type = sources[i]->cap.type;
    if (type == ObjectType::kUntyped || type == ObjectType::kReply) return -1;
  }
  for (std::size_t i = 0; i < count; ++i) {
    slot_insert(*dests[i], sources[i]->cap.derive(Rights::kAll), sources[i]);
  }
  return int(count);
}

// Gives `caller` a reply capability in `server`'s caller slot and blocks it for the reply.
void block_for_reply(Thread& caller, Thread& server) {
  if (!server.caller_slot.empty()) slot_delete(server.caller_slot);
  Cap reply;
  reply.type = ObjectType::kReply;
  reply.rights = Rights::kWrite | Rights::kGrant;
  reply.object = reinterpret_cast<word>(&caller);
  slot_insert(server.caller_slot, reply, nullptr);
  caller.reply_cap_slot = &server.caller_slot;
  caller.state = ThreadState::kBlockedOnReply;
}

}  // namespace

Error validate_message(Thread& t, MessageInfo info, bool can_grant) {
  if (info.length() > message_capacity(t)) return Error::kInvalidArgument;
  if (info.caps() == 0) return Error::kOk;
  if (info.caps() > kMaxTransferCaps || t.buffer() == nullptr) return Error::kInvalidArgument;
  if (!can_grant) return Error::kInsufficientRights;
  for (std::size_t i = 0; i < info.caps(); ++i) {
    Slot* s = t.cspace() ? t.cspace()->slot(t.buffer()->caps[i]) : nullptr;
    if (s == nullptr || s->empty()) return Error::kInvalidCapability;
  }
  return Error::kOk;
}

void transfer_message(Thread& sender, Thread& receiver, word badge, bool can_grant) {
  MessageInfo out;
  if (sender.pending_fault != FaultKind(0)) {
    set_mr(receiver, 0, word(sender.pending_fault));
    set_mr(receiver, 1, sender.pending_fault_address);
    set_mr(receiver, 2, sender.context.instruction_pointer());
    out = MessageInfo(kFaultLabel, FaultMessage::kWords);
  } else {
    MessageInfo in = get_info(sender);
    std::size_t length = in.length();
    word flags = 0;
    if (length > message_capacity(receiver)) {
      length = message_capacity(receiver);
      flags |= MessageInfo::kTruncated;
    }
    for (std::size_t i = 0; i < length; ++i)
      set_mr(receiver, i, get_mr(sender, i));
    std::size_t caps = 0;
    if (in.caps() > 0 && can_grant) {
      int moved = transfer_caps(sender, receiver, in.caps());
      if (moved < 0) {
        flags |= MessageInfo::kCapsDropped;
      } else {
        caps = std::size_t(moved);
      }
    }
    out = MessageInfo(in.label(), length, caps, flags);
  }
  receiver.context.set(SysReg::kStatus, word(Error::kOk));
  receiver.context.set(SysReg::kInfo, out.raw());
  receiver.context.set(SysReg::kBadge, badge);
  trace_result(receiver);
}

namespace {

// Whether blocked sender `s` no longer has the IPC buffer its message needs (it had one when it
// sent: validate_message).
bool lost_its_buffer(const Thread& s) {
  if (s.pending_fault != FaultKind(0) || s.buffer() != nullptr) return false;
  MessageInfo info = get_info(s);
  return info.length() > kMessageRegisters || info.caps() > 0;
}

}  // namespace

Error endpoint_send(Thread& t, Endpoint& ep, const Cap& cap, bool blocking, bool is_call) {
  if (!has_rights(cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
  bool grant = has_rights(cap.rights, Rights::kGrant);
  if (Error e = validate_message(t, get_info(t), grant); e != Error::kOk) return e;
  if (Thread* r = ep.receivers.pop_front()) {
    r->blocked_endpoint = nullptr;
    transfer_message(t, *r, cap.badge, grant);
    if (is_call) {
      block_for_reply(t, *r);
      current_blocked();
    } else {
      set_result(t, Error::kOk);
    }
    wake(*r);
    return Error::kOk;
  }
  if (!blocking) return Error::kWouldBlock;
  t.state = ThreadState::kBlockedOnSend;
  t.blocked_endpoint = &ep;
  t.send_badge = cap.badge;
  t.send_can_grant = grant;
  t.send_is_call = is_call;
  ep.senders.insert_by_priority(t);
  current_blocked();
  return Error::kOk;
}

Error endpoint_receive(Thread& t, Endpoint& ep, const Cap& cap, bool blocking) {
  if (!has_rights(cap.rights, Rights::kRead)) return Error::kInsufficientRights;
  if (take_bound_bits(t)) return Error::kOk;
  Thread* s = ep.senders.pop_front();
  // A sender whose message needs its IPC buffer (words past the registers, capabilities) may
  // have lost the buffer while it waited (kThreadConfigure without a frame, its frame revoked):
  // its send is cancelled, and the receiver takes the next sender. Checked here, where a blocked
  // sender's message is taken, so that the IPC paths pay nothing for it.
  while (s != nullptr && lost_its_buffer(*s)) {
    s->blocked_endpoint = nullptr;
    set_result(*s, Error::kCancelled);
    wake(*s);
    s = ep.senders.pop_front();
  }
  if (s != nullptr) {
    s->blocked_endpoint = nullptr;
    transfer_message(*s, t, s->send_badge, s->send_can_grant);
    if (s->send_is_call || s->pending_fault != FaultKind(0)) {
      block_for_reply(*s, t);
    } else {
      set_result(*s, Error::kOk);
      wake(*s);
    }
    return Error::kOk;
  }
  if (!blocking) return Error::kWouldBlock;
  t.state = ThreadState::kBlockedOnRecv;
  t.blocked_endpoint = &ep;
  ep.receivers.insert_by_priority(t);
  current_blocked();
  return Error::kOk;
}

Error reply_to_caller(Thread& t, Slot& reply_slot) {
  if (Error e = validate_message(t, get_info(t), true); e != Error::kOk) return e;
  Thread& caller = *reply_slot.cap.as<Thread>();
  reply_slot.cap.clear();
  caller.reply_cap_slot = nullptr;
  if (caller.pending_fault != FaultKind(0)) {
    // A reply to a fault message resumes the thread: a hardware fault re-executes the faulting
    // instruction; a faulting system call returns kCancelled.
    if (!is_hardware_fault(caller.pending_fault)) set_result(caller, Error::kCancelled);
    caller.pending_fault = FaultKind(0);
  } else {
    transfer_message(t, caller, 0, true);
  }
  wake(caller);
  return Error::kOk;
}

void send_fault(Thread& t, Endpoint& ep, word badge) {
  if (Thread* r = ep.receivers.pop_front()) {
    r->blocked_endpoint = nullptr;
    transfer_message(t, *r, badge, false);
    block_for_reply(t, *r);
    wake(*r);
    return;
  }
  t.state = ThreadState::kBlockedOnSend;
  t.blocked_endpoint = &ep;
  t.send_badge = badge;
  t.send_can_grant = false;
  t.send_is_call = true;
  ep.senders.insert_by_priority(t);
}

void finalise_endpoint(Endpoint& ep) {
  while (Thread* t = ep.senders.head())
    cancel_ipc(*t, Error::kCancelled), wake(*t);
  while (Thread* t = ep.receivers.head())
    cancel_ipc(*t, Error::kCancelled), wake(*t);
}

}  // namespace ukernel::core
