// Address spaces and frames: map, unmap, and the kernel's view of user memory.
#include "core/address_space.hpp"

#include <new>

#include "core/cnode.hpp"
#include "core/kernel.hpp"
#include "core/message.hpp"

namespace ukernel::core {

namespace {

constexpr word kPage = Machine::kPageSize;

void forget_mapping(AddressSpace& as, Slot& frame) {
  for (std::uint32_t i = 0; i < as.mapping_count; ++i) {
    if (as.mappings[i] == &frame) {
      as.mappings[i] = as.mappings[--as.mapping_count];
      return;
    }
  }
}

// A frame of device memory maps with the back-end's device attributes (x86-64: uncached), a
// kUncached frame of RAM with its uncached memory type. A template on the back-end, so that one
// without device memory needs no map_device: the discarded branch of an `if constexpr` is
// instantiated only inside a template.
template <class M>
bool map_page(typename M::PageTable& pt, word vaddr, word paddr, Rights rights, const Cap& frame) {
  if constexpr (M::kHasDeviceMemory) {
    if (frame.device) return pt.map_device(vaddr, paddr, rights);
  }
  if (has_attributes(frame.frame_attributes(), FrameAttributes::kUncached))
    return pt.map_uncached(vaddr, paddr, rights);
  return pt.map(vaddr, paddr, rights);
}

Error map(AddressSpace& as, Thread& caller, const InvocationArgs& args) {
  if (!args.has(3)) return Error::kInvalidArgument;
  Slot* frame = caller.cspace()->slot(args[0]);
  if (frame == nullptr || frame->empty()) return Error::kInvalidCapability;
  if (frame->cap.type != ObjectType::kFrame) return Error::kWrongType;
  word vaddr = args[1];
  word size = word{1} << frame->cap.size_bits;
  if (args[2] > word(Rights::kAll)) return Error::kInvalidArgument;
  auto rights = Rights(args[2]) & (Rights::kRead | Rights::kWrite);
  if (!has_rights(frame->cap.rights, rights)) return Error::kInsufficientRights;
  if (vaddr % kPage != 0) return Error::kAlignment;
  if (vaddr == 0 || vaddr >= Machine::kUserSpaceEnd || size > Machine::kUserSpaceEnd - vaddr)
    return Error::kInvalidArgument;
  if (frame->cap.mapped_in != nullptr) return Error::kBusy;
  if (as.mapping_count == AddressSpace::kMaxMappings) return Error::kNotEnoughMemory;
  for (word off = 0; off < size; off += kPage) {
    if (as.page_table.lookup(vaddr + off) != kNoPhysical) return Error::kBusy;
  }
  for (word off = 0; off < size; off += kPage) {
    if (!map_page<Machine>(as.page_table, vaddr + off, frame->cap.object + off, rights,
                           frame->cap)) {
      for (word undo = 0; undo < off; undo += kPage)
        as.page_table.unmap(vaddr + undo);
      return Error::kNotEnoughMemory;  // the space's page-table pool is used up
    }
  }
  frame->cap.mapped_in = &as;
  frame->cap.badge = vaddr;
  as.mappings[as.mapping_count++] = frame;
  return Error::kOk;
}

}  // namespace

AddressSpace* make_address_space(word paddr, unsigned size_bits) {
  std::size_t header = (sizeof(AddressSpace) + kPage - 1) & ~(kPage - 1);
  std::size_t total = std::size_t{1} << size_bits;
  auto* base = static_cast<std::byte*>(Machine::kernel_pointer(paddr));
  std::size_t pool_bytes = total > header ? total - header : 0;
  auto* as = new (base) AddressSpace(base + header, pool_bytes, paddr + header);
  as->type = ObjectType::kAddressSpace;
  as->paddr = paddr;
  return as;
}

void unmap_frame(Slot& frame) {
  AddressSpace* as = frame.cap.mapped_in;
  if (as == nullptr) return;
  word size = word{1} << frame.cap.size_bits;
  for (word off = 0; off < size; off += kPage)
    as->page_table.unmap(frame.cap.badge + off);
  forget_mapping(*as, frame);
  frame.cap.mapped_in = nullptr;
  frame.cap.badge = 0;
}

void frame_slot_moved(Slot& from, Slot& to) {
  AddressSpace& as = *to.cap.mapped_in;
  for (std::uint32_t i = 0; i < as.mapping_count; ++i) {
    if (as.mappings[i] == &from) as.mappings[i] = &to;
  }
}

void* user_to_kernel(AddressSpace& as, word vaddr, std::size_t bytes) {
  if (bytes == 0 || vaddr >= Machine::kUserSpaceEnd) return nullptr;
  for (std::uint32_t i = 0; i < as.mapping_count; ++i) {
    const Cap& cap = as.mappings[i]->cap;
    if (cap.device) continue;  // a device's registers are not the kernel's to touch
    word size = word{1} << cap.size_bits;
    if (vaddr >= cap.badge && vaddr - cap.badge < size && bytes <= size - (vaddr - cap.badge)) {
      return Machine::kernel_pointer(cap.object + (vaddr - cap.badge));
    }
  }
  return nullptr;
}

Error invoke_address_space(AddressSpace& as, const Cap& cap, word label, Thread& caller) {
  if (!has_rights(cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
  InvocationArgs args(caller);
  switch (Invocation(label)) {
    case Invocation::kAddressSpaceMap:
      if (Error e = map(as, caller, args); e != Error::kOk) return e;
      break;
    case Invocation::kAddressSpaceUnmap: {
      if (!args.has(1)) return Error::kInvalidArgument;
      Slot* found = nullptr;
      for (std::uint32_t i = 0; i < as.mapping_count; ++i) {
        if (as.mappings[i]->cap.badge == args[0]) found = as.mappings[i];
      }
      if (found == nullptr) return Error::kNotFound;
      unmap_frame(*found);
      break;
    }
    default:
      return Error::kInvalidLabel;
  }
  set_invocation_reply(caller, Error::kOk, 0);
  return Error::kOk;
}

Error invoke_frame(Slot& frame, word label, Thread& caller) {
  if (Invocation(label) != Invocation::kFramePhysicalAddress) return Error::kInvalidLabel;
  if (!has_rights(frame.cap.rights, Rights::kRead)) return Error::kInsufficientRights;
  // Only a frame made for DMA tells its address: nothing else needs one, and a physical address
  // helps an attacker (row hammer, cache colouring) more than it helps a server.
  if (!has_attributes(frame.cap.frame_attributes(), FrameAttributes::kDma))
    return Error::kIllegalOperation;
  set_mr(caller, 0, frame.cap.object);
  set_mr(caller, 1, word{1} << frame.cap.size_bits);
  set_invocation_reply(caller, Error::kOk, 2);
  return Error::kOk;
}

void finalise_address_space(AddressSpace& as) {
  Kernel& k = kernel();
  while (as.mapping_count > 0)
    unmap_frame(*as.mappings[as.mapping_count - 1]);
  if (k.active_space == &as) k.active_space = nullptr;
  // The space was made with placement new; the back-end's table may hold something to give
  // back (x86-64: its PCID) and must not stay loaded once its memory can be reused.
  as.page_table.~PageTable();
}

}  // namespace ukernel::core
