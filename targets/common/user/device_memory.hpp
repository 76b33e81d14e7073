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
  std::string_view frame_check;     // "retype a 4 KiB frame from it: ..."
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
  // Only DMA frames tell their address, and device memory makes none.
  Message where = invoke(frame, Invocation::kFramePhysicalAddress);
  report(retyped && where.status == Error::kIllegalOperation, probe.frame_check);
  bool mapped = retyped && map_frame(kRootAddressSpaceSlot, frame, kDeviceMapping, Rights::kRead) ==
                               Error::kOk;
  report(mapped && probe.identify(kDeviceMapping), probe.identify_check);

  word other = root.slot();
  report(retype(device_untyped, ObjectType::kEndpoint, 0, kRootCNodeSlot, other) ==
                 Error::kInvalidArgument &&
             retype(device_untyped, ObjectType::kCNode, 4, kRootCNodeSlot, other) ==
                 Error::kInvalidArgument,
         "retype device memory into an endpoint or CNode: kInvalidArgument");
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

  // DMA frames: from RAM only; the address is aligned to the frame's size, inside a RAM block,
  // and the frame maps uncached when asked (x86-64: PCD|PWT; AArch64: MAIR attribute 2).
  word dma = root.slot();
  word refused = root.slot();
  constexpr auto kUncachedDma = FrameAttributes::kDma | FrameAttributes::kUncached;
  bool dma_ok = retype(device_untyped, ObjectType::kFrame, 12, kRootCNodeSlot, refused, 1,
                       FrameAttributes::kDma) == Error::kInvalidArgument &&
                retype(root.untyped, ObjectType::kFrame, 13, kRootCNodeSlot, dma, 1,
                       kUncachedDma) == Error::kOk;
  Message dma_where = invoke(dma, Invocation::kFramePhysicalAddress);
  word dma_paddr = message_word(dma_where, 0);
  bool in_ram = false;
  for (word i = 0; i < info.untyped_count; ++i) {
    const BootInfo::Untyped& u = info.untyped[i];
    in_ram = in_ram || (u.is_device == 0 && dma_paddr >= u.paddr &&
                        dma_paddr - u.paddr <= (word{1} << u.size_bits) - 0x2000);
  }
  dma_ok = dma_ok && dma_where.ok() && message_word(dma_where, 1) == 0x2000 &&
           dma_paddr % 0x2000 == 0 && in_ram;
  report(dma_ok,
         "an 8 KiB DMA frame from RAM tells its address (aligned, in RAM), device "
         "untyped makes none: kInvalidArgument");
  constexpr word kDmaMapping = kDeviceMapping + 0x4000;
  bool uncached_ok = dma_ok && map_frame(kRootAddressSpaceSlot, dma, kDmaMapping,
                                         Rights::kRead | Rights::kWrite) == Error::kOk;
  auto* dma_words = reinterpret_cast<volatile word*>(kDmaMapping);
  for (word i = 0; uncached_ok && i < 0x2000 / 8; i += 0x101) {
    dma_words[i] = 0x5a5a0000 + i;
    uncached_ok = dma_words[i] == 0x5a5a0000 + i;
  }
  report(uncached_ok && unmap_frame(kRootAddressSpaceSlot, kDmaMapping) == Error::kOk &&
             cnode_delete(kRootCNodeSlot, dma) == Error::kOk,
         "map it uncached, write and read back, unmap and delete it");

  report(unmap_frame(kRootAddressSpaceSlot, kDeviceMapping) == Error::kOk &&
             unmap_frame(kRootAddressSpaceSlot, kRamMapping) == Error::kOk &&
             cnode_delete(kRootCNodeSlot, frame) == Error::kOk &&
             cnode_delete(kRootCNodeSlot, thread) == Error::kOk,
         "unmap and delete the device frame");
}

}  // namespace ukernel::user
