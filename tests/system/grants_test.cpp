// Device grants on the hosted back-end: the root task carves a device untyped of exactly a
// granted range (supervisor/device_memory.hpp), and a driver reaches a device only through the
// device untyped it was given. A thread without the grant that touches the console's page
// faults with kMemoryAccess and its supervisor hears of it; it cannot name the console's device
// untyped or claim its interrupt either. A PCI driver holding function A's BAR and one MSI line
// reaches neither function B's BAR nor another line (the same refusals as the bare-metal
// qemu.<arch>.grants tests, targets/common/user/grants_root.cpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <initializer_list>

#include "kernel/check_observations.hpp"
#include "supervisor/device_memory.hpp"
#include "support/root_kit.hpp"
#include "ukernel/caps.hpp"
#include "ukernel/hosted/bus.hpp"
#include "ukernel/hosted/devices.hpp"
#include "ukernel/mmio.hpp"

using namespace ukernel;
using supervisor::CarveError;
using test::expect;
using test::expect_true;

namespace {

constexpr Rights kRw = Rights::kRead | Rights::kWrite;
constexpr word kDriverWindow = 0x30000000;  // where a child maps its device page
// A child's CSpace: its CNode, its address space, and (for a driver) its grant.
constexpr word kChildCNode = 1;
constexpr word kChildSpace = 2;
constexpr word kChildGrant = 3;
constexpr word kChildFrame = 4;

// The console's driver: maps its grant and prints through it.
void driver(word) {
  Error e = retype(kChildGrant, ObjectType::kFrame, 12, kChildCNode, kChildFrame);
  expect("the driver makes a frame of its grant", e, Error::kOk);
  expect("and maps it", map_frame(kChildSpace, kChildFrame, kDriverWindow, kRw), Error::kOk);
  Mmio uart{kDriverWindow, hosted::kPageBytes};
  for (char c : std::string_view("granted\n"))
    uart.write64(word(hosted::ConsoleRegister::kData), word(c));
}

// A server without the grant: no device untyped to name, no IrqControl, and a touch of the
// address a driver would use faults.
void rogue(word) {
  expect("no device untyped where a driver has its grant",
         retype(kChildGrant, ObjectType::kFrame, 12, kChildCNode, kChildFrame),
         Error::kInvalidCapability);
  Error irq = irq_control_get(kIrqControlSlot, hosted::kConsoleIrqLine, kChildCNode, kChildFrame);
  expect_true("no IrqHandler for the console's line",
              irq == Error::kInvalidCapability || irq == Error::kWrongType);
  Mmio uart{kDriverWindow, hosted::kPageBytes};
  uart.write64(word(hosted::ConsoleRegister::kData), 'X');
  expect("the touch returned", 1, 0);  // never reached
}

// A thread in its own CSpace (CNode, space, `grant` if not 0, then each of `more`: a root slot
// moved to a child slot) and address space.
struct Move {
  word child_slot, root_slot;
};
word start_child(test::RootKit& kit, void (*entry)(word), word arg, word grant, word fault,
                 std::initializer_list<Move> more = {}) {
  word cnode = kit.make(ObjectType::kCNode, 4);
  word space = kit.make(ObjectType::kAddressSpace, 14);
  word thread = kit.make(ObjectType::kThread);
  word ipc = kit.make(ObjectType::kFrame, 12);
  if (cnode == 0 || space == 0 || thread == 0 || ipc == 0) return 0;
  bool ok = map_frame(space, ipc, 0x10000000, kRw) == Error::kOk &&
            cnode_copy(cnode, kChildCNode, kRootCNodeSlot, cnode, Rights::kAll) == Error::kOk &&
            cnode_copy(cnode, kChildSpace, kRootCNodeSlot, space, Rights::kAll) == Error::kOk &&
            (grant == 0 || cnode_move(cnode, kChildGrant, kRootCNodeSlot, grant) == Error::kOk) &&
            std::all_of(more.begin(), more.end(),
                        [&](Move m) {
                          return cnode_move(cnode, m.child_slot, kRootCNodeSlot, m.root_slot) ==
                                 Error::kOk;
                        }) &&
            thread_configure(thread, cnode, space, ipc, 0x10000000, fault) == Error::kOk &&
            thread_set_priority(thread, 100) == Error::kOk &&
            thread_restart(thread, hosted::entry_address(entry), 0, arg) == Error::kOk;
  return ok ? thread : 0;
}

void console_root(word info) {
  test::RootKit kit(info);
  supervisor::DeviceMemory devices(kit.info());
  supervisor::Carved uart =
      devices.carve(hosted::kConsoleAddress, hosted::kPageBytes, [&] { return kit.slot(); });
  expect("carve the console's page", uart.ok(), true);
  word fault_ep = kit.make(ObjectType::kEndpoint);
  word rogue_fault = kit.mint(fault_ep, Rights::kAll, 9);
  expect_true("the driver starts", start_child(kit, driver, 0, uart.slot, 0) != 0);
  word thread = start_child(kit, rogue, 0, 0, rogue_fault);
  expect_true("the rogue starts", thread != 0);
  Message f = recv(fault_ep);
  expect("the supervisor hears of it", f.label(), kFaultLabel);
  expect("from the rogue", f.badge, 9);
  expect("kMemoryAccess", f.words[0], word(FaultKind::kMemoryAccess));
  expect("at the console's register", f.words[1], kDriverWindow + 8);
  expect("stop it", cnode_delete(kRootCNodeSlot, thread), Error::kOk);
}

// Carving: exactly the range, in order, from the block that holds it; everything else refused.
class Page final : public hosted::MmioDevice {
 public:
  explicit Page(word tag = 0xabc000) : tag_(tag) {}
  word read(word offset, unsigned) override { return tag_ + offset; }
  void write(word, unsigned, word) override {}

 private:
  word tag_;
};

// Two functions' BARs in the PCI window, one page each, and the driver's MSI line.
constexpr word kBarA = hosted::kDeviceBarBase + 0x10000;
constexpr word kBarB = hosted::kDeviceBarBase + 0x11000;
constexpr word kTagA = 0xa000, kTagB = 0xb000;
constexpr word kOtherWindow = 0x31000000;  // where the root task maps B (and the driver touches)
constexpr word kDriverLine = 9;
// The PCI driver's CSpace beyond kChildGrant (A's BAR) and kChildFrame: its line's handler and a
// notification; the other slots are empty, where what it was not given would be.
constexpr word kChildIrq = 5;
constexpr word kChildSignal = 6;
constexpr word kChildOtherHandler = 7;
constexpr word kChildOtherFrame = 8;
constexpr word kChildScratch = 9;

void pci_driver(word) {
  expect("interrupts: no IrqControl in the driver's CSpace",
         irq_control_get(kIrqControlSlot, kDriverLine + 1, kChildCNode, kChildScratch),
         Error::kInvalidCapability);
  expect("interrupts: no handler for another line", irq_ack(kChildOtherHandler),
         Error::kInvalidCapability);
  Message msi = IrqHandler(kChildIrq).msi_message();
  expect("its own line answers its message", msi.status, Error::kOk);
  expect("the line's data", message_word(msi, 1), kDriverLine);
  expect("and takes its notification", irq_set_notification(kChildIrq, kChildSignal), Error::kOk);
  expect("it makes a frame of A's BAR",
         retype(kChildGrant, ObjectType::kFrame, 12, kChildCNode, kChildFrame), Error::kOk);
  expect("A's grant is exactly A's BAR",
         retype(kChildGrant, ObjectType::kFrame, 12, kChildCNode, kChildScratch),
         Error::kNotEnoughMemory);
  expect("the frame makes nothing",
         retype(kChildFrame, ObjectType::kFrame, 12, kChildCNode, kChildScratch),
         Error::kInvalidLabel);
  expect("maps it", map_frame(kChildSpace, kChildFrame, kDriverWindow, kRw), Error::kOk);
  expect("and reads A", Mmio(kDriverWindow, hosted::kPageBytes).read64(0x10), kTagA + 0x10);
  expect("another function's BARs: no frame of B to map",
         map_frame(kChildSpace, kChildOtherFrame, kOtherWindow, kRw), Error::kInvalidCapability);
  (void)Mmio(kOtherWindow, hosted::kPageBytes).read64(0x10);
  expect("the touch of B returned", 1, 0);  // never reached
}

void pci_root(word info) {
  test::RootKit kit(info);
  supervisor::DeviceMemory devices(kit.info());
  auto next = [&] { return kit.slot(); };
  supervisor::Carved a = devices.carve(kBarA, hosted::kPageBytes, next);
  supervisor::Carved b = devices.carve(kBarB, hosted::kPageBytes, next);
  expect("carve A's and B's BARs", a.ok() && b.ok(), true);
  word b_frame = kit.slot();
  expect("the root task keeps B and maps it",
         retype(b.slot, ObjectType::kFrame, 12, kRootCNodeSlot, b_frame) == Error::kOk &&
             map_frame(kRootAddressSpaceSlot, b_frame, kOtherWindow, kRw) == Error::kOk,
         true);
  expect("B is live", Mmio(kOtherWindow, hosted::kPageBytes).read64(0x10), kTagB + 0x10);
  word handler = kit.slot();
  expect("claim the driver's line",
         irq_control_get(kIrqControlSlot, kDriverLine, kRootCNodeSlot, handler), Error::kOk);
  word notification = kit.make(ObjectType::kNotification);
  word signal = kit.mint(notification, Rights::kWrite, 0x40);
  word fault_ep = kit.make(ObjectType::kEndpoint);
  word fault = kit.mint(fault_ep, Rights::kAll, 7);
  word thread = start_child(kit, pci_driver, 0, a.slot, fault,
                            {{kChildIrq, handler}, {kChildSignal, signal}});
  expect_true("the driver starts", thread != 0);
  Message f = recv(fault_ep);
  expect("the touch of B faults: the supervisor hears of it", f.label(), kFaultLabel);
  expect("from the driver", f.badge, 7);
  expect("kMemoryAccess", f.words[0], word(FaultKind::kMemoryAccess));
  expect("at B's address in the driver's space", f.words[1], kOtherWindow + 0x10);
  expect("the driver's line cannot be claimed again",
         irq_control_get(kIrqControlSlot, kDriverLine, kRootCNodeSlot, kit.slot()), Error::kBusy);
  expect("stop it", cnode_delete(kRootCNodeSlot, thread), Error::kOk);
}

void carve_root(word info) {
  test::RootKit kit(info);
  supervisor::DeviceMemory devices(kit.info());
  auto next = [&] { return kit.slot(); };
  constexpr word kBars = hosted::kDeviceBarBase;
  supervisor::Carved page = devices.carve(kBars + 0x5000, 0x1000, next);
  expect("a page inside a block, after padding", page.ok(), true);
  word frame = kit.slot();
  expect("its frame", retype(page.slot, ObjectType::kFrame, 12, kRootCNodeSlot, frame), Error::kOk);
  expect("is exactly one page",
         retype(page.slot, ObjectType::kFrame, 12, kRootCNodeSlot, kit.slot()),
         Error::kNotEnoughMemory);
  expect("map it", map_frame(kRootAddressSpaceSlot, frame, 0x50000000, kRw), Error::kOk);
  expect("it is the model's page", Mmio(0x50000000, 0x1000).read64(0x10), 0xabc010);
  expect("below what was carved", word(devices.carve(kBars + 0x3000, 0x1000, next).error),
         word(CarveError::kAlreadyCarved));
  expect("twice", word(devices.carve(kBars + 0x5000, 0x1000, next).error),
         word(CarveError::kAlreadyCarved));
  expect("a larger block above", devices.carve(kBars + 0x10000, 0x10000, next).ok(), true);
  expect("RAM", word(devices.carve(0x200000, 0x1000, next).error), word(CarveError::kNotHeld));
  expect("past the device window",
         word(devices.carve(hosted::kDeviceWindowBase + hosted::kDeviceWindowBytes, 0x1000, next)
                  .error),
         word(CarveError::kNotHeld));
  expect("across two blocks (console and timer pages)",
         word(devices.carve(hosted::kConsoleAddress, 0x2000, next).error),
         word(CarveError::kNotHeld));
  expect("not a power of two", word(devices.carve(kBars + 0x20000, 0x3000, next).error),
         word(CarveError::kBadRange));
  expect("below a page", word(devices.carve(kBars + 0x20000, 0x800, next).error),
         word(CarveError::kBadRange));
  expect("not aligned to its size", word(devices.carve(kBars + 0x21000, 0x2000, next).error),
         word(CarveError::kBadRange));
}

}  // namespace

TEST_CASE("grants: the console's driver prints through its grant and a server without it faults") {
  test::reset_observations();
  hosted::reset_devices();
  hosted::Simulation sim;
  REQUIRE(sim.run(console_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(12);
  std::string transcript = hosted::console_transcript();
  CHECK(transcript.find("granted\n") != std::string::npos);
  CHECK(transcript.find('X') == std::string::npos);
}

TEST_CASE("grants: a PCI driver reaches its function's BAR and its line, nothing else") {
  test::reset_observations();
  hosted::reset_devices();
  hosted::Simulation sim;
  Page function_a(kTagA), function_b(kTagB);
  REQUIRE(hosted::attach_device(kBarA, 0x1000, function_a));
  REQUIRE(hosted::attach_device(kBarB, 0x1000, function_b));
  REQUIRE(sim.run(pci_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(22);
}

TEST_CASE("grants: the root task carves exactly the granted range and in order") {
  test::reset_observations();
  hosted::Simulation sim;
  Page model;
  REQUIRE(hosted::attach_device(hosted::kDeviceBarBase + 0x5000, 0x1000, model));
  REQUIRE(sim.run(carve_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(14);
}
