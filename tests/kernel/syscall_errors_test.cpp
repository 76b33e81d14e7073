// Every system call's success path and each of its documented errors, and that a rejected call
// changed nothing. The root task makes the calls; a few helper threads are partners.
#include <catch2/catch.hpp>

#include "check_observations.hpp"
#include "core/address_space.hpp"
#include "core/kernel.hpp"
#include "support/root_kit.hpp"
#include "ukernel/caps.hpp"
#include "ukernel/hosted/devices.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;
using test::expect;
using test::expect_true;

namespace {

constexpr word kOutsideCSpace = word{1} << 20;  // beyond the root's 2^12 slots

struct Shared {
  word endpoint = 0;
  word notification = 0;
  Error status = Error::kOk;
  word received = 0;
  int rounds = 0;
} g;

// Whether `slot` of the root CNode is empty (probes with a copy into `scratch`).
bool slot_is_empty(word slot, word scratch) {
  Error e = cnode_copy(kRootCNodeSlot, scratch, kRootCNodeSlot, slot, Rights::kAll);
  if (e == Error::kOk) (void)cnode_delete(kRootCNodeSlot, scratch);
  return e == Error::kInvalidCapability;
}

word thread_state(word thread) {
  return thread_read_registers(thread).words[0];
}

Message caps_message() {
  arch::user_ipc_buffer()->caps[0] = kRootCNodeSlot;
  return Message(MessageInfo(word(Invocation::kCNodeDelete), 1, 1));
}

void receiver(word) {
  Message m = recv(g.endpoint);
  g.status = m.status;
  g.received = m.words[0];
  ++g.rounds;
}

void blocked_sender(word) {
  Message m(MessageInfo(1, 1));
  g.status = send(g.endpoint, m);
  ++g.rounds;
}

void blocked_waiter(word) {
  g.status = wait(g.notification).status;
  ++g.rounds;
}

void ipc_root(word info) {
  test::RootKit kit(info);
  word scratch = kit.slot();
  word ep = kit.make(ObjectType::kEndpoint);
  word ntfn = kit.make(ObjectType::kNotification);
  word read_only = kit.mint(ep, Rights::kRead, 0);
  word write_only = kit.mint(ep, Rights::kWrite, 0);
  word no_grant = kit.mint(ep, Rights::kRead | Rights::kWrite, 0);
  word empty = kit.slot();
  g.endpoint = ep;

  Message one(MessageInfo(1, 1));
  one.words[0] = 11;
  // send / try_send errors, with no receiver.
  expect("send: empty slot", send(empty, one), Error::kInvalidCapability);
  expect("send: address 0 (no capability)", send(0, one), Error::kInvalidCapability);
  expect("signal: address 0", signal(0), Error::kInvalidCapability);
  expect("invocation with a capability", call(kRootCNodeSlot, caps_message()).status,
         Error::kInvalidArgument);
  expect("send: notification", send(ntfn, one), Error::kWrongType);
  expect("send: read-only", send(read_only, one), Error::kInsufficientRights);
  expect("try_send: no receiver", try_send(ep, one), Error::kWouldBlock);
  expect("try_send: read-only", try_send(read_only, one), Error::kInsufficientRights);

  // A receiver waits. Helpers run at the root's priority; yield lets them run until they block.
  word rx = kit.spawn(receiver, 0, kMaxPriority);
  expect_true("spawned receiver", rx != 0);
  yield();
  expect("receiver blocked", thread_state(rx), word(ThreadState::kBlockedOnRecv));

  Message caps(MessageInfo(1, 1, 1));
  arch::user_ipc_buffer()->caps[0] = ntfn;
  expect("send caps without grant", send(no_grant, caps), Error::kInsufficientRights);
  Message too_long(MessageInfo(1, kMaxMessageWords + 1));
  expect("send 65 words", send(ep, too_long), Error::kInvalidArgument);
  Message five_caps(MessageInfo(1, 0, 5));
  expect("send 5 caps", send(ep, five_caps), Error::kInvalidArgument);
  arch::user_ipc_buffer()->caps[0] = empty;
  expect("send an empty cap", send(ep, caps), Error::kInvalidCapability);
  expect("receiver not woken", word(g.rounds), 0);
  // Nothing was delivered: the receiver still waits.
  expect("receiver still blocked", thread_state(rx), word(ThreadState::kBlockedOnRecv));
  expect("send: write-only", send(write_only, one), Error::kOk);
  yield();
  expect("receiver got it once", word(g.rounds), 1);
  expect("receiver word", g.received, 11);
  expect("receiver status", g.status, Error::kOk);

  // recv / try_recv errors.
  expect("recv: empty", recv(empty).status, Error::kInvalidCapability);
  expect("recv: notification", recv(ntfn).status, Error::kWrongType);
  expect("recv: write-only", recv(write_only).status, Error::kInsufficientRights);
  expect("try_recv: no sender", try_recv(ep).status, Error::kWouldBlock);

  // A sender blocked on an endpoint that is deleted gets kCancelled.
  g.rounds = 0;
  word ep2 = kit.make(ObjectType::kEndpoint);
  g.endpoint = ep2;
  word tx = kit.spawn(blocked_sender, 0, kMaxPriority);
  yield();
  expect("sender blocked", thread_state(tx), word(ThreadState::kBlockedOnSend));
  expect("delete endpoint", cnode_delete(kRootCNodeSlot, ep2), Error::kOk);
  yield();
  expect("sender cancelled", g.status, Error::kCancelled);
  expect("sender ran once", word(g.rounds), 1);

  // A receiver blocked on a deleted endpoint also gets kCancelled.
  g.rounds = 0;
  word ep3 = kit.make(ObjectType::kEndpoint);
  g.endpoint = ep3;
  (void)kit.spawn(receiver, 0, kMaxPriority);
  yield();
  expect("delete endpoint 3", cnode_delete(kRootCNodeSlot, ep3), Error::kOk);
  yield();
  expect("receiver cancelled", g.status, Error::kCancelled);

  // A sender blocked in send is received from: try_recv finds it.
  g.rounds = 0;
  g.endpoint = ep;
  (void)kit.spawn(blocked_sender, 0, kMaxPriority);
  yield();
  Message got = try_recv(ep);
  expect("try_recv finds the sender", got.status, Error::kOk);
  expect("try_recv label", got.label(), 1);
  yield();
  expect("sender done", word(g.rounds), 1);
  expect("sender status", g.status, Error::kOk);

  // reply with no caller; reply_recv with nothing to answer receives.
  expect("reply: no caller", reply(one), Error::kInvalidCapability);
  expect("reply_recv: notification", reply_recv(ntfn, one).status, Error::kWrongType);
  expect("reply_recv: write-only", reply_recv(write_only, one).status, Error::kInsufficientRights);
  expect("yield", sys::syscall(Syscall::kYield, 0, Message{}).status, Error::kOk);
  expect("debug_write", debug_write("hello from the root\n"), Error::kOk);
  expect("slot probe sanity", word(slot_is_empty(empty, scratch)), 1);
  expect("root done", 1, 1);
}

void notification_root(word info) {
  test::RootKit kit(info);
  word ep = kit.make(ObjectType::kEndpoint);
  word ntfn = kit.make(ObjectType::kNotification);
  word badged = kit.mint(ntfn, Rights::kAll, 0x5);
  word read_only = kit.mint(badged, Rights::kRead, 0);
  word write_only = kit.mint(badged, Rights::kWrite, 0);
  word empty = kit.slot();

  expect("signal: empty", signal(empty), Error::kInvalidCapability);
  expect("signal: endpoint", signal(ep), Error::kWrongType);
  expect("signal: read-only", signal(read_only), Error::kInsufficientRights);
  expect("signal: badge 0", signal(ntfn), Error::kInvalidArgument);
  expect("nothing was signalled", poll(ntfn).badge, 0);
  expect("wait: empty", wait(empty).status, Error::kInvalidCapability);
  expect("wait: endpoint", wait(ep).status, Error::kWrongType);
  expect("wait: write-only", wait(write_only).status, Error::kInsufficientRights);
  expect("poll: empty", poll(empty).status, Error::kInvalidCapability);
  expect("poll: endpoint", poll(ep).status, Error::kWrongType);
  expect("poll: write-only", poll(write_only).status, Error::kInsufficientRights);
  Message p = poll(ntfn);
  expect("poll: nothing pending is ok", p.status, Error::kOk);
  expect("poll: no bits", p.badge, 0);
  expect("signal: ok", signal(write_only), Error::kOk);
  Message w = wait(read_only);
  expect("wait: ok", w.status, Error::kOk);
  expect("wait: bits", w.badge, 0x5);

  // A waiter on a deleted notification gets kCancelled.
  word n2 = kit.make(ObjectType::kNotification);
  g.notification = n2;
  word waiter = kit.spawn(blocked_waiter, 0, kMaxPriority);
  yield();
  expect("waiter blocked", thread_state(waiter), word(ThreadState::kBlockedOnNotification));
  expect("delete notification", cnode_delete(kRootCNodeSlot, n2), Error::kOk);
  yield();
  expect("waiter cancelled", g.status, Error::kCancelled);
  expect("root done", 1, 1);
}

void retype_root(word info) {
  test::RootKit kit(info);
  word scratch = kit.slot();
  word ut = kit.untyped();
  word ep = kit.make(ObjectType::kEndpoint);
  word dest = kit.slot();
  word read_only_cnode = kit.mint(kRootCNodeSlot, Rights::kRead, 0);
  word empty = kit.slot();

  expect("retype: bad label", invoke(ut, Invocation(99), 0).status, Error::kInvalidLabel);
  expect("retype: too few args",
         invoke(ut, Invocation::kUntypedRetype, ObjectType::kEndpoint, 0, kRootCNodeSlot).status,
         Error::kInvalidArgument);
  expect("retype: bad type", retype(ut, ObjectType::kCount, 0, kRootCNodeSlot, dest),
         Error::kInvalidArgument);
  expect("retype: reply type", retype(ut, ObjectType::kReply, 0, kRootCNodeSlot, dest),
         Error::kInvalidArgument);
  expect("retype: cnode too small", retype(ut, ObjectType::kCNode, 1, kRootCNodeSlot, dest),
         Error::kInvalidArgument);
  expect("retype: size too big", retype(ut, ObjectType::kUntyped, 41, kRootCNodeSlot, dest),
         Error::kInvalidArgument);
  expect("retype: count 0", retype(ut, ObjectType::kEndpoint, 0, kRootCNodeSlot, dest, 0),
         Error::kInvalidArgument);
  expect("retype: count 257", retype(ut, ObjectType::kEndpoint, 0, kRootCNodeSlot, dest, 257),
         Error::kInvalidArgument);
  expect("retype: dest slot 0", retype(ut, ObjectType::kEndpoint, 0, kRootCNodeSlot, 0),
         Error::kInvalidArgument);
  expect("retype: dest past the end", retype(ut, ObjectType::kEndpoint, 0, kRootCNodeSlot, 4095, 2),
         Error::kInvalidArgument);
  expect("retype: dest slot ~0", retype(ut, ObjectType::kEndpoint, 0, kRootCNodeSlot, ~word{0}),
         Error::kInvalidArgument);
  expect("retype: empty cnode", retype(ut, ObjectType::kEndpoint, 0, empty, dest),
         Error::kInvalidCapability);
  expect("retype: cnode is an endpoint", retype(ut, ObjectType::kEndpoint, 0, ep, dest),
         Error::kWrongType);
  expect("retype: read-only cnode", retype(ut, ObjectType::kEndpoint, 0, read_only_cnode, dest),
         Error::kInsufficientRights);
  expect("retype: occupied", retype(ut, ObjectType::kEndpoint, 0, kRootCNodeSlot, ep),
         Error::kSlotOccupied);
  word ntfn = kit.make(ObjectType::kNotification);
  expect("retype: not an untyped", retype(ntfn, ObjectType::kEndpoint, 0, kRootCNodeSlot, dest),
         Error::kWrongType);
  expect("dest still empty", word(slot_is_empty(dest, scratch)), 1);

  // Too little memory: a 2^12 untyped holds no 2^13 frame, and 64 endpoints but not 65.
  word small = kit.slot();
  expect("retype small untyped", retype(ut, ObjectType::kUntyped, 12, kRootCNodeSlot, small),
         Error::kOk);
  word many = kit.slot();
  for (int i = 0; i < 70; ++i)
    (void)kit.slot();
  expect("retype: frame too big", retype(small, ObjectType::kFrame, 13, kRootCNodeSlot, many),
         Error::kNotEnoughMemory);
  expect("retype: 65 endpoints", retype(small, ObjectType::kEndpoint, 0, kRootCNodeSlot, many, 65),
         Error::kNotEnoughMemory);
  expect("no endpoint was made", word(slot_is_empty(many, scratch)), 1);
  expect("retype: 64 endpoints", retype(small, ObjectType::kEndpoint, 0, kRootCNodeSlot, many, 64),
         Error::kOk);
  expect("the last one is there", word(slot_is_empty(many + 63, scratch)), 0);
  expect("retype: full", retype(small, ObjectType::kEndpoint, 0, kRootCNodeSlot, many + 64),
         Error::kNotEnoughMemory);
  expect("retype: ok", retype(ut, ObjectType::kEndpoint, 0, kRootCNodeSlot, dest), Error::kOk);
  expect("try_send on the new endpoint", try_send(dest, Message{}), Error::kWouldBlock);
  expect("root done", 1, 1);
}

void cnode_root(word info) {
  test::RootKit kit(info);
  word scratch = kit.slot();
  word ep = kit.make(ObjectType::kEndpoint);
  word frame = kit.make(ObjectType::kFrame, 12);
  word badged = kit.mint(ep, Rights::kAll, 9);
  word read_only_cnode = kit.mint(kRootCNodeSlot, Rights::kRead, 0);
  word write_only_cnode = kit.mint(kRootCNodeSlot, Rights::kWrite, 0);
  word dest = kit.slot();
  word empty = kit.slot();
  constexpr word kRoot = kRootCNodeSlot;

  expect("cnode: bad label", invoke(kRoot, Invocation(99), 0).status, Error::kInvalidLabel);
  expect("cnode: read-only", cnode_copy(read_only_cnode, dest, kRoot, ep, Rights::kAll),
         Error::kInsufficientRights);
  expect("copy: too few args", invoke(kRoot, Invocation::kCNodeCopy, dest, kRoot, ep).status,
         Error::kInvalidArgument);
  expect("copy: dest out of range", cnode_copy(kRoot, 1u << 12, kRoot, ep, Rights::kAll),
         Error::kInvalidArgument);
  expect("copy: dest 0", cnode_copy(kRoot, 0, kRoot, ep, Rights::kAll), Error::kInvalidArgument);
  expect("copy: src cnode empty", cnode_copy(kRoot, dest, empty, ep, Rights::kAll),
         Error::kInvalidCapability);
  expect("copy: src cnode wrong type", cnode_copy(kRoot, dest, ep, ep, Rights::kAll),
         Error::kWrongType);
  expect("copy: src cnode write-only", cnode_copy(kRoot, dest, write_only_cnode, ep, Rights::kAll),
         Error::kInsufficientRights);
  expect("copy: src out of range", cnode_copy(kRoot, dest, kRoot, 1u << 12, Rights::kAll),
         Error::kInvalidArgument);
  expect("copy: src empty", cnode_copy(kRoot, dest, kRoot, empty, Rights::kAll),
         Error::kInvalidCapability);
  expect("copy: dest occupied", cnode_copy(kRoot, frame, kRoot, ep, Rights::kAll),
         Error::kSlotOccupied);
  expect("copy: bad rights", cnode_copy(kRoot, dest, kRoot, ep, Rights(8)),
         Error::kInvalidArgument);
  expect("copy: untyped", cnode_copy(kRoot, dest, kRoot, kit.untyped(), Rights::kAll),
         Error::kIllegalOperation);
  expect("mint: frame", cnode_mint(kRoot, dest, kRoot, frame, Rights::kAll, 1), Error::kWrongType);
  expect("mint: already badged", cnode_mint(kRoot, dest, kRoot, badged, Rights::kAll, 2),
         Error::kIllegalOperation);
  expect("mint: too few args", invoke(kRoot, Invocation::kCNodeMint, dest, kRoot, ep, 7).status,
         Error::kInvalidArgument);
  expect("dest still empty after the failures", word(slot_is_empty(dest, scratch)), 1);
  expect("copy: ok", cnode_copy(kRoot, dest, kRoot, ep, Rights::kAll), Error::kOk);
  expect("copy works", try_send(dest, Message{}), Error::kWouldBlock);

  // move
  word moved = kit.slot();
  expect("move: src cnode read-only", cnode_move(kRoot, moved, read_only_cnode, dest),
         Error::kInsufficientRights);
  expect("move: dest occupied", cnode_move(kRoot, frame, kRoot, dest), Error::kSlotOccupied);
  expect("move: src empty", cnode_move(kRoot, moved, kRoot, empty), Error::kInvalidCapability);
  expect("move: ok", cnode_move(kRoot, moved, kRoot, dest), Error::kOk);
  expect("move: source emptied", word(slot_is_empty(dest, scratch)), 1);
  expect("move: moved cap works", try_send(moved, Message{}), Error::kWouldBlock);

  // delete / revoke
  expect("delete: empty", cnode_delete(kRoot, empty), Error::kInvalidCapability);
  expect("delete: out of range", cnode_delete(kRoot, 1u << 12), Error::kInvalidArgument);
  expect("delete: no args", invoke(kRoot, Invocation::kCNodeDelete).status,
         Error::kInvalidArgument);
  expect("revoke: empty", cnode_revoke(kRoot, empty), Error::kInvalidCapability);
  expect("revoke: out of range", cnode_revoke(kRoot, 0), Error::kInvalidArgument);
  expect("delete: ok", cnode_delete(kRoot, moved), Error::kOk);
  expect("deleted", try_send(moved, Message{}), Error::kInvalidCapability);
  expect("revoke: ok", cnode_revoke(kRoot, ep), Error::kOk);

  // save_reply: nothing to save outside a call.
  expect("save_reply: no caller", cnode_save_reply(kRoot, dest), Error::kInvalidCapability);
  expect("save_reply: occupied", cnode_save_reply(kRoot, frame), Error::kSlotOccupied);
  expect("save_reply: out of range", cnode_save_reply(kRoot, 0), Error::kInvalidArgument);
  expect("root done", 1, 1);
}

void idle_thread(word) {
  for (int i = 0; i < 3; ++i)
    yield();
}

void thread_root(word info) {
  test::RootKit kit(info);
  word ep = kit.make(ObjectType::kEndpoint);
  word ntfn = kit.make(ObjectType::kNotification);
  word ntfn2 = kit.make(ObjectType::kNotification);
  word frame = kit.make(ObjectType::kFrame, 12);
  word read_only_frame = kit.mint(frame, Rights::kRead, 0);
  word read_only_ep = kit.mint(ep, Rights::kRead, 0);
  word ntfn_write_only = kit.mint(ntfn, Rights::kWrite, 0);
  word t = kit.make(ObjectType::kThread);
  word t_read_only = kit.mint(t, Rights::kRead, 0);
  word t_write_only = kit.mint(t, Rights::kWrite, 0);
  word empty = kit.slot();
  constexpr word kRoot = kRootCNodeSlot;
  constexpr word kSpace = kRootAddressSpaceSlot;

  expect("thread: bad label", invoke(t, Invocation(99)).status, Error::kInvalidLabel);
  expect("resume: unconfigured", thread_resume(t), Error::kIllegalOperation);
  expect("restart: unconfigured", thread_restart(t, 1, 0, 0), Error::kIllegalOperation);
  expect("configure: too few args", invoke(t, Invocation::kThreadConfigure, kRoot).status,
         Error::kInvalidArgument);
  expect("configure: empty cspace", thread_configure(t, empty, kSpace, 0, 0, 0),
         Error::kInvalidCapability);
  expect("configure: cspace wrong type", thread_configure(t, ep, kSpace, 0, 0, 0),
         Error::kWrongType);
  expect("configure: space wrong type", thread_configure(t, kRoot, kRoot, 0, 0, 0),
         Error::kWrongType);
  expect("configure: frame read-only", thread_configure(t, kRoot, kSpace, read_only_frame, 0, 0),
         Error::kInsufficientRights);
  expect("configure: fault ep read-only", thread_configure(t, kRoot, kSpace, 0, 0, read_only_ep),
         Error::kInsufficientRights);
  expect("configure: fault ep wrong type", thread_configure(t, kRoot, kSpace, 0, 0, ntfn),
         Error::kWrongType);
  expect("still unconfigured", thread_resume(t), Error::kIllegalOperation);
  expect("configure: ok", thread_configure(t, kRoot, kSpace, 0, 0, ep), Error::kOk);
  expect("configure: write-only cap", thread_configure(t_read_only, kRoot, kSpace, 0, 0, 0),
         Error::kInsufficientRights);
  expect("set_priority: above the caller's", thread_set_priority(t, kMaxPriority + 1),
         Error::kInvalidArgument);
  expect("set_priority: ok", thread_set_priority(t, 10), Error::kOk);
  expect("set_timeslice: too short", thread_set_timeslice(t, kMinTimesliceNs - 1),
         Error::kInvalidArgument);
  expect("set_timeslice: ok", thread_set_timeslice(t, kMinTimesliceNs), Error::kOk);
  expect("write_registers: ok", thread_write_registers(t, 0x1234, 0x5678, 1), Error::kOk);
  Message regs = thread_read_registers(t);
  expect("read_registers: ok", regs.status, Error::kOk);
  expect("read_registers: state", regs.words[0], word(ThreadState::kInactive));
  expect("read_registers: ip", regs.words[1], 0x1234);
  expect("read_registers: sp", regs.words[2], 0x5678);
  expect("read_registers: write-only", thread_read_registers(t_write_only).status,
         Error::kInsufficientRights);
  expect("suspend: read-only", thread_suspend(t_read_only), Error::kInsufficientRights);
  expect("bind: too few args", invoke(t, Invocation::kThreadBindNotification).status,
         Error::kInvalidArgument);
  expect("bind: empty", thread_bind_notification(t, empty), Error::kInvalidCapability);
  expect("bind: endpoint", thread_bind_notification(t, ep), Error::kWrongType);
  expect("bind: write-only", thread_bind_notification(t, ntfn_write_only),
         Error::kInsufficientRights);
  expect("unbind: none", thread_unbind_notification(t), Error::kNotFound);
  expect("bind: ok", thread_bind_notification(t, ntfn), Error::kOk);
  expect("bind: thread busy", thread_bind_notification(t, ntfn2), Error::kBusy);
  expect("bind: notification busy", thread_bind_notification(kRootThreadSlot, ntfn), Error::kBusy);
  expect("unbind: ok", thread_unbind_notification(t), Error::kOk);
  expect("unbind: again", thread_unbind_notification(t), Error::kNotFound);

  // A running thread's registers cannot be written; suspend and resume work.
  word runner = kit.spawn(idle_thread, 0, 10);
  expect("write_registers: not inactive", thread_write_registers(runner, 1, 2, 3),
         Error::kIllegalOperation);
  expect("suspend: ok", thread_suspend(runner), Error::kOk);
  expect("suspended", thread_read_registers(runner).words[0], word(ThreadState::kInactive));
  expect("resume: ok", thread_resume(runner), Error::kOk);
  expect("resumed", thread_read_registers(runner).words[0], word(ThreadState::kRunning));
  expect("root done", 1, 1);
}

void memory_root(word info) {
  test::RootKit kit(info);
  word frame = kit.make(ObjectType::kFrame, 12);
  word frame2 = kit.make(ObjectType::kFrame, 12);
  word read_only_frame = kit.mint(frame2, Rights::kRead, 0);
  word write_only_frame = kit.mint(frame2, Rights::kWrite, 0);
  word ep = kit.make(ObjectType::kEndpoint);
  word space_read_only = kit.mint(kRootAddressSpaceSlot, Rights::kRead, 0);
  word empty = kit.slot();
  constexpr word kSpace = kRootAddressSpaceSlot;
  constexpr word kAt = 0x50000000;
  constexpr Rights kRw = Rights::kRead | Rights::kWrite;

  expect("space: bad label", invoke(kSpace, Invocation(99)).status, Error::kInvalidLabel);
  expect("map: read-only space", map_frame(space_read_only, frame, kAt, kRw),
         Error::kInsufficientRights);
  expect("map: too few args", invoke(kSpace, Invocation::kAddressSpaceMap, frame, kAt).status,
         Error::kInvalidArgument);
  expect("map: empty", map_frame(kSpace, empty, kAt, kRw), Error::kInvalidCapability);
  expect("map: not a frame", map_frame(kSpace, ep, kAt, kRw), Error::kWrongType);
  expect("map: bad rights", map_frame(kSpace, frame, kAt, Rights(8)), Error::kInvalidArgument);
  expect("map: rights the frame lacks", map_frame(kSpace, read_only_frame, kAt, kRw),
         Error::kInsufficientRights);
  expect("map: unaligned", map_frame(kSpace, frame, kAt + 8, kRw), Error::kAlignment);
  expect("map: at 0", map_frame(kSpace, frame, 0, kRw), Error::kInvalidArgument);
  expect("map: past user space", map_frame(kSpace, frame, word{1} << 47, kRw),
         Error::kInvalidArgument);
  expect("not mapped after the failures", word(arch::user_pointer(kAt, 8) == nullptr), 1);
  expect("map: ok", map_frame(kSpace, frame, kAt, kRw), Error::kOk);
  expect("mapped", word(arch::user_pointer(kAt, 8) != nullptr), 1);
  expect("map: frame already mapped", map_frame(kSpace, frame, kAt + 0x1000, kRw), Error::kBusy);
  expect("map: address taken", map_frame(kSpace, read_only_frame, kAt, Rights::kRead),
         Error::kBusy);
  expect("unmap: nothing there", unmap_frame(kSpace, kAt + 0x1000), Error::kNotFound);
  expect("unmap: too few args", invoke(kSpace, Invocation::kAddressSpaceUnmap).status,
         Error::kInvalidArgument);
  expect("unmap: ok", unmap_frame(kSpace, kAt), Error::kOk);
  expect("unmapped", word(arch::user_pointer(kAt, 8) == nullptr), 1);
  expect("map read-only: ok", map_frame(kSpace, read_only_frame, kAt, Rights::kRead), Error::kOk);

  // At most 128 mappings per address space.
  word frames = kit.slot();
  for (int i = 1; i < 130; ++i)
    (void)kit.slot();
  expect("130 frames", retype(kit.untyped(), ObjectType::kFrame, 12, kRootCNodeSlot, frames, 130),
         Error::kOk);
  Error e = Error::kOk;
  word mapped = 0;
  for (word i = 0; i < 130 && e == Error::kOk; ++i) {
    e = map_frame(kSpace, frames + i, 0x70000000 + i * 0x1000, kRw);
    if (e == Error::kOk) ++mapped;
  }
  expect("mapping table full", e, Error::kNotEnoughMemory);
  expect("128 mappings in all", mapped + 3, 128);  // + IPC buffer, boot info, the one at kAt

  // The DMA frames that do answer are dma_root's.
  expect("frame: not a DMA frame", invoke(frame, Invocation::kFramePhysicalAddress).status,
         Error::kIllegalOperation);
  expect("frame: write-only", invoke(write_only_frame, Invocation::kFramePhysicalAddress).status,
         Error::kInsufficientRights);
  expect("frame: bad label", invoke(frame, Invocation(99)).status, Error::kInvalidLabel);
  expect("root done", 1, 1);
}

// The RAM untyped block that holds [paddr, paddr + bytes), or nullptr.
const BootInfo::Untyped* ram_block_holding(const BootInfo& info, word paddr, word bytes) {
  for (word i = 0; i < info.untyped_count; ++i) {
    const BootInfo::Untyped& u = info.untyped[i];
    word size = word{1} << u.size_bits;
    if (u.is_device == 0 && paddr >= u.paddr && paddr - u.paddr <= size - bytes) return &u;
  }
  return nullptr;
}

arch::MemoryType memory_type_at(word vaddr) {
  return core::current()->address_space()->page_table.translate(vaddr).type;
}

// Frame attributes (kUntypedRetype's sixth argument) and kFramePhysicalAddress, which only a
// DMA frame answers.
void dma_root(word info) {
  test::RootKit kit(info);
  word scratch = kit.slot();
  word ut = kit.untyped();
  word dest = kit.slot();
  constexpr word kRoot = kRootCNodeSlot;
  constexpr word kSpace = kRootAddressSpaceSlot;
  constexpr Rights kRw = Rights::kRead | Rights::kWrite;
  constexpr auto kDma = FrameAttributes::kDma;
  constexpr auto kUncached = FrameAttributes::kUncached;

  expect("retype: unknown attribute bits",
         retype(ut, ObjectType::kFrame, 12, kRoot, dest, 1, FrameAttributes(4)),
         Error::kInvalidArgument);
  expect("retype: attributes on an endpoint",
         retype(ut, ObjectType::kEndpoint, 0, kRoot, dest, 1, kDma), Error::kInvalidArgument);
  expect("retype: attributes on an untyped",
         retype(ut, ObjectType::kUntyped, 12, kRoot, dest, 1, kDma), Error::kInvalidArgument);
  expect("nothing was made", word(slot_is_empty(dest, scratch)), 1);

  // A DMA frame of 2^14 bytes: its bus address is aligned to its size and lies in RAM, so the
  // 16 KiB are contiguous for the device.
  expect("retype: DMA frame", Untyped{ut}.retype_frames(14, kDma, CNode{kRoot}, dest), Error::kOk);
  Message pa = Frame{dest}.physical_address();
  expect("DMA frame: physical address ok", pa.status, Error::kOk);
  expect("DMA frame: size", pa.words[1], 0x4000);
  expect("DMA frame: aligned to its size", pa.words[0] % 0x4000, 0);
  expect_true("DMA frame: inside a RAM untyped",
              ram_block_holding(kit.info(), pa.words[0], 0x4000) != nullptr);
  word copy = kit.slot();
  word read_only = kit.mint(dest, Rights::kRead, 0);
  word write_only = kit.mint(dest, Rights::kWrite, 0);
  expect("copy: ok", cnode_copy(kRoot, copy, kRoot, dest, Rights::kAll), Error::kOk);
  expect("a copy keeps the attributes", Frame{copy}.physical_address().words[0], pa.words[0]);
  expect("a read-only mint keeps them", Frame{read_only}.physical_address().words[0], pa.words[0]);
  expect("DMA frame: write-only", Frame{write_only}.physical_address().status,
         Error::kInsufficientRights);
  expect("DMA frame: maps cached", map_frame(kSpace, dest, 0x60000000, kRw), Error::kOk);
  expect("cached", word(memory_type_at(0x60000000)), word(arch::MemoryType::kCached));
  auto* bytes = static_cast<volatile std::uint8_t*>(arch::user_pointer(0x60003000, 1));
  expect_true("DMA frame: zeroed and usable", bytes != nullptr && *bytes == 0);

  // Uncached: recorded in the mapping (the hosted page table keeps the memory type).
  word uncached = kit.slot();
  expect("retype: uncached DMA frame",
         retype(ut, ObjectType::kFrame, 12, kRoot, uncached, 1, kDma | kUncached), Error::kOk);
  expect("uncached: maps", map_frame(kSpace, uncached, 0x60010000, kRw), Error::kOk);
  expect("uncached", word(memory_type_at(0x60010000)), word(arch::MemoryType::kUncached));
  expect("uncached: its address", Frame{uncached}.physical_address().status, Error::kOk);
  word plain = kit.make(ObjectType::kFrame, 12);
  expect("plain frame: no address", Frame{plain}.physical_address().status,
         Error::kIllegalOperation);
  expect("root done", 1, 1);
}

void irq_root(word info) {
  test::RootKit kit(info);
  word ntfn = kit.make(ObjectType::kNotification);
  word badged = kit.mint(ntfn, Rights::kAll, 1);
  word read_only = kit.mint(badged, Rights::kRead, 0);
  word ep = kit.make(ObjectType::kEndpoint);
  word handler = kit.slot();
  word handler2 = kit.slot();
  word empty = kit.slot();
  constexpr word kRoot = kRootCNodeSlot;

  expect("irq control: bad label", invoke(kIrqControlSlot, Invocation(99)).status,
         Error::kInvalidLabel);
  // Power-off: only where the kernel can (AArch64 under QEMU); the host ends a hosted run.
  expect("power off: hosted cannot", irq_control_power_off(kIrqControlSlot),
         Error::kIllegalOperation);
  word read_only_control = kit.mint(kIrqControlSlot, Rights::kRead, 0);
  expect("power off: read-only", irq_control_power_off(read_only_control),
         Error::kInsufficientRights);
  expect("delete the read-only control", cnode_delete(kRoot, read_only_control), Error::kOk);
  expect("irq get: too few args", invoke(kIrqControlSlot, Invocation::kIrqControlGet, 3).status,
         Error::kInvalidArgument);
  expect("irq get: no such line", irq_control_get(kIrqControlSlot, 32, kRoot, handler),
         Error::kInvalidArgument);
  expect("irq get: empty cnode", irq_control_get(kIrqControlSlot, 3, empty, handler),
         Error::kInvalidCapability);
  expect("irq get: not a cnode", irq_control_get(kIrqControlSlot, 3, ep, handler),
         Error::kWrongType);
  expect("irq get: slot out of range", irq_control_get(kIrqControlSlot, 3, kRoot, 0),
         Error::kInvalidArgument);
  expect("irq get: occupied", irq_control_get(kIrqControlSlot, 3, kRoot, ep), Error::kSlotOccupied);
  expect("irq get: ok", irq_control_get(kIrqControlSlot, 3, kRoot, handler), Error::kOk);
  expect("irq get: claimed", irq_control_get(kIrqControlSlot, 3, kRoot, handler2), Error::kBusy);
  expect("handler: bad label", invoke(handler, Invocation(99)).status, Error::kInvalidLabel);
  expect("ack: no notification", irq_ack(handler), Error::kIllegalOperation);
  expect("deadline: too few args", invoke(handler, Invocation::kIrqHandlerSetDeadline).status,
         Error::kInvalidArgument);
  expect("deadline: no notification", irq_set_deadline(handler, 1000), Error::kIllegalOperation);
  // Hosted: every line is raised by a write of its number to the bus's MSI doorbell.
  Message msi = invoke(handler, Invocation::kIrqHandlerMsiMessage);
  expect("msi message: ok", msi.status, Error::kOk);
  expect("msi message: the doorbell", msi.words[0], hosted::kMsiAddress);
  expect("msi message: the line", msi.words[1], 3);
  word read_only_handler = kit.mint(handler, Rights::kRead, 0);
  expect("msi message: read-only handler",
         invoke(read_only_handler, Invocation::kIrqHandlerMsiMessage).status,
         Error::kInsufficientRights);
  expect("delete the read-only handler", cnode_delete(kRoot, read_only_handler), Error::kOk);
  expect("set: too few args", invoke(handler, Invocation::kIrqHandlerSetNotification).status,
         Error::kInvalidArgument);
  expect("set: empty", irq_set_notification(handler, empty), Error::kInvalidCapability);
  expect("set: endpoint", irq_set_notification(handler, ep), Error::kWrongType);
  expect("set: read-only", irq_set_notification(handler, read_only), Error::kInsufficientRights);
  expect("set: badge 0", irq_set_notification(handler, ntfn), Error::kInvalidArgument);
  expect("set: ok", irq_set_notification(handler, badged), Error::kOk);
  expect("ack: ok", irq_ack(handler), Error::kOk);
  // Only a line that is a kernel timer takes a deadline (AArch64's last line); hosted has none.
  expect("deadline: not a timer line", irq_set_deadline(handler, 1000), Error::kIllegalOperation);
  expect("clear: ok", invoke(handler, Invocation::kIrqHandlerClear).status, Error::kOk);
  expect("ack after clear", irq_ack(handler), Error::kIllegalOperation);

  // The line is claimed while any handler capability (or copy) to it exists.
  word copy = kit.mint(handler, Rights::kAll, 0);
  expect("copy of the handler", word(copy != 0), 1);
  expect("delete the original", cnode_delete(kRoot, handler), Error::kOk);
  expect("still claimed", irq_control_get(kIrqControlSlot, 3, kRoot, handler2), Error::kBusy);
  expect("the copy works", irq_set_notification(copy, badged), Error::kOk);
  expect("delete the copy", cnode_delete(kRoot, copy), Error::kOk);
  expect("released: claim again", irq_control_get(kIrqControlSlot, 3, kRoot, handler2), Error::kOk);
  expect("a fresh handler has no notification", irq_ack(handler2), Error::kIllegalOperation);
  expect("root done", 1, 1);
}

// The hosted back-end has no I/O ports: the root task's kIoPortsSlot is empty and no IoPorts
// capability can be made (retype refuses the type), so what can be checked here is that the slot
// is empty, the untyped memory starts after it, and the I/O labels on other objects. The
// invocations themselves run in the x86-64 scenario (targets/x86_64/user/arch_checks.cpp).
void io_ports_root(word info) {
  test::RootKit kit(info);
  word scratch = kit.slot();
  word dest = kit.slot();
  word ntfn = kit.make(ObjectType::kNotification);
  constexpr word kRoot = kRootCNodeSlot;

  expect("io ports slot: empty", word(slot_is_empty(kIoPortsSlot, scratch)), 1);
  expect("the first untyped follows it", kFirstUntypedSlot, kIoPortsSlot + 1);
  expect("the first untyped", retype(kFirstUntypedSlot, ObjectType::kEndpoint, 0, kRoot, dest),
         Error::kOk);
  expect("(delete it)", cnode_delete(kRoot, dest), Error::kOk);
  expect("read: empty slot", io_ports_read(kIoPortsSlot, 0x3ff, 1).status,
         Error::kInvalidCapability);
  expect("write: empty slot", io_ports_write(kIoPortsSlot, 0x3ff, 1, 0x5a),
         Error::kInvalidCapability);
  expect("issue: empty slot", io_ports_issue(kIoPortsSlot, 0x3f8, 8, kRoot, dest),
         Error::kInvalidCapability);
  IoPorts::ReadResult r = root_task::kIoPorts.read8(0x3ff);
  expect("IoPorts::read8: empty slot", r.status, Error::kInvalidCapability);
  expect("IoPorts::read8: value 0 on an error", r.value, 0);
  expect("IoPorts::write32: empty slot", root_task::kIoPorts.write32(0xcf8, 0),
         Error::kInvalidCapability);
  expect("read: notification", io_ports_read(ntfn, 0x3ff, 1).status, Error::kWrongType);
  expect("write: notification", io_ports_write(ntfn, 0x3ff, 1, 0), Error::kWrongType);
  expect("issue: notification", io_ports_issue(ntfn, 0x3f8, 8, kRoot, dest), Error::kWrongType);
  expect("read: on a CNode", io_ports_read(kRoot, 0x3ff, 1).status, Error::kInvalidLabel);
  expect("issue: on an untyped", io_ports_issue(kit.untyped(), 0x3f8, 8, kRoot, dest),
         Error::kInvalidLabel);
  expect("retype an IoPorts", retype(kit.untyped(), ObjectType::kIoPorts, 0, kRoot, dest),
         Error::kInvalidArgument);
  expect("nothing was made", word(slot_is_empty(dest, scratch)), 1);
  expect("root done", 1, 1);
}

void run_root(hosted::Entry root, std::size_t expected) {
  test::reset_observations();
  g = Shared{};
  hosted::Simulation sim;
  REQUIRE(sim.run(root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(expected);
}

}  // namespace

TEST_CASE("send, recv, reply and yield: success and every error") {
  run_root(ipc_root, 41);
}

TEST_CASE("signal, wait and poll: success and every error") {
  run_root(notification_root, 20);
}

TEST_CASE("untyped retype: success and every error") {
  run_root(retype_root, 27);
}

TEST_CASE("cnode copy, mint, move, delete, revoke, save_reply: success and every error") {
  run_root(cnode_root, 37);
}

TEST_CASE("thread invocations: success and every error") {
  run_root(thread_root, 40);
}

TEST_CASE("address space and frame invocations: success and every error") {
  run_root(memory_root, 27);
}

TEST_CASE("frame attributes and DMA frames: success and every error") {
  run_root(dma_root, 22);
}

TEST_CASE("irq control and handler invocations: success and every error") {
  run_root(irq_root, 39);
}

TEST_CASE("io ports: the hosted root task has none; the labels on other objects") {
  run_root(io_ports_root, 18);
}

TEST_CASE("debug_write reaches the console") {
  test::reset_observations();
  hosted::Simulation sim;
  REQUIRE(sim.run([](word) { (void)debug_write("console check\n"); }) == hosted::RunResult::kIdle);
  CHECK(sim.console().find("console check\n") != std::string::npos);
}

TEST_CASE("debug_write returns the ticks halted: none on hosted, and no bytes write nothing") {
  test::reset_observations();
  hosted::Simulation sim;
  static Message answer;
  static word idle = ~word{0};
  REQUIRE(sim.run([](word) {
    Message m(MessageInfo(0, 0));
    m.words[0] = 0x4141414141414141;  // not written: the length is 0
    answer = sys::syscall(Syscall::kDebugWrite, 0, m);
    idle = debug_idle_ticks();
  }) == hosted::RunResult::kIdle);
  CHECK(answer.status == Error::kOk);
  CHECK(answer.info.length() == 1);
  CHECK(answer.words[0] == 0);  // hosted never halts (the virtual clock jumps)
  CHECK(idle == 0);
  CHECK(sim.console().find("AAAA") == std::string::npos);
}
