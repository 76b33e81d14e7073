// Device memory on the hosted back-end, enforced as on hardware: a thread reaches a device model
// only through a device frame mapped in its space (ukernel/mmio.hpp); a stray access faults with
// kMemoryAccess and the supervisor hears of it. And the machine's Bus a model uses: DMA bounds,
// work at a virtual time (deterministic order, the idle path jumps to it), MSI and lines.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "check_observations.hpp"
#include "support/root_kit.hpp"
#include "ukernel/caps.hpp"
#include "ukernel/hosted/bus.hpp"
#include "ukernel/hosted/devices.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/mmio.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;
using test::expect;
using test::expect_true;

namespace {

// 32 bytes of registers, little-endian, at any width; beyond them the model decodes nothing.
class Registers final : public hosted::MmioDevice {
 public:
  word read(word offset, unsigned width) override {
    ++reads;
    if (offset + width > sizeof bytes_) return ~word{0};
    word value = 0;
    std::memcpy(&value, bytes_ + offset, width);
    return value;
  }
  void write(word offset, unsigned width, word value) override {
    ++writes;
    if (offset + width <= sizeof bytes_) std::memcpy(bytes_ + offset, &value, width);
  }
  std::uint8_t byte(word offset) const { return bytes_[offset]; }
  int reads = 0;
  int writes = 0;

 private:
  std::uint8_t bytes_[32] = {};
};

constexpr word kMapped = 0x50000000;
constexpr Rights kRw = Rights::kRead | Rights::kWrite;

// The device untyped whose block starts at `paddr` (a frame retyped first from it is there).
word device_untyped_at(const BootInfo& info, word paddr) {
  for (word i = 0; i < info.untyped_count; ++i) {
    if (info.untyped[i].is_device != 0 && info.untyped[i].paddr == paddr)
      return kFirstUntypedSlot + i;
  }
  return 0;
}

void mapped_root(word info) {
  test::RootKit kit(info);
  word untyped = device_untyped_at(kit.info(), hosted::kDeviceBarBase);
  expect_true("a device untyped starts at the BAR area", untyped != 0);
  word frame = kit.slot();
  word empty_page = kit.slot();
  expect("retype the model's page", retype(untyped, ObjectType::kFrame, 12, kRootCNodeSlot, frame),
         Error::kOk);
  expect("and the next one", retype(untyped, ObjectType::kFrame, 12, kRootCNodeSlot, empty_page),
         Error::kOk);
  expect("map it", map_frame(kRootAddressSpaceSlot, frame, kMapped, kRw), Error::kOk);
  expect("map the next", map_frame(kRootAddressSpaceSlot, empty_page, kMapped + 0x1000, kRw),
         Error::kOk);
  Mmio regs{kMapped, 0x1000};
  regs.write64(0, 0x1122334455667788);
  expect("read8", regs.read8(0), 0x88);
  expect("read16", regs.read16(2), 0x5566);
  expect("read32", regs.read32(4), 0x11223344);
  expect("read64", regs.read64(0), 0x1122334455667788);
  regs.write8(8, 0xab);
  regs.write16(10, 0xcdef);
  regs.write32(12, 0x01020304);
  expect("read(offset, width)", regs.read(8, 8), 0x01020304cdef00ab);
  regs.write(16, 4, 0xfffffffff00dfeed);  // only the low 4 bytes reach the model
  expect("write(offset, width, value)", regs.read(16, 8), 0xf00dfeed);
  expect("an offset the model does not decode", regs.read32(32), 0xffffffff);
  Mmio nothing{kMapped + 0x1000, 0x1000};
  nothing.write64(0, 0);
  expect("a device page with no model reads all ones", nothing.read64(0), ~word{0});
  expect("and narrower", nothing.read16(6), 0xffff);
  expect("root done", 1, 1);
}

TEST_CASE("mmio: a thread with the device frame mapped reads and writes the model") {
  test::reset_observations();
  hosted::Simulation sim;
  Registers model;
  REQUIRE(hosted::attach_device(hosted::kDeviceBarBase, 0x1000, model));
  REQUIRE(sim.run(mapped_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(15);
  CHECK(model.byte(8) == 0xab);
  CHECK(model.byte(19) == 0xf0);
  CHECK(model.writes == 5);
}

// --- stray accesses fault, and the supervisor hears of it ------------------------------------

enum class Stray : word { kUnmapped, kRam, kMisaligned, kBadWidth, kReadOnlyWrite };

void stray(word kind) {
  Mmio regs{kMapped, 0x1000};
  switch (Stray(kind)) {
    case Stray::kUnmapped:
      (void)Mmio{0x58000000, 0x1000}.read32(0);
      break;
    case Stray::kRam:
      (void)Mmio{0x40000000, 0x1000}.read32(0);  // the thread's own IPC buffer (RootKit::spawn)
      break;
    case Stray::kMisaligned:
      (void)regs.read32(2);
      break;
    case Stray::kBadWidth:
      (void)regs.read(0, 3);
      break;
    case Stray::kReadOnlyWrite:
      regs.write32(0, 1);
      break;
  }
  test::expect("the stray access returned", 1, 0);  // never reached
}

struct StrayCase {
  Stray kind;
  word address;
};
StrayCase g_stray;

void stray_root(word info) {
  test::RootKit kit(info);
  word untyped = device_untyped_at(kit.info(), hosted::kDeviceBarBase);
  word frame = kit.slot();
  expect("retype", retype(untyped, ObjectType::kFrame, 12, kRootCNodeSlot, frame), Error::kOk);
  // Read-only, so that a write faults too.
  expect("map read-only", map_frame(kRootAddressSpaceSlot, frame, kMapped, Rights::kRead),
         Error::kOk);
  word fault_ep = kit.make(ObjectType::kEndpoint);
  word badged = kit.mint(fault_ep, Rights::kAll, 7);
  word t = kit.spawn(stray, word(g_stray.kind), 100, badged);
  expect_true("spawned", t != 0);
  Message f = recv(fault_ep);
  expect("fault label", f.label(), kFaultLabel);
  expect("from the thread", f.badge, 7);
  expect("kMemoryAccess", f.words[0], word(FaultKind::kMemoryAccess));
  expect("at the address", f.words[1], g_stray.address);
  expect("the thread waits for its supervisor", thread_read_registers(t).words[0],
         word(ThreadState::kBlockedOnReply));
  // Resumed, it faults again (no instruction to skip), as on hardware.
  expect("resume", reply(Message{}), Error::kOk);
  Message again = recv(fault_ep);
  expect("again", again.words[1], g_stray.address);
  expect("delete it", cnode_delete(kRootCNodeSlot, t), Error::kOk);
  expect("root done", 1, 1);
}

TEST_CASE("mmio: a stray access faults with kMemoryAccess and the supervisor hears of it") {
  Registers model;
  for (StrayCase c :
       {StrayCase{Stray::kUnmapped, 0x58000000}, StrayCase{Stray::kRam, 0x40000000},
        StrayCase{Stray::kMisaligned, kMapped + 2}, StrayCase{Stray::kBadWidth, kMapped},
        StrayCase{Stray::kReadOnlyWrite, kMapped}}) {
    test::reset_observations();
    g_stray = c;
    hosted::Simulation sim;
    REQUIRE(hosted::attach_device(hosted::kDeviceBarBase, 0x1000, model));
    REQUIRE(sim.run(stray_root) == hosted::RunResult::kIdle);
    INFO(sim.console());
    INFO("case " << word(c.kind));
    test::check_observations(12);
  }
  CHECK(model.writes == 0);
  CHECK(model.reads == 0);
}

// A thread without the device frame cannot map one: it has no capability to name it. The root
// hands a child only a CSpace without the device untyped; the child tries slot by slot.
word g_child_cnode_bits = 4;
void no_capability_child(word) {
  word misses = 0;
  for (word slot = 1; slot < (word{1} << g_child_cnode_bits); ++slot) {
    Error e = map_frame(2, slot, kMapped, kRw);  // slot 2: the child's own address space
    misses += e == Error::kInvalidCapability || e == Error::kWrongType;
  }
  test::expect("no slot maps a frame", misses, (word{1} << g_child_cnode_bits) - 1);
  Error irq = irq_control_get(kIrqControlSlot, 3, 1, 2);
  test::expect_true("no IrqHandler without IrqControl",
                    irq == Error::kInvalidCapability || irq == Error::kWrongType);
}

void no_capability_root(word info) {
  test::RootKit kit(info);
  word cnode = kit.make(ObjectType::kCNode, unsigned(g_child_cnode_bits));
  word space = kit.make(ObjectType::kAddressSpace, 14);
  word thread = kit.make(ObjectType::kThread);
  word ipc = kit.make(ObjectType::kFrame, 12);
  expect("map the child's IPC buffer", map_frame(space, ipc, 0x10000000, kRw), Error::kOk);
  // The child's CSpace holds its own CNode and address space, and a plain RAM frame.
  expect("cnode", cnode_copy(cnode, 1, kRootCNodeSlot, cnode, Rights::kAll), Error::kOk);
  expect("space", cnode_copy(cnode, 2, kRootCNodeSlot, space, Rights::kAll), Error::kOk);
  expect("configure", thread_configure(thread, cnode, space, ipc, 0x10000000, 0), Error::kOk);
  expect("priority", thread_set_priority(thread, 100), Error::kOk);
  expect("start", thread_restart(thread, hosted::entry_address(no_capability_child), 0, 0),
         Error::kOk);
  expect("root done", 1, 1);
}

TEST_CASE("mmio: no device frame, no mapping; no IrqControl, no IrqHandler") {
  test::reset_observations();
  hosted::Simulation sim;
  Registers model;
  REQUIRE(hosted::attach_device(hosted::kDeviceBarBase, 0x1000, model));
  REQUIRE(sim.run(no_capability_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(9);
  CHECK(model.reads + model.writes == 0);
}

TEST_CASE("attach_device: only inside the window, never overlapping") {
  hosted::Simulation sim;
  Registers a, b;
  CHECK_FALSE(hosted::attach_device(0x1000'0000, 0x1000, a));  // RAM
  CHECK_FALSE(hosted::attach_device(hosted::kDeviceBarBase, 0, a));
  CHECK_FALSE(hosted::attach_device(hosted::kDeviceWindowBase + hosted::kDeviceWindowBytes - 0x1000,
                                    0x2000, a));
  CHECK_FALSE(hosted::attach_device(~word{0} - 0xfff, 0x1000, a));
  CHECK(hosted::attach_device(hosted::kDeviceBarBase, 0x2000, a));
  CHECK_FALSE(hosted::attach_device(hosted::kDeviceBarBase + 0x1000, 0x1000, b));
  CHECK(hosted::attach_device(hosted::kDeviceBarBase + 0x2000, 0x1000, b));
  CHECK(hosted::detach_device(hosted::kDeviceBarBase));
  CHECK_FALSE(hosted::detach_device(hosted::kDeviceBarBase));
  CHECK(hosted::attach_device(hosted::kDeviceBarBase + 0x1000, 0x1000, b));
}

// --- the machine's Bus ----------------------------------------------------------------------

TEST_CASE("bus: dma() reaches RAM by bus address and nothing else") {
  hosted::SimulationConfig config;
  config.memory_bytes = 1u << 20;
  hosted::Simulation sim(config);
  hosted::Bus& bus = hosted::machine_bus();
  constexpr word kBase = 0x100000;  // arch::Machine::kPhysicalBase
  std::byte* first = bus.dma(kBase, 16);
  REQUIRE(first != nullptr);
  CHECK(bus.dma(kBase + 0x1000, 8) == first + 0x1000);
  CHECK(bus.dma(kBase + (1u << 20) - 8, 8) == first + (1u << 20) - 8);
  CHECK(bus.dma(kBase + (1u << 20) - 8, 9) == nullptr);  // runs past the end of RAM
  CHECK(bus.dma(kBase - 1, 1) == nullptr);
  CHECK(bus.dma(0, 16) == nullptr);
  CHECK(bus.dma(kBase, ~std::size_t{0}) == nullptr);
  CHECK(bus.dma(~word{0}, 2) == nullptr);
  CHECK(bus.dma(hosted::kDeviceBarBase, 4) == nullptr);  // device memory is no DMA target
}

std::vector<std::pair<std::uint64_t, int>> g_ran;
word g_woken_at = 0;
word g_msi_address = 0;
word g_msi_data = 0;

void waiting_root(word info) {
  test::RootKit kit(info);
  word ntfn = kit.make(ObjectType::kNotification);
  word handler = kit.slot();
  word handler2 = kit.slot();
  expect("claim line 9", irq_control_get(kIrqControlSlot, 9, kRootCNodeSlot, handler), Error::kOk);
  expect("claim line 10", irq_control_get(kIrqControlSlot, 10, kRootCNodeSlot, handler2),
         Error::kOk);
  word badge9 = kit.mint(ntfn, Rights::kAll, 1);
  word badge10 = kit.mint(ntfn, Rights::kAll, 2);
  expect("bind 9", irq_set_notification(handler, badge9), Error::kOk);
  // What a driver programs into its device's MSI-X entry is the kernel's answer, not a constant.
  Message msi = IrqHandler(handler).msi_message();
  expect("line 9's MSI message", msi.status, Error::kOk);
  g_msi_address = msi.words[0];
  g_msi_data = msi.words[1];
  expect("bind 10", irq_set_notification(handler2, badge10), Error::kOk);
  Message bits = wait(ntfn);
  g_woken_at = hosted::machine_bus().now_ns();
  expect("line 9 (the bus's MSI)", bits.badge, 1);
  expect("ack", irq_ack(handler), Error::kOk);
  bits = wait(ntfn);
  expect("line 10 (raise_line)", bits.badge, 2);
  expect("root done", 1, 1);
}

TEST_CASE("bus: at() runs work at its virtual time in order, the idle path jumps to it") {
  test::reset_observations();
  g_ran.clear();
  hosted::Simulation sim;
  hosted::Bus& bus = hosted::machine_bus();
  std::uint64_t dropped = hosted::dropped_msis();
  bus.at(5'000'000, [&] {
    g_ran.push_back({bus.now_ns(), 1});
    bus.msi(0x1234, 9);                                 // a wrong address: dropped
    bus.msi(hosted::kMsiAddress, 99);                   // no such line: dropped
    bus.msi(g_msi_address, std::uint32_t(g_msi_data));  // line 9, as the kernel said
  });
  bus.at(3'000'000, [&] { g_ran.push_back({bus.now_ns(), 2}); });
  bus.at(5'000'000, [&] {
    g_ran.push_back({bus.now_ns(), 3});
    bus.at(0, [&] { g_ran.push_back({bus.now_ns(), 4}); });  // in the past: now, after this
  });
  bus.at(9'000'000, [&] {
    g_ran.push_back({bus.now_ns(), 5});
    bus.raise_line(10);
    bus.raise_line(1000);  // no such line: dropped
  });
  REQUIRE(sim.run(waiting_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(9);
  REQUIRE(g_ran.size() == 5);
  CHECK(g_msi_address == hosted::kMsiAddress);
  CHECK(g_msi_data == 9);
  CHECK(g_ran[0] == std::pair<std::uint64_t, int>{3'000'000, 2});
  CHECK(g_ran[1] == std::pair<std::uint64_t, int>{5'000'000, 1});
  CHECK(g_ran[2] == std::pair<std::uint64_t, int>{5'000'000, 3});
  CHECK(g_ran[3] == std::pair<std::uint64_t, int>{5'000'000, 4});
  CHECK(g_ran[4] == std::pair<std::uint64_t, int>{9'000'000, 5});
  CHECK(g_woken_at >= 5'000'000);
  CHECK(g_woken_at < 5'100'000);
  CHECK(hosted::dropped_msis() == dropped + 2);
}

}  // namespace
