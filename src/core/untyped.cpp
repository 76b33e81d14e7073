// Untyped memory: retype, and making objects in place.
#include "core/untyped.hpp"

#include <cstring>
#include <new>

#include "core/address_space.hpp"
#include "core/cnode.hpp"
#include "core/endpoint.hpp"
#include "core/kernel.hpp"
#include "core/message.hpp"
#include "core/notification.hpp"

namespace ukernel::core {

namespace {

constexpr word kMaxRetypeCount = 256;

unsigned page_bits() {
  unsigned bits = 0;
  while ((word{1} << bits) < Machine::kPageSize)
    ++bits;
  return bits;
}

template <class T>
T* construct(word paddr, ObjectType type) {
  T* object = new (Machine::kernel_pointer(paddr)) T;
  object->type = type;
  return object;
}

}  // namespace

word object_size(ObjectType type, unsigned size_bits) {
  auto in = [&](unsigned lo, unsigned hi) { return size_bits >= lo && size_bits <= hi; };
  switch (type) {
    case ObjectType::kThread:
      return word{1} << Thread::kSizeBits;
    case ObjectType::kEndpoint:
      return word{1} << Endpoint::kSizeBits;
    case ObjectType::kNotification:
      return word{1} << Notification::kSizeBits;
    case ObjectType::kCNode:
      return in(kMinCNodeBits, kMaxCNodeBits) ? cnode_bytes(size_bits) : 0;
    case ObjectType::kUntyped:
      return in(kMinUntypedBits, kMaxUntypedBits) ? word{1} << size_bits : 0;
    case ObjectType::kFrame:
      return in(page_bits(), kMaxUntypedBits) ? word{1} << size_bits : 0;
    case ObjectType::kAddressSpace:
      return in(AddressSpace::kMinSizeBits, kMaxUntypedBits) ? word{1} << size_bits : 0;
    default:
      return 0;
  }
}

Cap create_object(ObjectType type, word paddr, unsigned size_bits, bool device,
                  FrameAttributes attributes) {
  word size = object_size(type, size_bits);
  // Device memory is never written: its bytes are a device's registers (and outside the
  // kernel's map of RAM).
  if (type != ObjectType::kUntyped && !device) std::memset(Machine::kernel_pointer(paddr), 0, size);
  Cap cap;
  cap.type = type;
  cap.rights = Rights::kAll;
  switch (type) {
    case ObjectType::kThread: {
      Thread* t = construct<Thread>(paddr, type);
      t->id = kernel().next_thread_id++;
      cap.object = reinterpret_cast<word>(t);
      break;
    }
    case ObjectType::kEndpoint:
      cap.object = reinterpret_cast<word>(construct<Endpoint>(paddr, type));
      break;
    case ObjectType::kNotification:
      cap.object = reinterpret_cast<word>(construct<Notification>(paddr, type));
      break;
    case ObjectType::kCNode:
      cap.object = reinterpret_cast<word>(make_cnode(Machine::kernel_pointer(paddr), size_bits));
      break;
    case ObjectType::kAddressSpace:
      cap.object = reinterpret_cast<word>(make_address_space(paddr, size_bits));
      break;
    case ObjectType::kUntyped:
    case ObjectType::kFrame:
      cap.object = paddr;
      cap.size_bits = std::uint8_t(size_bits);
      cap.device = device;
      cap.attributes = std::uint8_t(attributes);
      break;
    default:
      break;
  }
  return cap;
}

Error invoke_untyped(Slot& untyped, word label, Thread& caller) {
  if (Invocation(label) != Invocation::kUntypedRetype) return Error::kInvalidLabel;
  if (!has_rights(untyped.cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
  InvocationArgs args(caller);
  if (!args.has(5)) return Error::kInvalidArgument;
  word type_word = args[0], size_bits = args[1], count = args[4];
  if (type_word >= word(ObjectType::kCount) || size_bits > kMaxUntypedBits) {
    return Error::kInvalidArgument;
  }
  auto type = ObjectType(type_word);
  word size = object_size(type, unsigned(size_bits));
  if (size == 0 || count == 0 || count > kMaxRetypeCount) return Error::kInvalidArgument;
  // Device memory holds no kernel objects: they would live in a device's registers. It splits
  // into smaller device untyped, which is how a root task reaches one page of a window.
  if (untyped.cap.device && type != ObjectType::kFrame && type != ObjectType::kUntyped)
    return Error::kInvalidArgument;
  // Attributes describe RAM frames: a device's registers already map as device memory, and
  // their address is not a DMA buffer.
  word attributes = args.has(6) ? args[5] : 0;
  if (attributes > word(FrameAttributes::kAll)) return Error::kInvalidArgument;
  if (attributes != 0 && (type != ObjectType::kFrame || untyped.cap.device))
    return Error::kInvalidArgument;

  Slot* dest_node_slot = caller.cspace()->slot(args[2]);
  if (dest_node_slot == nullptr || dest_node_slot->empty()) return Error::kInvalidCapability;
  if (dest_node_slot->cap.type != ObjectType::kCNode) return Error::kWrongType;
  if (!has_rights(dest_node_slot->cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
  CNode& dest = *dest_node_slot->cap.as<CNode>();
  if (args[3] == 0 || args[3] >= dest.slot_count() || count > dest.slot_count() - args[3])
    return Error::kInvalidArgument;  // written so that a huge dest_slot cannot wrap around
  for (word i = 0; i < count; ++i) {
    if (!dest.slot(args[3] + i)->empty()) return Error::kSlotOccupied;
  }

  // Memory: objects are aligned to their size; with no children left, start afresh.
  word region = word{1} << untyped.cap.size_bits;
  word watermark = untyped.first_child == nullptr ? 0 : untyped.cap.badge;
  word align = size < Machine::kPageSize ? size : Machine::kPageSize;
  if (type == ObjectType::kUntyped || type == ObjectType::kFrame) align = size;
  word start = (watermark + align - 1) & ~(align - 1);
  if (start > region || count > (region - start) / size) return Error::kNotEnoughMemory;

  for (word i = 0; i < count; ++i) {
    word paddr = untyped.cap.object + start + i * size;
    slot_insert(*dest.slot(args[3] + i),
                create_object(type, paddr, unsigned(size_bits), untyped.cap.device,
                              FrameAttributes(attributes)),
                &untyped);
  }
  untyped.cap.badge = start + count * size;
  set_invocation_reply(caller, Error::kOk, 0);
  return Error::kOk;
}

}  // namespace ukernel::core
