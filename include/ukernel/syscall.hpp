// The user-level system-call interface: one inline function per system call, on every back-end.
//
// A Message carries a label, up to kMessageRegisters words in registers and, past those, words
// in the thread's IPC buffer (set them with set_buffer_word before the call). Every function
// returns [[nodiscard]] results; kernel object invocations go through invoke().
#pragma once

#include <arch/user.hpp>
#include <cstddef>
#include <string_view>

#include "ukernel/abi.hpp"

namespace ukernel {

inline constexpr std::size_t kMessageRegisters = arch::kUserMessageRegisters;

struct Message {
  MessageInfo info;
  word words[kMessageRegisters] = {};
  word badge = 0;             // received: the sender's badge (or notification bits)
  Error status = Error::kOk;  // received: the system call's result

  Message() = default;
  explicit Message(MessageInfo i) : info(i) {}
  word label() const { return info.label(); }
  bool ok() const { return status == Error::kOk; }
};

// Message word i (any i < kMaxMessageWords) of a received message.
[[nodiscard]] inline word message_word(const Message& m, std::size_t i) {
  return i < kMessageRegisters ? m.words[i] : arch::user_ipc_buffer()->msg[i];
}
// Sets word i of the next message; words past the registers go to the IPC buffer.
inline void set_message_word(Message& m, std::size_t i, word value) {
  if (i < kMessageRegisters) {
    m.words[i] = value;
  } else {
    arch::user_ipc_buffer()->msg[i] = value;
  }
}

namespace sys {

// The one place a system call is made. user_trap() leaves the results in the same frame (every
// back-end's contract), so the frame is fetched once.
[[nodiscard]] inline Message syscall(Syscall number, word cap, const Message& in) {
  arch::UserFrame f = arch::user_frame();
  f[unsigned(SysReg::kStatus)] = word(number);
  f[unsigned(SysReg::kCap)] = cap;
  f[unsigned(SysReg::kInfo)] = in.info.raw();
  for (std::size_t i = 0; i < kMessageRegisters; ++i)
    f[unsigned(SysReg::kMr0) + i] = in.words[i];
  arch::user_trap(f);
  Message out;
  out.status = Error(f[unsigned(SysReg::kStatus)]);
  out.info = MessageInfo(f[unsigned(SysReg::kInfo)]);
  out.badge = f[unsigned(SysReg::kBadge)];
  for (std::size_t i = 0; i < kMessageRegisters; ++i)
    out.words[i] = f[unsigned(SysReg::kMr0) + i];
  return out;
}

}  // namespace sys

// --- IPC -------------------------------------------------------------------------------------
// send: kInvalidCapability, kWrongType, kInsufficientRights (no write; caps without grant),
//       kInvalidArgument (too long, bad cap count), kCancelled (endpoint deleted while waiting)
[[nodiscard]] inline Error send(word endpoint, const Message& m) {
  return sys::syscall(Syscall::kSend, endpoint, m).status;
}
// try_send: as send, plus kWouldBlock when no receiver waits.
[[nodiscard]] inline Error try_send(word endpoint, const Message& m) {
  return sys::syscall(Syscall::kTrySend, endpoint, m).status;
}
// recv: kInvalidCapability, kWrongType, kInsufficientRights (no read), kCancelled
[[nodiscard]] inline Message recv(word endpoint) {
  return sys::syscall(Syscall::kRecv, endpoint, Message{});
}
// try_recv: as recv, plus kWouldBlock when no sender waits.
[[nodiscard]] inline Message try_recv(word endpoint) {
  return sys::syscall(Syscall::kTryRecv, endpoint, Message{});
}
// call: the errors of send, plus kCancelled when the server went away before replying. On a
// kernel object's capability: that object's invocation (see invoke).
[[nodiscard]] inline Message call(word endpoint, const Message& m) {
  return sys::syscall(Syscall::kCall, endpoint, m);
}
// reply: kInvalidCapability when there is no caller to answer; kInvalidArgument (bad message).
[[nodiscard]] inline Error reply(const Message& m) {
  return sys::syscall(Syscall::kReply, 0, m).status;
}
// reply_recv: reply (if there is a caller), then recv on `endpoint`.
[[nodiscard]] inline Message reply_recv(word endpoint, const Message& m) {
  return sys::syscall(Syscall::kReplyRecv, endpoint, m);
}

// --- notifications ---------------------------------------------------------------------------
// signal: kInvalidCapability, kWrongType, kInsufficientRights, kInvalidArgument (badge 0)
[[nodiscard]] inline Error signal(word notification) {
  return sys::syscall(Syscall::kSignal, notification, Message{}).status;
}
// wait / poll: the bits are in .badge. Errors: kInvalidCapability, kWrongType,
// kInsufficientRights, kCancelled.
[[nodiscard]] inline Message wait(word notification) {
  return sys::syscall(Syscall::kWait, notification, Message{});
}
[[nodiscard]] inline Message poll(word notification) {
  return sys::syscall(Syscall::kPoll, notification, Message{});
}

// --- threads ---------------------------------------------------------------------------------
inline void yield() {
  (void)sys::syscall(Syscall::kYield, 0, Message{});
}
// Stops this thread; its fault endpoint receives FaultKind::kAbort with `code`.
inline void abort_thread(word code) {
  Message m(MessageInfo(0, 1));
  m.words[0] = code;
  (void)sys::syscall(Syscall::kAbort, 0, m);
}
// Writes up to kMaxMessageWords * 8 bytes to the kernel console (early boot, debugging).
inline Error debug_write(std::string_view text) {
  while (!text.empty()) {
    std::size_t n = text.size() < kMessageRegisters * sizeof(word)
                        ? text.size()
                        : kMessageRegisters * sizeof(word);
    Message m(MessageInfo(0, n));
    for (std::size_t i = 0; i < n; ++i) {
      m.words[i / sizeof(word)] |= word(static_cast<unsigned char>(text[i])) << (8 * (i % 8));
    }
    Error e = sys::syscall(Syscall::kDebugWrite, 0, m).status;
    if (e != Error::kOk) return e;
    text.remove_prefix(n);
  }
  return Error::kOk;
}

// The cycle-counter ticks the kernel has spent halted waiting for an interrupt since boot (x86-64:
// TSC, AArch64: virtual counter; hosted: 0): a kDebugWrite of no bytes. Under QEMU's -icount the
// counter runs on while the guest halts; subtracting this leaves the instructions executed.
inline word debug_idle_ticks() {
  Message r = sys::syscall(Syscall::kDebugWrite, 0, Message(MessageInfo(0, 0)));
  return r.ok() ? r.words[0] : 0;
}

// --- kernel objects --------------------------------------------------------------------------
// Invokes kernel object `cap` with `label`; the arguments become message words (past the
// registers they go to the IPC buffer). Result words are in the returned message.
template <class... Args>
[[nodiscard]] inline Message invoke(word cap, Invocation label, Args... args) {
  Message m(MessageInfo(word(label), sizeof...(Args)));
  std::size_t i = 0;
  ((set_message_word(m, i++, word(args))), ...);
  return sys::syscall(Syscall::kCall, cap, m);
}

// `attributes` only for frames of RAM untyped (FrameAttributes; others: kInvalidArgument).
[[nodiscard]] inline Error retype(word untyped, ObjectType type, unsigned size_bits, word cnode,
                                  word slot, word count = 1,
                                  FrameAttributes attributes = FrameAttributes::kNone) {
  if (attributes == FrameAttributes::kNone)
    return invoke(untyped, Invocation::kUntypedRetype, type, size_bits, cnode, slot, count).status;
  return invoke(untyped, Invocation::kUntypedRetype, type, size_bits, cnode, slot, count,
                attributes)
      .status;
}
[[nodiscard]] inline Error cnode_copy(word cnode, word dest, word src_cnode, word src,
                                      Rights rights) {
  return invoke(cnode, Invocation::kCNodeCopy, dest, src_cnode, src, rights).status;
}
[[nodiscard]] inline Error cnode_mint(word cnode, word dest, word src_cnode, word src,
                                      Rights rights, word badge) {
  return invoke(cnode, Invocation::kCNodeMint, dest, src_cnode, src, rights, badge).status;
}
[[nodiscard]] inline Error cnode_move(word cnode, word dest, word src_cnode, word src) {
  return invoke(cnode, Invocation::kCNodeMove, dest, src_cnode, src).status;
}
[[nodiscard]] inline Error cnode_delete(word cnode, word slot) {
  return invoke(cnode, Invocation::kCNodeDelete, slot).status;
}
[[nodiscard]] inline Error cnode_revoke(word cnode, word slot) {
  return invoke(cnode, Invocation::kCNodeRevoke, slot).status;
}
[[nodiscard]] inline Error cnode_save_reply(word cnode, word dest) {
  return invoke(cnode, Invocation::kCNodeSaveReply, dest).status;
}
[[nodiscard]] inline Error thread_configure(word thread, word cspace, word space, word ipc_frame,
                                            word ipc_vaddr, word fault_endpoint) {
  return invoke(thread, Invocation::kThreadConfigure, cspace, space, ipc_frame, ipc_vaddr,
                fault_endpoint)
      .status;
}
[[nodiscard]] inline Error thread_set_priority(word thread, word priority) {
  return invoke(thread, Invocation::kThreadSetPriority, priority).status;
}
[[nodiscard]] inline Error thread_set_timeslice(word thread, word ns) {
  return invoke(thread, Invocation::kThreadSetTimeslice, ns).status;
}
[[nodiscard]] inline Error thread_write_registers(word thread, word ip, word sp, word arg) {
  return invoke(thread, Invocation::kThreadWriteRegisters, ip, sp, arg).status;
}
[[nodiscard]] inline Message thread_read_registers(word thread) {
  return invoke(thread, Invocation::kThreadReadRegisters);
}
[[nodiscard]] inline Error thread_resume(word thread) {
  return invoke(thread, Invocation::kThreadResume).status;
}
[[nodiscard]] inline Error thread_suspend(word thread) {
  return invoke(thread, Invocation::kThreadSuspend).status;
}
[[nodiscard]] inline Error thread_restart(word thread, word ip, word sp, word arg) {
  return invoke(thread, Invocation::kThreadRestart, ip, sp, arg).status;
}
[[nodiscard]] inline Error thread_bind_notification(word thread, word notification) {
  return invoke(thread, Invocation::kThreadBindNotification, notification).status;
}
[[nodiscard]] inline Error thread_unbind_notification(word thread) {
  return invoke(thread, Invocation::kThreadUnbindNotification).status;
}
[[nodiscard]] inline Error map_frame(word space, word frame, word vaddr, Rights rights) {
  return invoke(space, Invocation::kAddressSpaceMap, frame, vaddr, rights).status;
}
[[nodiscard]] inline Error unmap_frame(word space, word vaddr) {
  return invoke(space, Invocation::kAddressSpaceUnmap, vaddr).status;
}
[[nodiscard]] inline Error irq_control_get(word irq_control, word line, word cnode, word slot) {
  return invoke(irq_control, Invocation::kIrqControlGet, line, cnode, slot).status;
}
[[nodiscard]] inline Error irq_set_notification(word handler, word notification) {
  return invoke(handler, Invocation::kIrqHandlerSetNotification, notification).status;
}
[[nodiscard]] inline Error irq_set_deadline(word handler, std::uint64_t deadline_ns) {
  return invoke(handler, Invocation::kIrqHandlerSetDeadline, deadline_ns).status;
}
[[nodiscard]] inline Error irq_control_power_off(word irq_control) {
  return invoke(irq_control, Invocation::kIrqControlPowerOff).status;
}
[[nodiscard]] inline Error irq_ack(word handler) {
  return invoke(handler, Invocation::kIrqHandlerAck).status;
}

// I/O ports (x86-64; elsewhere no IoPorts capability exists and the calls return
// kIllegalOperation). The capability covers a range of ports; `width` is 1, 2 or 4 bytes.
// read: .words[0] = the value. Errors: kInvalidCapability, kWrongType, kInsufficientRights (no
// read), kInvalidArgument (port .. port + width - 1 outside the range, width not 1, 2 or 4).
[[nodiscard]] inline Message io_ports_read(word io_ports, word port, word width) {
  return invoke(io_ports, Invocation::kIoPortsRead, port, width);
}
// write: writes the low `width` bytes of `value`. Errors: as read (kInsufficientRights: no write).
[[nodiscard]] inline Error io_ports_write(word io_ports, word port, word width, word value) {
  return invoke(io_ports, Invocation::kIoPortsWrite, port, width, value).status;
}
// issue: puts into `slot` of `cnode` a capability for ports [first, first + count), with this
// one's rights, derived from it (revoking this one removes it). Errors: kInsufficientRights (no
// write, on either capability), kInvalidArgument (count 0, the sub-range not inside this range,
// slot out of range), kInvalidCapability / kWrongType (cnode), kSlotOccupied.
[[nodiscard]] inline Error io_ports_issue(word io_ports, word first, word count, word cnode,
                                          word slot) {
  return invoke(io_ports, Invocation::kIoPortsIssue, first, count, cnode, slot).status;
}

// The BootInfo page the root task receives (its argument is the page's address). Every root
// task reads it through here, so here the root task checks the kernel's ABI version (the page's
// first word in every version): under a kernel of another version it says so on the kernel
// console and stops (kAbort, the code being the kernel's version) before it reads anything else.
[[nodiscard]] inline const BootInfo* boot_info(word address) {
  const auto* info = static_cast<const BootInfo*>(arch::user_pointer(address, sizeof(BootInfo)));
  if (!abi_matches(*info)) {
    (void)debug_write(
        "root task: refused: the kernel's ABI version (BootInfo::abi_version) is not the one "
        "this program was built against (ukernel/abi.hpp kAbiVersion)\n");
    for (;;)
      abort_thread(info->abi_version);
  }
  return info;
}

// The slot of the largest block of RAM untyped in `info` (device memory makes no objects).
[[nodiscard]] inline word largest_ram_untyped(const BootInfo& info) {
  word best = info.untyped_count;
  for (word i = 0; i < info.untyped_count; ++i) {
    if (info.untyped[i].is_device == 0 &&
        (best == info.untyped_count || info.untyped[i].size_bits > info.untyped[best].size_bits))
      best = i;
  }
  return kFirstUntypedSlot + best;
}

}  // namespace ukernel
