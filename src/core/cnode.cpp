// Slots, the derivation tree, object finalisation, and the CNode invocations.
#include "core/cnode.hpp"

#include <new>

#include "core/address_space.hpp"
#include "core/endpoint.hpp"
#include "core/kernel.hpp"
#include "core/message.hpp"
#include "core/notification.hpp"

namespace ukernel::core {

namespace {

// Objects whose last capability went away, waiting to be finalised. Finalising one can delete
// more capabilities (a CNode's slots, a thread's own slots), so this is a work list rather than
// recursion: the kernel stack stays bounded whatever the shape of the object graph.
KernelObject* g_zombies = nullptr;
bool g_finalising = false;

void finalise(KernelObject& object) {
  switch (object.type) {
    case ObjectType::kThread:
      finalise_thread(static_cast<Thread&>(object));
      break;
    case ObjectType::kEndpoint:
      finalise_endpoint(static_cast<Endpoint&>(object));
      break;
    case ObjectType::kNotification:
      finalise_notification(static_cast<Notification&>(object));
      break;
    case ObjectType::kCNode:
      finalise_cnode(static_cast<CNode&>(object));
      break;
    case ObjectType::kAddressSpace:
      finalise_address_space(static_cast<AddressSpace&>(object));
      break;
    default:
      break;
  }
}

void run_finalisers() {
  if (g_finalising) return;
  g_finalising = true;
  while (KernelObject* object = g_zombies) {
    g_zombies = object->zombie_next;
    object->zombie_next = nullptr;
    finalise(*object);
  }
  g_finalising = false;
}

void unlink(Slot& s) {
  // Children move up to s's parent, keeping their order.
  for (Slot* c = s.first_child; c != nullptr;) {
    Slot* next = c->next_sibling;
    c->parent = nullptr;
    c->next_sibling = c->prev_sibling = nullptr;
    if (s.parent != nullptr) {
      c->parent = s.parent;
      c->next_sibling = s.parent->first_child;
      if (c->next_sibling) c->next_sibling->prev_sibling = c;
      s.parent->first_child = c;
    }
    c = next;
  }
  s.first_child = nullptr;
  if (s.prev_sibling) {
    s.prev_sibling->next_sibling = s.next_sibling;
  } else if (s.parent) {
    s.parent->first_child = s.next_sibling;
  }
  if (s.next_sibling) s.next_sibling->prev_sibling = s.prev_sibling;
  s.parent = s.next_sibling = s.prev_sibling = nullptr;
}

// A CNode capability argument of an invocation: the CNode, or an error.
Error cnode_argument(Thread& caller, word address, Rights need, CNode*& out) {
  Slot* s = caller.cspace()->slot(address);
  if (s == nullptr || s->empty()) return Error::kInvalidCapability;
  if (s->cap.type != ObjectType::kCNode) return Error::kWrongType;
  if (!has_rights(s->cap.rights, need)) return Error::kInsufficientRights;
  out = s->cap.as<CNode>();
  return Error::kOk;
}

bool copyable(ObjectType type) {
  return type != ObjectType::kUntyped && type != ObjectType::kReply;
}

}  // namespace

bool is_counted(ObjectType type) {
  switch (type) {
    case ObjectType::kThread:
    case ObjectType::kEndpoint:
    case ObjectType::kNotification:
    case ObjectType::kCNode:
    case ObjectType::kAddressSpace:
      return true;
    default:
      return false;
  }
}

void slot_insert(Slot& dest, const Cap& cap, Slot* parent) {
  dest.cap = cap;
  dest.parent = parent;
  dest.first_child = nullptr;
  dest.prev_sibling = nullptr;
  dest.next_sibling = nullptr;
  if (parent != nullptr) {
    dest.next_sibling = parent->first_child;
    if (dest.next_sibling) dest.next_sibling->prev_sibling = &dest;
    parent->first_child = &dest;
  }
  if (is_counted(cap.type)) ++cap.as<KernelObject>()->cap_count;
  if (cap.type == ObjectType::kIrqHandler) irq_handler_cap_added(unsigned(cap.object));
}

void slot_move(Slot& dest, Slot& src) {
  dest = src;
  if (dest.prev_sibling) {
    dest.prev_sibling->next_sibling = &dest;
  } else if (dest.parent) {
    dest.parent->first_child = &dest;
  }
  if (dest.next_sibling) dest.next_sibling->prev_sibling = &dest;
  for (Slot* c = dest.first_child; c != nullptr; c = c->next_sibling)
    c->parent = &dest;
  if (dest.cap.type == ObjectType::kReply) dest.cap.as<Thread>()->reply_cap_slot = &dest;
  if (dest.cap.type == ObjectType::kFrame && dest.cap.mapped_in) frame_slot_moved(src, dest);
  src = Slot{};
}

void slot_delete(Slot& slot) {
  if (slot.empty()) return;
  unlink(slot);
  Cap cap = slot.cap;
  if (cap.type == ObjectType::kFrame && cap.mapped_in != nullptr) unmap_frame(slot);
  slot.cap.clear();
  if (cap.type == ObjectType::kReply) {
    // The caller waiting on this reply will never hear from the server: release it.
    Thread& caller = *cap.as<Thread>();
    if (caller.reply_cap_slot == &slot) {
      caller.reply_cap_slot = nullptr;
      caller.pending_fault = FaultKind(0);
      set_result(caller, Error::kCancelled);
      wake(caller);
    }
  } else if (is_counted(cap.type)) {
    KernelObject& object = *cap.as<KernelObject>();
    if (--object.cap_count == 0) {
      object.zombie_next = g_zombies;
      g_zombies = &object;
    }
  } else if (cap.type == ObjectType::kIrqHandler) {
    irq_handler_cap_deleted(unsigned(cap.object));
  }
  run_finalisers();
}

void slot_revoke(Slot& slot) {
  while (slot.first_child != nullptr) {
    Slot* leaf = slot.first_child;
    while (leaf->first_child != nullptr)
      leaf = leaf->first_child;
    slot_delete(*leaf);
  }
}

CNode* make_cnode(void* memory, unsigned size_bits) {
  auto* node = new (memory) CNode;
  node->type = ObjectType::kCNode;
  node->size_bits = size_bits;
  for (std::size_t i = 1; i < node->slot_count(); ++i)
    new (node->slot(i)) Slot;
  return node;
}

void finalise_cnode(CNode& cnode) {
  for (std::size_t i = 1; i < cnode.slot_count(); ++i)
    slot_delete(*cnode.slot(i));
}

Error invoke_cnode(CNode& cnode, const Cap& cap, word label, Thread& caller) {
  if (!has_rights(cap.rights, Rights::kWrite)) return Error::kInsufficientRights;
  InvocationArgs args(caller);
  auto inv = Invocation(label);
  switch (inv) {
    case Invocation::kCNodeDelete:
    case Invocation::kCNodeRevoke: {
      if (!args.has(1)) return Error::kInvalidArgument;
      Slot* s = cnode.slot(args[0]);
      if (s == nullptr) return Error::kInvalidArgument;
      if (s->empty()) return Error::kInvalidCapability;
      if (inv == Invocation::kCNodeDelete) {
        slot_delete(*s);
      } else {
        slot_revoke(*s);
      }
      break;
    }
    case Invocation::kCNodeSaveReply: {
      if (!args.has(1)) return Error::kInvalidArgument;
      Slot* dest = cnode.slot(args[0]);
      if (dest == nullptr) return Error::kInvalidArgument;
      if (!dest->empty()) return Error::kSlotOccupied;
      if (caller.caller_slot.empty()) return Error::kInvalidCapability;
      slot_move(*dest, caller.caller_slot);
      break;
    }
    case Invocation::kCNodeCopy:
    case Invocation::kCNodeMint:
    case Invocation::kCNodeMove: {
      std::size_t needed = inv == Invocation::kCNodeMint   ? 5
                           : inv == Invocation::kCNodeCopy ? 4
                                                           : 3;
      if (!args.has(needed)) return Error::kInvalidArgument;
      Slot* dest = cnode.slot(args[0]);
      if (dest == nullptr) return Error::kInvalidArgument;
      CNode* src_node = nullptr;
      Rights need = inv == Invocation::kCNodeMove ? Rights::kWrite : Rights::kRead;
      if (Error e = cnode_argument(caller, args[1], need, src_node); e != Error::kOk) return e;
      Slot* src = src_node->slot(args[2]);
      if (src == nullptr) return Error::kInvalidArgument;
      if (src->empty()) return Error::kInvalidCapability;
      if (!dest->empty()) return Error::kSlotOccupied;
      if (inv == Invocation::kCNodeMove) {
        slot_move(*dest, *src);
        break;
      }
      if (!copyable(src->cap.type)) return Error::kIllegalOperation;
      if (args[3] > word(Rights::kAll)) return Error::kInvalidArgument;
      Cap derived = src->cap.derive(Rights(args[3]));
      if (inv == Invocation::kCNodeMint) {
        bool badgeable =
            src->cap.type == ObjectType::kEndpoint || src->cap.type == ObjectType::kNotification;
        if (!badgeable) return Error::kWrongType;
        if (src->cap.badge != 0) return Error::kIllegalOperation;  // badges are never changed
        derived.badge = args[4];
      }
      slot_insert(*dest, derived, src);
      break;
    }
    default:
      return Error::kInvalidLabel;
  }
  set_invocation_reply(caller, Error::kOk, 0);
  return Error::kOk;
}

}  // namespace ukernel::core
