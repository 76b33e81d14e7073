// Device grants on the hosted back-end: the root task carves a device untyped of exactly a
// granted range (supervisor/device_memory.hpp), and a driver reaches a device only through the
// device untyped it was given. A thread without the grant that touches the console's page
// faults with kMemoryAccess and its supervisor hears of it; it cannot name the console's device
// untyped or claim its interrupt either.
#include <catch2/catch.hpp>

#include "kernel/check_observations.hpp"
#include "supervisor/device_memory.hpp"
#include "support/root_kit.hpp"
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

// A thread in its own CSpace (CNode, space, and `grant` if not 0) and address space.
word start_child(test::RootKit& kit, void (*entry)(word), word arg, word grant, word fault) {
  word cnode = kit.make(ObjectType::kCNode, 4);
  word space = kit.make(ObjectType::kAddressSpace, 14);
  word thread = kit.make(ObjectType::kThread);
  word ipc = kit.make(ObjectType::kFrame, 12);
  if (cnode == 0 || space == 0 || thread == 0 || ipc == 0) return 0;
  bool ok = map_frame(space, ipc, 0x10000000, kRw) == Error::kOk &&
            cnode_copy(cnode, kChildCNode, kRootCNodeSlot, cnode, Rights::kAll) == Error::kOk &&
            cnode_copy(cnode, kChildSpace, kRootCNodeSlot, space, Rights::kAll) == Error::kOk &&
            (grant == 0 || cnode_move(cnode, kChildGrant, kRootCNodeSlot, grant) == Error::kOk) &&
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
  word read(word offset, unsigned) override { return 0xabc000 + offset; }
  void write(word, unsigned, word) override {}
};

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

TEST_CASE("grants: the root task carves exactly the granted range and in order") {
  test::reset_observations();
  hosted::Simulation sim;
  Page model;
  REQUIRE(hosted::attach_device(hosted::kDeviceBarBase + 0x5000, 0x1000, model));
  REQUIRE(sim.run(carve_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(14);
}
