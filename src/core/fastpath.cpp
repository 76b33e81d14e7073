// The IPC fast path.
//
// A straight line of cheap checks; if any fails, nothing has changed and the general path in
// syscall.cpp handles the call with the same semantics. When all pass, the message words are
// copied register to register (words past the registers buffer to buffer), the partner becomes
// current, and no scheduler pass runs (the partner's priority is at least that of every ready
// thread). The tests run every IPC case with the fast path on and off (Kernel::fastpath_enabled).
#include "core/fastpath.hpp"

#include "core/cnode.hpp"
#include "core/endpoint.hpp"
#include "core/kernel.hpp"
#include "core/message.hpp"
#include "core/notification.hpp"

namespace ukernel::core {

namespace {

// The endpoint capability at `address` with `right`, or nullptr.
Endpoint* endpoint_with(Thread& t, word address, Rights right, const Cap*& cap) {
  CNode* cspace = t.cspace();
  Slot* slot = cspace ? cspace->slot(address) : nullptr;
  if (slot == nullptr || slot->cap.type != ObjectType::kEndpoint) return nullptr;
  if (!has_rights(slot->cap.rights, right)) return nullptr;
  cap = &slot->cap;
  return slot->cap.as<Endpoint>();
}

// Whether a message of `length` words fits both threads without truncation: the registers
// always, the words past them only when both have an IPC buffer (otherwise the general path
// rejects or truncates it, as the slow path's validate_message and message_capacity say).
inline bool fits(const Thread& from, const Thread& to, std::size_t length) {
  return length <= kMessageRegisters ||
         (length <= kMaxMessageWords && from.buffer() != nullptr && to.buffer() != nullptr);
}

// Message register I of `from` into `to` (nothing where the architecture has fewer registers).
template <std::size_t I>
[[gnu::always_inline]] inline void copy_register(const Thread& from, Thread& to) {
  if constexpr (I < kMessageRegisters) {
    constexpr auto r = SysReg(unsigned(SysReg::kMr0) + I);
    to.context.set(r, from.context.get(r));
  }
}

// The words in registers: a jump into a straight line of register moves, one per word, falling
// through to the first (a loop or a chain of length tests costs a compare and branch per word).
// Words past the registers go from buffer to buffer in a straight loop. Inlined into both paths
// (a call, with its argument moves, cost more than the copy of a short message).
[[gnu::always_inline]] inline void copy_registers(Thread& from, Thread& to, MessageInfo info,
                                                  word badge) {
  static_assert(kMessageRegisters <= 8, "copy_registers has a case per message register");
  std::size_t length = info.length();
  switch (length < kMessageRegisters ? length : kMessageRegisters) {
    case 8:
      copy_register<7>(from, to);
      [[fallthrough]];
    case 7:
      copy_register<6>(from, to);
      [[fallthrough]];
    case 6:
      copy_register<5>(from, to);
      [[fallthrough]];
    case 5:
      copy_register<4>(from, to);
      [[fallthrough]];
    case 4:
      copy_register<3>(from, to);
      [[fallthrough]];
    case 3:
      copy_register<2>(from, to);
      [[fallthrough]];
    case 2:
      copy_register<1>(from, to);
      [[fallthrough]];
    case 1:
      copy_register<0>(from, to);
      [[fallthrough]];
    default:
      break;
  }
  if (length > kMessageRegisters) [[unlikely]] {
    const word* in = from.buffer()->msg;
    word* out = to.buffer()->msg;
    for (std::size_t i = kMessageRegisters; i < length; ++i)
      out[i] = in[i];
  }
  to.context.set(SysReg::kStatus, word(Error::kOk));
  to.context.set(SysReg::kInfo, MessageInfo(info.label(), info.length()).raw());
  to.context.set(SysReg::kBadge, badge);
}

bool fast_call(Thread& t) {
  MessageInfo info = get_info(t);
  if (info.caps() != 0) return false;
  const Cap* cap = nullptr;
  Endpoint* ep = endpoint_with(t, t.context.get(SysReg::kCap), Rights::kWrite, cap);
  if (ep == nullptr) return false;
  Thread* server = ep->receivers.head();
  if (server == nullptr || server->priority < t.priority || !server->caller_slot.empty() ||
      server->address_space() == nullptr || !fits(t, *server, info.length()))
    return false;

  ep->receivers.remove(*server);
  server->blocked_endpoint = nullptr;
  copy_registers(t, *server, info, cap->badge);
  Slot& reply = server->caller_slot;
  reply.cap.type = ObjectType::kReply;
  reply.cap.rights = Rights::kWrite | Rights::kGrant;
  reply.cap.object = reinterpret_cast<word>(&t);
  t.reply_cap_slot = &reply;
  t.state = ThreadState::kBlockedOnReply;
  server->state = ThreadState::kRunning;
  direct_switch(*server);
  return true;
}

bool fast_reply_recv(Thread& t) {
  MessageInfo info = get_info(t);
  if (info.caps() != 0) return false;
  Slot& reply = t.caller_slot;
  if (reply.cap.type != ObjectType::kReply) return false;
  Thread& caller = *reply.cap.as<Thread>();
  if (caller.pending_fault != FaultKind(0) || caller.address_space() == nullptr ||
      !fits(t, caller, info.length()))
    return false;
  const Cap* cap = nullptr;
  Endpoint* ep = endpoint_with(t, t.context.get(SysReg::kCap), Rights::kRead, cap);
  if (ep == nullptr || !ep->senders.empty()) return false;
  if (t.bound_notification != nullptr && t.bound_notification->bits != 0) return false;
  Kernel& k = kernel();
  if (int(caller.priority) < k.ready.highest_priority()) return false;

  t.state = ThreadState::kBlockedOnRecv;
  t.blocked_endpoint = ep;
  ep->receivers.insert_by_priority(t);
  reply.cap.clear();
  caller.reply_cap_slot = nullptr;
  copy_registers(t, caller, info, 0);
  caller.state = ThreadState::kRunning;
  direct_switch(caller);
  return true;
}

}  // namespace

bool fastpath(Thread& t, word number) {
  if (number == word(Syscall::kCall)) return fast_call(t);
  if (number == word(Syscall::kReplyRecv)) return fast_reply_recv(t);
  return false;
}

}  // namespace ukernel::core
