// The grants root task: a driver reaches only what it was granted, refused by the kernel on bare
// metal (tests/qemu: qemu.<arch>.grants). Two modern virtio functions (QEMU's virtio-rng-pci,
// disable-legacy=on) are on bus 0: A is the driver's, B is another function.
//
// How this works: the root task, which holds every capability, maps bus 0 of the ECAM window,
// enumerates it, places the BARs where no firmware did (AArch64 virt), and turns memory decoding
// on for A and B. It gives a driver thread, in an address space and CSpace of its own, exactly a
// driver's grants: a device frame of A's MSI-X table BAR and an IrqHandler for one MSI line. It
// keeps B's BAR mapped in its own space at the address the driver then touches. The driver
// reports what each system call returned (one message per check); the root task asserts each
// value, and each fault the driver takes arrives at the root task as a fault message, whose kind
// and address it asserts, before it restarts the driver at the next probe.
#include <cstdint>
#include <string_view>

#include "log.hpp"
#include "pci_kit.hpp"
#include "root_kit.hpp"
#include "ukernel/caps.hpp"
#include "ukernel/mmio.hpp"
#include "ukernel/pci.hpp"

namespace {

using namespace ukernel;
using user::hex;
using user::Line;

constexpr word kEcamMapping = 0x60000000;      // the root task's mapping of bus 0
constexpr word kOwnBarMapping = 0x61000000;    // the driver's mapping of A's BAR (its own space)
constexpr word kOtherBarMapping = 0x62000000;  // the root task's mapping of B's BAR
constexpr word kDriverStackTop = arch::kRootStackTop;
constexpr word kVirtioVendor = 0x1af4;
constexpr word kDriverPriority = 100;

// The driver's CSpace: 16 slots. Slot kIrqControlSlot (4) is left empty on purpose: the root
// task's IrqControl lives at that address in its own CSpace. The other empty slots are where a
// driver would hold a capability it was not given.
constexpr unsigned kDriverCNodeBits = 4;
constexpr word kDriverCNode = 1;
constexpr word kDriverSpace = 2;
constexpr word kDriverBar = 3;         // A's MSI-X table BAR, one device frame of exactly it
constexpr word kDriverReport = 5;      // the root task's endpoint, badged kReportBadge, send only
constexpr word kDriverIrq = 6;         // the IrqHandler of A's MSI line
constexpr word kDriverSignal = 7;      // its notification, badged, for the line to signal
constexpr word kDriverScratch = 9;     // an empty slot, destination of refused calls
constexpr word kNotGivenHandler = 10;  // where another line's handler would be: empty
constexpr word kNotGivenFrame = 11;    // where B's BAR frame would be: empty
static_assert(kFirstUntypedSlot < word{1} << kDriverCNodeBits);  // empty in the driver's CSpace

constexpr word kReportBadge = 1;
constexpr word kFaultBadge = 2;
constexpr word kSignalBadge = 0x40;

// What the driver reports, as message labels; word 0 is the result, words 1.. any values read.
enum Check : word {
  kMapOwnBar = 1,
  kReadOwnTable,
  kOwnMsiMessage,
  kBindOwnLine,
  kIrqControl,
  kOtherHandler,
  kRetypeDeviceUntyped,
  kRetypeFrame,
  kMapOtherFrame,
  kNotFaulted,  // a probe that should have faulted returned
};

// Where the driver finds its facts: the arg word of its entry. A's MSI-X table: offset of entry
// 0's vector control in the BAR's mapping (low 32 bits), the frame's size in bits (high).
constexpr word pack(word table_control, unsigned bits) {
  return word{bits} << 32 | table_control;
}

// --- the driver thread (its own space: it touches only its stack and IPC buffer) ------------

void report_to_root(Check check, word result, word value0 = 0, word value1 = 0) {
  Message m(MessageInfo(check, 3));
  set_message_word(m, 0, result);
  set_message_word(m, 1, value0);
  set_message_word(m, 2, value1);
  (void)send(kDriverReport, m);
}

void driver_main(word facts) {
  word table_control = facts & 0xffffffff;
  Error mapped =
      map_frame(kDriverSpace, kDriverBar, kOwnBarMapping, Rights::kRead | Rights::kWrite);
  report_to_root(kMapOwnBar, word(mapped));
  word control = mapped == Error::kOk
                     ? Mmio(kOwnBarMapping, word{1} << (facts >> 32)).read32(table_control)
                     : 0;
  report_to_root(kReadOwnTable, word(Error::kOk), control);
  Message msi = IrqHandler(kDriverIrq).msi_message();
  report_to_root(kOwnMsiMessage, word(msi.status), message_word(msi, 0), message_word(msi, 1));
  report_to_root(kBindOwnLine, word(irq_set_notification(kDriverIrq, kDriverSignal)));
  // Interrupts it was not given: no IrqControl to make a handler, no handler for another line.
  report_to_root(kIrqControl,
                 word(irq_control_get(kIrqControlSlot, 0, kDriverCNode, kDriverScratch)));
  report_to_root(kOtherHandler, word(irq_ack(kNotGivenHandler)));
  // Device memory it was not given: no device untyped, and its BAR frame makes nothing.
  report_to_root(kRetypeDeviceUntyped, word(retype(kFirstUntypedSlot, ObjectType::kFrame, 12,
                                                   kDriverCNode, kDriverScratch)));
  report_to_root(kRetypeFrame,
                 word(retype(kDriverBar, ObjectType::kFrame, 12, kDriverCNode, kDriverScratch)));
  report_to_root(kMapOtherFrame,
                 word(map_frame(kDriverSpace, kNotGivenFrame, kOtherBarMapping, Rights::kRead)));
  // Another function's BAR, at the address the root task maps it at: nothing there.
  (void)Mmio(kOtherBarMapping, 0x1000).read32(0);
  report_to_root(kNotFaulted, 0);  // never reached: the read faults
  for (;;)
    yield();
}

// The byte just past its own BAR frame.
void driver_past_own_bar(word facts) {
  (void)Mmio(kOwnBarMapping + (word{1} << (facts >> 32)), 0x1000).read32(0);
  report_to_root(kNotFaulted, 0);
  for (;;)
    yield();
}

// Configuration space (the root task's ECAM mapping).
void driver_config_space(word) {
  (void)Mmio(kEcamMapping, 0x1000).read32(0);
  report_to_root(kNotFaulted, 0);
  for (;;)
    yield();
}

// The root task's slot of B's frame, invoked: outside the driver's CSpace, a capability fault.
void driver_root_slot(word root_slot) {
  Message where = invoke(root_slot, Invocation::kFramePhysicalAddress);
  report_to_root(kNotFaulted, word(where.status));  // never reached: the root task would see it
  for (;;)
    yield();
}

// --- the root task ---------------------------------------------------------------------------

user::RootKit root;
user::Checks checks;
user::DeviceBlocks devices;
pci::Functions functions;

void report(bool ok, std::string_view what) {
  checks.report("grants", ok, what);
}

// The next report from the driver; checks its label.
Message next_report(word endpoint, Check expected) {
  Message m = recv(endpoint);
  if (m.badge != kReportBadge || m.label() != expected) {
    Line line;
    line << "grants: expected report " << word(expected) << ", got label " << m.label() << " badge "
         << m.badge << " (" << message_word(m, 0) << ", " << hex(message_word(m, 1)) << ")";
    line.end();
  }
  return m;
}

bool result_is(const Message& m, Check check, Error expected) {
  bool ok = m.badge == kReportBadge && m.label() == check && message_word(m, 0) == word(expected);
  if (!ok) {
    Line line;
    line << "grants: check " << word(check) << ": error " << message_word(m, 0) << ", expected "
         << word(expected);
    line.end();
  }
  return ok;
}

// The driver's next fault: kind and address.
bool faulted_at(word endpoint, FaultKind kind, word address) {
  Message f = recv(endpoint);
  bool ok = f.badge == kFaultBadge && f.label() == kFaultLabel &&
            message_word(f, 0) == word(kind) && message_word(f, 1) == address;
  if (!ok) {
    Line line;
    line << "grants: fault: badge " << f.badge << " label " << f.label() << " kind "
         << message_word(f, 0) << " address " << hex(message_word(f, 1));
    line.end();
  }
  return ok;
}

word entry(void (*function)(word)) {
  return reinterpret_cast<word>(reinterpret_cast<void*>(function));
}

// The first two modern virtio functions with MSI-X: A (the driver's) and B.
bool find_functions(pci::Function*& a, pci::Function*& b) {
  a = b = nullptr;
  for (std::size_t i = 0; i < functions.count; ++i) {
    pci::Function& f = functions.items[i];
    if (f.vendor != kVirtioVendor || f.device < 0x1040 || f.msix.capability == 0) continue;
    if (a == nullptr)
      a = &f;
    else if (b == nullptr)
      b = &f;
  }
  return b != nullptr;
}

// A device frame of `f`'s MSI-X table BAR (its block of at least a page); `offset` is where the
// BAR starts in it and `bits` its size.
word table_bar_frame(const pci::Function& f, word& offset, unsigned& bits) {
  const pci::Bar& bar = f.bars[f.msix.table_bar];
  bits = user::log2_at_least_page(bar.size);
  word base = bar.address & ~((word{1} << bits) - 1);
  offset = bar.address - base;
  return devices.frame(base, bits);
}

word run() {
  devices.add_boot(root);
  const BootInfo::PciHost& host = root.info->pci;
  bool ecam = host.ecam_size != 0 && devices.map(host.ecam_paddr, 20, kEcamMapping);
  auto bus = static_cast<std::uint8_t>(host.bus_first);
  user::EcamBus config{Mmio(kEcamMapping, word{1} << 20), bus};
  pci::Function *a = nullptr, *b = nullptr;
  bool found = ecam && pci::enumerate(config, bus, bus, functions) == pci::Error::kOk &&
               find_functions(a, b);
  report(found, "two virtio functions on bus 0: A for the driver, B another's");
  if (!found) return 1;
  if (host.firmware_assigned == 0) {
    pci::Windows windows;
    windows.memory32 = {host.mmio_paddr, host.mmio_paddr, host.mmio_size};
    windows.memory64 = {host.mmio64_paddr, host.mmio64_paddr, host.mmio64_size};
    report(pci::assign_bars(config, *a, windows) == pci::Error::kOk &&
               pci::assign_bars(config, *b, windows) == pci::Error::kOk,
           "their BARs placed in the bridge's windows");
  }
  pci::enable(config, a->address);
  pci::enable(config, b->address);
  {
    Line line;
    line << "grants: A 00:" << a->address.device << "." << a->address.function
         << ", MSI-X table in BAR " << a->msix.table_bar << " at "
         << hex(a->bars[a->msix.table_bar].address) << ", B 00:" << b->address.device << "."
         << b->address.function << " at " << hex(b->bars[b->msix.table_bar].address);
    line.end();
  }

  // B's table BAR stays with the root task, mapped at the address the driver will touch.
  word b_offset = 0, a_offset = 0;
  unsigned b_bits = 0, a_bits = 0;
  word b_frame = table_bar_frame(*b, b_offset, b_bits);
  bool b_mapped = b_frame != 0 && map_frame(kRootAddressSpaceSlot, b_frame, kOtherBarMapping,
                                            Rights::kRead | Rights::kWrite) == Error::kOk;
  word b_control =
      b_mapped
          ? Mmio(kOtherBarMapping, word{1} << b_bits).read32(b_offset + b->msix.table_offset + 12)
          : 0;
  report(b_mapped && (b_control & 1) == 1,
         "B's MSI-X table is live: the root task, which holds its frame, reads entry 0 masked");

  // The driver: its CSpace, its space (code read-only, a stack, an IPC buffer), its grants.
  word a_frame = table_bar_frame(*a, a_offset, a_bits);
  word line = 0, msi_address = 0, msi_data = 0;
  bool wired_refused = false;
  word handler = user::claim_msi_line(root, 0, line, msi_address, msi_data, wired_refused);
  word endpoint = root.make(ObjectType::kEndpoint);
  word notification = root.make(ObjectType::kNotification);
  word space = root.make_code_space();
  word cnode = root.make(ObjectType::kCNode, kDriverCNodeBits);
  word ipc = space != 0 ? root.map_fresh_frame(space, arch::kUserIpcBuffer) : 0;
  word stack = space != 0 ? root.map_fresh_frame(space, kDriverStackTop - user::kPage) : 0;
  word fault = root.mint(endpoint, Rights::kAll, kFaultBadge);
  bool made = a_frame != 0 && handler != 0 && endpoint != 0 && notification != 0 && cnode != 0 &&
              ipc != 0 && stack != 0 && fault != 0 &&
              cnode_copy(cnode, kDriverCNode, kRootCNodeSlot, cnode, Rights::kAll) == Error::kOk &&
              cnode_copy(cnode, kDriverSpace, kRootCNodeSlot, space, Rights::kAll) == Error::kOk &&
              cnode_move(cnode, kDriverBar, kRootCNodeSlot, a_frame) == Error::kOk &&
              cnode_mint(cnode, kDriverReport, kRootCNodeSlot, endpoint, Rights::kWrite,
                         kReportBadge) == Error::kOk &&
              cnode_move(cnode, kDriverIrq, kRootCNodeSlot, handler) == Error::kOk &&
              cnode_mint(cnode, kDriverSignal, kRootCNodeSlot, notification, Rights::kWrite,
                         kSignalBadge) == Error::kOk;
  report(made && wired_refused,
         "the driver gets A's MSI-X table BAR as one device frame and an MSI line's handler");
  if (!made) return 1;
  word facts = pack(a_offset + a->msix.table_offset + 12, a_bits);
  word thread = root.start_thread(driver_main, facts, cnode, space, ipc, fault, kDriverPriority,
                                  kDriverStackTop);
  report(thread != 0, "the driver starts in its own space and CSpace");
  if (thread == 0) return 1;

  // What it was granted works.
  report(result_is(next_report(endpoint, kMapOwnBar), kMapOwnBar, Error::kOk),
         "the driver maps its own BAR frame");
  Message table = next_report(endpoint, kReadOwnTable);
  report(result_is(table, kReadOwnTable, Error::kOk) && (message_word(table, 1) & 1) == 1,
         "and reads A's MSI-X table through it: entry 0 masked");
  Message msi = next_report(endpoint, kOwnMsiMessage);
  report(result_is(msi, kOwnMsiMessage, Error::kOk) && message_word(msi, 1) == msi_address &&
             message_word(msi, 2) == msi_data,
         "its MSI line's handler answers the line's message");
  report(result_is(next_report(endpoint, kBindOwnLine), kBindOwnLine, Error::kOk),
         "and takes its notification");
  // Interrupts it was not given.
  report(result_is(next_report(endpoint, kIrqControl), kIrqControl, Error::kInvalidCapability),
         "interrupts: no IrqControl in its CSpace, so no handler for any line: "
         "kInvalidCapability");
  report(result_is(next_report(endpoint, kOtherHandler), kOtherHandler, Error::kInvalidCapability),
         "interrupts: another line's handler it was not given: kInvalidCapability");
  word again = root.slot();
  report(irq_control_get(kIrqControlSlot, line, kRootCNodeSlot, again) == Error::kBusy,
         "interrupts: the driver's line cannot be claimed a second time, even by the root task: "
         "kBusy");
  // Device memory it was not given.
  report(result_is(next_report(endpoint, kRetypeDeviceUntyped), kRetypeDeviceUntyped,
                   Error::kInvalidCapability),
         "device memory: no device untyped to make frames from: kInvalidCapability");
  report(result_is(next_report(endpoint, kRetypeFrame), kRetypeFrame, Error::kInvalidLabel),
         "device memory: its BAR frame cannot be retyped (a frame has no Retype): kInvalidLabel");
  report(
      result_is(next_report(endpoint, kMapOtherFrame), kMapOtherFrame, Error::kInvalidCapability),
      "another function's BARs: no frame of B to map: kInvalidCapability");
  // Each touch faults, and the root task, its supervisor, hears of it.
  report(faulted_at(endpoint, FaultKind::kMemoryAccess, kOtherBarMapping),
         "another function's BARs: a touch where B is mapped in the root task faults: "
         "kMemoryAccess");
  bool restarted = thread_restart(thread, entry(driver_past_own_bar),
                                  user::entry_stack(kDriverStackTop), facts) == Error::kOk;
  report(restarted &&
             faulted_at(endpoint, FaultKind::kMemoryAccess, kOwnBarMapping + (word{1} << a_bits)),
         "another function's BARs: its frame is exactly its BAR: the byte past it faults");
  restarted = thread_restart(thread, entry(driver_config_space), user::entry_stack(kDriverStackTop),
                             0) == Error::kOk;
  report(restarted && faulted_at(endpoint, FaultKind::kMemoryAccess, kEcamMapping),
         "configuration space: a touch of the ECAM address faults: kMemoryAccess");
  restarted = thread_restart(thread, entry(driver_root_slot), user::entry_stack(kDriverStackTop),
                             b_frame) == Error::kOk;
  report(restarted && faulted_at(endpoint, FaultKind::kCapability, b_frame),
         "another function's BARs: naming the root task's slot of B's frame is a capability "
         "fault");
  report(
      cnode_delete(kRootCNodeSlot, thread) == Error::kOk &&
          Mmio(kOtherBarMapping, word{1} << b_bits).read32(b_offset + b->msix.table_offset + 12) ==
              b_control,
      "the driver stopped, and B's table is as it was");
  return 0;
}

}  // namespace

extern "C" ukernel::word user_main(ukernel::word boot_info_address) {
  root.init(boot_info_address);
  (void)run();
  return checks.summarise("grants") == 0 ? 0 : 1;
}
