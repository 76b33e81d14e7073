// The scenario's x86-64 checks: I/O ports through capabilities, then device memory and a device
// interrupt (device_checks.hpp). The root task holds a capability
// for all 65536 ports (kIoPortsSlot); it writes and reads COM1's scratch register through it,
// issues a capability for COM1's eight ports, and checks every way an access can be refused.
// A thread never gets the hardware right to `in`/`out`: even one holding an IoPorts capability
// faults with kProtection.
#pragma once

#include "arch_scenario.hpp"
#include "device_checks.hpp"
#include "fault_cases.hpp"
#include "ukernel/caps.hpp"

namespace ukernel::user {

inline constexpr word kCom1 = 0x3f8;
inline constexpr word kCom1Ports = 8;
inline constexpr word kCom1Scratch = kCom1 + 7;  // a register that only stores a byte

// Writes `value` to `port` and reads it back.
inline bool writes_back(IoPorts ports, word port, std::uint8_t value) {
  if (ports.write8(port, value) != Error::kOk) return false;
  IoPorts::ReadResult r = ports.read8(port);
  return r.ok() && r.value == value;
}

inline void arch_checks(const Scenario& s) {
  RootKit& root = *s.root;
  const IoPorts all = root_task::kIoPorts;
  constexpr word kRoot = kRootCNodeSlot;
  auto report = [&](bool ok, std::string_view what) { s.report(ok, "ioports", what); };

  report(writes_back(all, kCom1Scratch, 0x5a) && writes_back(all, kCom1Scratch, 0xa5),
         "COM1 scratch register: write, read back (the root's capability, all ports)");

  const IoPorts com1{root.slot()};
  report(all.issue(kCom1, kCom1Ports, root_task::kCNode, com1.address()) == Error::kOk &&
             writes_back(com1, kCom1Scratch, 0x3c),
         "issue a capability for COM1 (0x3f8, 8 ports), the scratch register through it");
  report(com1.read8(kCom1 - 1).status == Error::kInvalidArgument &&
             com1.read8(kCom1 + kCom1Ports).status == Error::kInvalidArgument &&
             com1.write8(0x80, 0) == Error::kInvalidArgument,
         "ports outside the range: kInvalidArgument");
  report(com1.read16(kCom1Scratch).status == Error::kInvalidArgument &&
             com1.read32(kCom1 + 6).status == Error::kInvalidArgument,
         "an access that crosses the end of the range: kInvalidArgument");
  report(io_ports_read(com1.address(), kCom1, 3).status == Error::kInvalidArgument &&
             io_ports_write(com1.address(), kCom1, 0, 0) == Error::kInvalidArgument,
         "width 3 or 0: kInvalidArgument");
  word sub = root.slot();
  report(com1.issue(kCom1 - 8, 16, root_task::kCNode, sub) == Error::kInvalidArgument &&
             com1.issue(kCom1, 0, root_task::kCNode, sub) == Error::kInvalidArgument &&
             com1.issue(kCom1 + 4, 8, root_task::kCNode, sub) == Error::kInvalidArgument,
         "issue a sub-range outside the range, or empty: kInvalidArgument");
  report(com1.issue(kCom1, 1, root_task::kCNode, com1.address()) == Error::kSlotOccupied,
         "issue into an occupied slot: kSlotOccupied");
  report(invoke(com1.address(), Invocation(99)).status == Error::kInvalidLabel,
         "unknown label: kInvalidLabel");

  const IoPorts read_only{root.copy(com1.address(), Rights::kRead)};
  const IoPorts write_only{root.copy(com1.address(), Rights::kWrite)};
  IoPorts::ReadResult r = read_only.read8(kCom1Scratch);
  report(!read_only.null() && r.ok() && r.value == 0x3c &&
             read_only.write8(kCom1Scratch, 0) == Error::kInsufficientRights &&
             read_only.issue(kCom1, 1, root_task::kCNode, sub) == Error::kInsufficientRights,
         "a read-only copy reads, cannot write or issue: kInsufficientRights");
  report(!write_only.null() &&
             write_only.read8(kCom1Scratch).status == Error::kInsufficientRights &&
             write_only.write8(kCom1Scratch, 0x3c) == Error::kOk,
         "a write-only copy writes, cannot read: kInsufficientRights");
  report(cnode_mint(kRoot, sub, kRoot, com1.address(), Rights::kAll, 0x99) == Error::kWrongType,
         "mint (a badge): kWrongType, as for every capability but endpoints and notifications");

  // The capability is no hardware right: the fault-test thread, holding one for COM1, still
  // faults on `inb` from COM1.
  const FaultCase inb_with_cap = {"inb with an I/O port capability: kProtection", fault_inb,
                                  fault_inb_insn, FaultKind::kProtection, 0};
  bool granted =
      cnode_copy(s.peer_cnode, s.peer_free_slot, kRoot, com1.address(), Rights::kAll) == Error::kOk;
  report(granted && s.fault(inb_with_cap), inb_with_cap.name);

  // Revoking the root's capability takes away everything issued from it, copies included.
  report(cnode_revoke(kRoot, all.address()) == Error::kOk &&
             com1.read8(kCom1Scratch).status == Error::kInvalidCapability &&
             read_only.read8(kCom1Scratch).status == Error::kInvalidCapability &&
             cnode_delete(s.peer_cnode, s.peer_free_slot) == Error::kInvalidCapability &&
             writes_back(all, kCom1Scratch, 0),
         "revoke removes the issued capability and its copies, the root's stays");

  device_memory_checks(s);
  interrupt_checks(s);
}

}  // namespace ukernel::user
