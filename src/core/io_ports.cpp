// IoPorts invocations: read, write, issue a sub-range.
#include "core/io_ports.hpp"

#include "core/cnode.hpp"
#include "core/message.hpp"

namespace ukernel::core {

namespace {

static_assert(io_range_contains(0x3f8, 8, 0x3f8, 8) && io_range_contains(0x3f8, 8, 0x3ff, 1));
static_assert(!io_range_contains(0x3f8, 8, 0x3f7, 1) && !io_range_contains(0x3f8, 8, 0x400, 1));
static_assert(!io_range_contains(0x3f8, 8, 0x3ff, 2) && !io_range_contains(0x3f8, 8, 0x3f8, 0));
static_assert(!io_range_contains(0, kIoPortCount, ~word{0}, 2) &&
              !io_range_contains(0x3f8, 8, 0x3f9, ~word{0}));

// Whether [first, first + count) is a non-empty part of the capability's range.
bool inside(const Cap& cap, word first, word count) {
  return io_range_contains(cap.object, cap.badge, first, count);
}

// Reads or writes one port (the back-end has ports: see dispatch).
template <class M>
Error access(const Cap& cap, Invocation inv, Thread& caller) {
  bool read = inv == Invocation::kIoPortsRead;
  if (!has_rights(cap.rights, read ? Rights::kRead : Rights::kWrite))
    return Error::kInsufficientRights;
  InvocationArgs args(caller);
  if (!args.has(read ? 2 : 3)) return Error::kInvalidArgument;
  word port = args[0], width = args[1];
  if (width != 1 && width != 2 && width != 4) return Error::kInvalidArgument;
  if (!inside(cap, port, width)) return Error::kInvalidArgument;
  if (read) {
    set_mr(caller, 0, M::io_read(std::uint16_t(port), unsigned(width)));
    set_invocation_reply(caller, Error::kOk, 1);
  } else {
    M::io_write(std::uint16_t(port), unsigned(width), args[2]);
    set_invocation_reply(caller, Error::kOk, 0);
  }
  return Error::kOk;
}

Error issue(Slot& slot, Thread& caller) {
  const Cap& cap = slot.cap;
  if (!has_rights(cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
  InvocationArgs args(caller);
  if (!args.has(4)) return Error::kInvalidArgument;
  word first = args[0], count = args[1];
  if (!inside(cap, first, count)) return Error::kInvalidArgument;
  Slot* node_slot = caller.cspace()->slot(args[2]);
  if (node_slot == nullptr || node_slot->empty()) return Error::kInvalidCapability;
  if (node_slot->cap.type != ObjectType::kCNode) return Error::kWrongType;
  if (!has_rights(node_slot->cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
  Slot* dest = node_slot->cap.as<CNode>()->slot(args[3]);
  if (dest == nullptr) return Error::kInvalidArgument;
  if (!dest->empty()) return Error::kSlotOccupied;
  Cap child = io_ports_cap(first, count);
  child.rights = cap.rights;
  slot_insert(*dest, child, &slot);
  set_invocation_reply(caller, Error::kOk, 0);
  return Error::kOk;
}

// A template on the back-end, so that a back-end without ports needs no io_read/io_write: the
// discarded branch of an `if constexpr` is instantiated only inside a template.
template <class M>
Error dispatch(Slot& slot, word label, Thread& caller) {
  if constexpr (!M::kHasIoPorts) {
    return Error::kIllegalOperation;
  } else {
    switch (Invocation(label)) {
      case Invocation::kIoPortsRead:
      case Invocation::kIoPortsWrite:
        return access<M>(slot.cap, Invocation(label), caller);
      case Invocation::kIoPortsIssue:
        return issue(slot, caller);
      default:
        return Error::kInvalidLabel;
    }
  }
}

}  // namespace

Cap io_ports_cap(word first, word count) {
  Cap cap;
  cap.type = ObjectType::kIoPorts;
  cap.rights = Rights::kAll;
  cap.object = first;
  cap.badge = count;
  return cap;
}

Error invoke_io_ports(Slot& slot, word label, Thread& caller) {
  return dispatch<Machine>(slot, label, caller);
}

}  // namespace ukernel::core
