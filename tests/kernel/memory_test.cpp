// Kernel-memory accounting: a server that has used up its own untyped gets kNotEnoughMemory,
// others are unaffected, and revoking the untyped lets its memory be retyped afresh.
#include <catch2/catch.hpp>

#include "check_observations.hpp"
#include "support/root_kit.hpp"
#include "ukernel/hosted/devices.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;
using test::expect;
using test::expect_true;

namespace {

// The server's own CSpace.
constexpr word kServerUntyped = 1;
constexpr word kServerCNode = 2;
constexpr word kServerGo = 3;
constexpr word kServerReport = 4;
constexpr word kServerFirstFree = 10;
constexpr unsigned kServerCNodeBits = 7;
constexpr unsigned kServerUntypedBits = 12;  // room for 64 endpoints of 64 bytes

struct Shared {
  word made[2] = {};
  Error last[2] = {};
} g;

void greedy_server(word) {
  for (int phase = 0; phase < 2; ++phase) {
    word n = 0;
    Error e;
    while ((e = retype(kServerUntyped, ObjectType::kEndpoint, 0, kServerCNode,
                       kServerFirstFree + n)) == Error::kOk)
      ++n;
    g.made[phase] = n;
    g.last[phase] = e;
    (void)send(kServerReport, Message{});
    (void)wait(kServerGo);
  }
}

void memory_root(word info) {
  test::RootKit kit(info);
  constexpr word kRoot = kRootCNodeSlot;
  word cnode = kit.make(ObjectType::kCNode, kServerCNodeBits);
  word ep = kit.make(ObjectType::kEndpoint);
  word ntfn = kit.make(ObjectType::kNotification);
  expect("small untyped for the server",
         retype(kit.untyped(), ObjectType::kUntyped, kServerUntypedBits, cnode, kServerUntyped),
         Error::kOk);
  expect("server's cnode cap", cnode_copy(cnode, kServerCNode, kRoot, cnode, Rights::kAll),
         Error::kOk);
  expect("server's go", cnode_mint(cnode, kServerGo, kRoot, ntfn, Rights::kAll, 1), Error::kOk);
  expect("server's report", cnode_copy(cnode, kServerReport, kRoot, ep, Rights::kAll), Error::kOk);
  word t = kit.make(ObjectType::kThread);
  word frame = kit.make(ObjectType::kFrame, 12);
  constexpr word kIpc = 0x60000000;
  expect("map", map_frame(kRootAddressSpaceSlot, frame, kIpc, Rights::kRead | Rights::kWrite),
         Error::kOk);
  expect("configure", thread_configure(t, cnode, kRootAddressSpaceSlot, frame, kIpc, 0),
         Error::kOk);
  expect("priority", thread_set_priority(t, 100), Error::kOk);
  expect("start", thread_restart(t, hosted::entry_address(greedy_server), 0, 0), Error::kOk);

  expect("report 1", recv(ep).status, Error::kOk);
  expect("phase 1: 64 endpoints", g.made[0], 64);
  expect("phase 1: then out of memory", g.last[0], Error::kNotEnoughMemory);
  // Everybody else is unaffected.
  word mine = kit.make(ObjectType::kEndpoint);
  expect("root still makes objects", word(mine != 0), 1);
  expect("root's thread", word(kit.make(ObjectType::kThread) != 0), 1);
  expect("root's new endpoint works", try_send(mine, Message{}), Error::kWouldBlock);
  // Revoke the server's untyped: its objects go, and its memory can be used again.
  expect("revoke", cnode_revoke(cnode, kServerUntyped), Error::kOk);
  expect("server's endpoints are gone", cnode_delete(cnode, kServerFirstFree),
         Error::kInvalidCapability);
  word go = kit.mint(ntfn, Rights::kWrite, 1);
  expect("go", signal(go), Error::kOk);
  expect("report 2", recv(ep).status, Error::kOk);
  expect("phase 2: 64 endpoints again", g.made[1], 64);
  expect("phase 2: then out of memory", g.last[1], Error::kNotEnoughMemory);
  expect("root done", 1, 1);
}

// Objects in use when their untyped is revoked: a thread blocked on an endpoint, both made
// from the same untyped. Revoke finalises them; the memory then holds fresh objects that work.
struct Reuse {
  word endpoint = 0;
  word got[2] = {};
  int runs = 0;
} g_reuse;

void reuse_receiver(word round) {
  ++g_reuse.runs;
  Message m = recv(g_reuse.endpoint);
  if (m.ok()) g_reuse.got[round] = m.words[0];
}

void reuse_root(word info) {
  test::RootKit kit(info);
  word ut = kit.slot();
  expect("untyped", retype(kit.untyped(), ObjectType::kUntyped, 16, kRootCNodeSlot, ut),
         Error::kOk);
  word frames[2] = {kit.make(ObjectType::kFrame, 12), kit.make(ObjectType::kFrame, 12)};
  for (word round = 0; round < 2; ++round) {
    word ep = kit.slot();
    word t = kit.slot();
    expect("endpoint", retype(ut, ObjectType::kEndpoint, 0, kRootCNodeSlot, ep), Error::kOk);
    expect("thread", retype(ut, ObjectType::kThread, 0, kRootCNodeSlot, t), Error::kOk);
    word at = 0x68000000 + round * 0x1000;
    expect("map",
           map_frame(kRootAddressSpaceSlot, frames[round], at, Rights::kRead | Rights::kWrite),
           Error::kOk);
    expect("configure",
           thread_configure(t, kRootCNodeSlot, kRootAddressSpaceSlot, frames[round], at, 0),
           Error::kOk);
    expect("priority", thread_set_priority(t, kMaxPriority), Error::kOk);
    g_reuse.endpoint = ep;
    expect("start", thread_restart(t, hosted::entry_address(reuse_receiver), 0, round), Error::kOk);
    yield();
    expect("receiver blocked", thread_read_registers(t).words[0],
           word(ThreadState::kBlockedOnRecv));
    if (round == 1) {
      Message m(MessageInfo(0, 1));
      m.words[0] = 4321;
      expect("send to the new receiver", send(ep, m), Error::kOk);
      yield();
    }
    expect("revoke", cnode_revoke(kRootCNodeSlot, ut), Error::kOk);
    expect("thread gone", thread_suspend(t), Error::kInvalidCapability);
    expect("endpoint gone", try_send(ep, Message{}), Error::kInvalidCapability);
    yield();
  }
  expect("both receivers ran", word(g_reuse.runs), 2);
  expect("the first never got a message", g_reuse.got[0], 0);
  expect("the second, in reused memory, did", g_reuse.got[1], 4321);
  expect("root done", 1, 1);
}

// A thread's IPC buffer frame revoked while the thread lives: the kernel must stop using that
// memory (it becomes other kernel objects), so the thread receives as if it had no buffer.
struct Orphan {
  word endpoint = 0;
  Message got;
  int count = 0;
} g_orphan;

void orphan_receiver(word) {
  for (;;) {
    g_orphan.got = recv(g_orphan.endpoint);
    ++g_orphan.count;
  }
}

void orphan_root(word info) {
  test::RootKit kit(info);
  word ut = kit.slot();
  expect("page-sized untyped", retype(kit.untyped(), ObjectType::kUntyped, 12, kRootCNodeSlot, ut),
         Error::kOk);
  word frame = kit.slot();
  expect("frame", retype(ut, ObjectType::kFrame, 12, kRootCNodeSlot, frame), Error::kOk);
  g_orphan.endpoint = kit.make(ObjectType::kEndpoint);
  word t = kit.make(ObjectType::kThread);
  expect("configure",
         thread_configure(t, kRootCNodeSlot, kRootAddressSpaceSlot, frame, 0x6c000000, 0),
         Error::kOk);
  expect("priority", thread_set_priority(t, kMaxPriority), Error::kOk);
  expect("start", thread_restart(t, hosted::entry_address(orphan_receiver), 0, 0), Error::kOk);
  yield();
  // The frame's memory becomes a CNode holding an endpoint capability in its slot 1.
  expect("revoke", cnode_revoke(kRootCNodeSlot, ut), Error::kOk);
  word cnode = kit.slot();
  expect("cnode in the frame's memory", retype(ut, ObjectType::kCNode, 5, kRootCNodeSlot, cnode),
         Error::kOk);
  expect("a cap in it", cnode_copy(cnode, 1, kRootCNodeSlot, g_orphan.endpoint, Rights::kAll),
         Error::kOk);
  Message m(MessageInfo(9, kMaxMessageWords));
  for (std::size_t i = 0; i < kMaxMessageWords; ++i)
    set_message_word(m, i, 0xdead0000 + i);
  expect("send 64 words", send(g_orphan.endpoint, m), Error::kOk);
  yield();
  expect("received", word(g_orphan.count), 1);
  expect("truncated to the registers", word(g_orphan.got.info.truncated()), 1);
  expect("length", g_orphan.got.info.length(), kMessageRegisters);
  word probe = kit.slot();
  expect("the cap in the reused memory is intact",
         cnode_copy(kRootCNodeSlot, probe, cnode, 1, Rights::kAll), Error::kOk);
  expect("and works: the receiver waits again", try_send(probe, Message{}), Error::kOk);
  yield();
  expect("received again", word(g_orphan.count), 2);
  expect("root done", 1, 1);
}

// A sender blocked in kSend loses its IPC buffer (reconfigured without one) before a receiver
// comes: its message needs the buffer (64 words, a capability), so its send is cancelled
// (kCancelled) and the receiver gets the next sender's message. Found by the hostile root task
// on AArch64 (docs/fuzzing.md): the kernel read the words past the registers through the
// sender's null buffer.
struct LostBuffer {
  word endpoint = 0;
  Error sent = Error::kInvalidArgument;
  Error second_sent = Error::kInvalidArgument;
} g_lost;

void lost_buffer_sender(word) {
  Message m(MessageInfo(7, kMaxMessageWords, 1));
  for (std::size_t i = 0; i < kMaxMessageWords; ++i)
    set_message_word(m, i, 0x5000 + i);
  arch::user_ipc_buffer()->caps[0] = g_lost.endpoint;
  g_lost.sent = send(g_lost.endpoint, m);
}

void second_sender(word) {
  Message m(MessageInfo(8, 2));
  m.words[0] = 0x11, m.words[1] = 0x22;
  g_lost.second_sent = send(g_lost.endpoint, m);
}

void lost_buffer_root(word info) {
  test::RootKit kit(info);
  g_lost.endpoint = kit.make(ObjectType::kEndpoint);
  word sender = kit.spawn(lost_buffer_sender, 0, kMaxPriority);
  word second = kit.spawn(second_sender, 0, kMaxPriority);
  expect_true("senders started", sender != 0 && second != 0);
  yield();  // both block in send: nobody receives yet
  expect("the first sender's buffer goes while it waits",
         thread_configure(sender, kRootCNodeSlot, kRootAddressSpaceSlot, 0, 0, 0), Error::kOk);
  arch::user_ipc_buffer()->receive_slot = kit.slot();
  arch::user_ipc_buffer()->receive_count = 1;
  Message r = recv(g_lost.endpoint);
  expect("received", r.status, Error::kOk);
  expect("the second sender's message", r.label(), 8);
  expect("its words", r.words[0] + r.words[1], 0x33);
  yield();
  expect("the first sender's send is cancelled", g_lost.sent, Error::kCancelled);
  expect("the second sender's send returned", g_lost.second_sent, Error::kOk);
  expect("nothing else waits", try_recv(g_lost.endpoint).status, Error::kWouldBlock);
}

// The hosted back-end's device window (ukernel/hosted/devices.hpp): its regions are device
// untyped, after the RAM blocks, with bare metal's rules: frames only, never DMA frames, never an
// IPC buffer, and no address to tell.
void device_window_root(word info) {
  test::RootKit kit(info);
  const BootInfo& boot = kit.info();
  word device_bytes = 0, ram_after_device = 0, device = 0, outside = 0;
  for (word i = 0; i < boot.untyped_count; ++i) {
    const BootInfo::Untyped& u = boot.untyped[i];
    if (u.is_device == 0) {
      ram_after_device += device_bytes != 0;
      continue;
    }
    device_bytes += word{1} << u.size_bits;
    if (u.paddr == hosted::kConsoleAddress) device = kFirstUntypedSlot + i;
    outside += !(u.paddr >= hosted::kDeviceWindowBase &&
                 u.paddr - hosted::kDeviceWindowBase < hosted::kDeviceWindowBytes);
  }
  expect("every device untyped inside the window", outside, 0);
  word listed = 0;
  for (const hosted::DeviceRegion& r : hosted::kDeviceRegions)
    listed += r.bytes;
  expect("every device region, in all", device_bytes, listed);
  expect("RAM first", ram_after_device, 0);
  // The PCI host bridge: its ECAM and BAR windows are among the device regions.
  expect("pci: ecam", boot.pci.ecam_paddr, hosted::kEcamAddress);
  expect("pci: ecam size", boot.pci.ecam_size, hosted::kEcamBytes);
  expect("pci: buses", boot.pci.bus_last - boot.pci.bus_first + 1, hosted::kEcamBytes >> 20);
  expect("pci: bar window", boot.pci.mmio_paddr, hosted::kDeviceBarBase);
  expect("pci: bar window size", boot.pci.mmio_size, hosted::kDeviceBarBytes);
  expect("pci: the pci server assigns", boot.pci.firmware_assigned, 0);
  expect_true("the console's page is a block of its own", device != 0);
  expect_true("the kit's untyped is RAM", kit.untyped() != device);
  word slot = kit.slot();
  expect("device untyped: no endpoint",
         retype(device, ObjectType::kEndpoint, 0, kRootCNodeSlot, slot), Error::kInvalidArgument);
  expect("device untyped: no DMA frame",
         retype(device, ObjectType::kFrame, 12, kRootCNodeSlot, slot, 1, FrameAttributes::kDma),
         Error::kInvalidArgument);
  expect(
      "device untyped: no uncached frame either",
      retype(device, ObjectType::kFrame, 12, kRootCNodeSlot, slot, 1, FrameAttributes::kUncached),
      Error::kInvalidArgument);
  expect("device untyped: a frame", retype(device, ObjectType::kFrame, 12, kRootCNodeSlot, slot),
         Error::kOk);
  expect("a device frame tells no address", invoke(slot, Invocation::kFramePhysicalAddress).status,
         Error::kIllegalOperation);
  word thread = kit.make(ObjectType::kThread);
  expect("a device frame is no IPC buffer",
         thread_configure(thread, kRootCNodeSlot, kRootAddressSpaceSlot, slot, 0x70000000, 0),
         Error::kInvalidArgument);

  // Device untyped splits into smaller device untyped (seL4's way of reaching one page of a
  // window: carve children in order), and a child keeps every device rule.
  word bars = 0;
  for (word i = 0; i < boot.untyped_count; ++i) {
    if (boot.untyped[i].is_device != 0 && boot.untyped[i].paddr == hosted::kDeviceBarBase)
      bars = kFirstUntypedSlot + i;
  }
  expect_true("the BAR window is a device untyped", bars != 0);
  word pieces = kit.slot();
  kit.slot();
  expect("device untyped: two device untyped children",
         retype(bars, ObjectType::kUntyped, 16, kRootCNodeSlot, pieces, 2), Error::kOk);
  word child = kit.slot();
  expect("a device child: no endpoint",
         retype(pieces + 1, ObjectType::kEndpoint, 0, kRootCNodeSlot, child),
         Error::kInvalidArgument);
  expect(
      "a device child: no DMA frame",
      retype(pieces + 1, ObjectType::kFrame, 12, kRootCNodeSlot, child, 1, FrameAttributes::kDma),
      Error::kInvalidArgument);
  expect("a device child: a frame",
         retype(pieces + 1, ObjectType::kFrame, 12, kRootCNodeSlot, child), Error::kOk);
  expect("a device child's frame tells no address",
         invoke(child, Invocation::kFramePhysicalAddress).status, Error::kIllegalOperation);
  expect("root done", 1, 1);
}

}  // namespace

TEST_CASE("hosted BootInfo lists the device window as device untyped, after the RAM") {
  test::reset_observations();
  hosted::Simulation sim;
  REQUIRE(sim.run(device_window_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(24);
}

TEST_CASE("a server out of kernel memory gets kNotEnoughMemory; revoke makes it reusable") {
  test::reset_observations();
  g = Shared{};
  hosted::Simulation sim;
  REQUIRE(sim.run(memory_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(21);
}

TEST_CASE("revoking an untyped destroys objects in use; the memory holds fresh working objects") {
  test::reset_observations();
  g_reuse = Reuse{};
  hosted::Simulation sim;
  REQUIRE(sim.run(reuse_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(26);
}

TEST_CASE("a thread whose IPC buffer frame is revoked no longer has a buffer") {
  test::reset_observations();
  g_orphan = Orphan{};
  hosted::Simulation sim;
  REQUIRE(sim.run(orphan_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(16);
}

TEST_CASE("a sender that loses its IPC buffer while blocked in send is cancelled") {
  test::reset_observations();
  g_lost = LostBuffer{};
  hosted::Simulation sim;
  REQUIRE(sim.run(lost_buffer_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(8);
}
