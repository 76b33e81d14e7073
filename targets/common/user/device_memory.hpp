// The scenario's device-memory checks, the same on every back-end with device memory: the
// kernel gives the root task device untyped memory for one device's registers
// (BootInfo::Untyped::is_device); the root task retypes one frame from it, maps it and reads the
// device's identification registers (DeviceProbe, per target); a device untyped makes nothing
// but frames, and a device frame cannot be an IPC buffer (the kernel never writes device memory).
#pragma once

#include <string_view>

#include "arch_scenario.hpp"

namespace ukernel::user {

inline constexpr word kDeviceMapping = 0x30000000;  // a free address in the root task's space

// The device a target probes, and the texts of its checks.
struct DeviceProbe {
  std::string_view name;            // "HPET"
  word base;                        // the physical address of its registers (one page)
  std::string_view covered_check;   // "BootInfo lists a device untyped covering the HPET ..."
  std::string_view frame_check;     // "retype a 4 KiB frame from it: FramePhysicalAddress ..."
  std::string_view identify_check;  // "map it, read ..."
  // Reads the identification registers through the mapping at `mapped`, prints what it found
  // (one "device: ..." line) and says whether they are the device's.
  bool (*identify)(word mapped);
};

// The slot of the device untyped that covers `paddr` (0: none).
inline word device_untyped_covering(const BootInfo& info, word paddr) {
  for (word i = 0; i < info.untyped_count; ++i) {
    const BootInfo::Untyped& u = info.untyped[i];
    if (u.is_device != 0 && paddr >= u.paddr && paddr - u.paddr < word{1} << u.size_bits)
      return kFirstUntypedSlot + i;
  }
  return 0;
}

inline void device_memory_checks(const Scenario& s, const DeviceProbe& probe) {
  RootKit& root = *s.root;
  auto report = [&](bool ok, std::string_view what) { s.report(ok, "device", what); };
  const BootInfo& info = *root.info;

  bool ram_first = true;  // every RAM entry comes before every device entry
  word devices = 0;
  for (word i = 0; i < info.untyped_count; ++i) {
    if (info.untyped[i].is_device != 0)
      ++devices;
    else if (devices != 0)
      ram_first = false;
  }
  word device_untyped = device_untyped_covering(info, probe.base);
  Line listed;
  listed << "device: " << devices << " device untyped, " << probe.name << "'s in slot "
         << device_untyped;
  listed.end();
  report(device_untyped != 0 && ram_first && root.untyped != device_untyped, probe.covered_check);

  word frame = root.slot();
  bool retyped =
      retype(device_untyped, ObjectType::kFrame, 12, kRootCNodeSlot, frame) == Error::kOk;
  Message where = invoke(frame, Invocation::kFramePhysicalAddress);
  report(retyped && where.ok() && message_word(where, 0) == probe.base, probe.frame_check);
  bool mapped = retyped && map_frame(kRootAddressSpaceSlot, frame, kDeviceMapping, Rights::kRead) ==
                               Error::kOk;
  report(mapped && probe.identify(kDeviceMapping), probe.identify_check);

  word other = root.slot();
  report(retype(device_untyped, ObjectType::kEndpoint, 0, kRootCNodeSlot, other) ==
                 Error::kInvalidArgument &&
             retype(device_untyped, ObjectType::kUntyped, 12, kRootCNodeSlot, other) ==
                 Error::kInvalidArgument &&
             retype(device_untyped, ObjectType::kCNode, 4, kRootCNodeSlot, other) ==
                 Error::kInvalidArgument,
         "retype device memory into an endpoint, untyped or CNode: kInvalidArgument");
  word thread = root.make(ObjectType::kThread);
  report(thread != 0 && thread_configure(thread, kRootCNodeSlot, kRootAddressSpaceSlot, frame,
                                         kDeviceMapping, 0) == Error::kInvalidArgument,
         "a device frame as an IPC buffer: kInvalidArgument");

  // RAM untyped is unaffected: its objects are made, and its frames are zeroed.
  word ram_frame = root.make(ObjectType::kFrame, 12);
  constexpr word kRamMapping = kDeviceMapping + 0x1000;
  bool ram_ok = root.make(ObjectType::kEndpoint) != 0 && ram_frame != 0 &&
                map_frame(kRootAddressSpaceSlot, ram_frame, kRamMapping,
                          Rights::kRead | Rights::kWrite) == Error::kOk;
  for (word off = 0; ram_ok && off < kPage; off += 8)
    ram_ok = *reinterpret_cast<const volatile word*>(kRamMapping + off) == 0;
  report(ram_ok, "RAM untyped still makes endpoints and zeroed frames");

  report(unmap_frame(kRootAddressSpaceSlot, kDeviceMapping) == Error::kOk &&
             unmap_frame(kRootAddressSpaceSlot, kRamMapping) == Error::kOk &&
             cnode_delete(kRootCNodeSlot, frame) == Error::kOk &&
             cnode_delete(kRootCNodeSlot, thread) == Error::kOk,
         "unmap and delete the device frame");
}

}  // namespace ukernel::user
