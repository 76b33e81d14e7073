// Capabilities, the slots that hold them, and the derivation tree that links the slots.
//
// A capability is a typed reference to a kernel object plus rights and a badge. It lives in a
// Slot: either one of a CNode's slots (a thread's CSpace) or one of a thread's own slots (its
// CSpace root, address space, IPC buffer frame, fault endpoint and pending reply).
//
// Derivation tree: every slot knows the slot its capability was derived from (copied, minted or
// retyped). Revoking a slot deletes everything derived from it. Deleting a slot that has children
// hands them to its parent, so a revoke higher up still reaches them. Every capability to an
// object descends from the capability that retype made, so revoking an untyped capability
// removes every reference to the objects made from it, and its memory can be used again.
#pragma once

#include <cstdint>

#include "ukernel/abi.hpp"

namespace ukernel::core {

struct Thread;
struct Endpoint;
struct Notification;
struct CNode;
struct AddressSpace;
struct IrqHandler;

// The part every reference-counted kernel object starts with. When the last capability to an
// object is deleted, the object is finalised (every thread waiting on it is released).
struct KernelObject {
  std::uint32_t cap_count = 0;
  ObjectType type = ObjectType::kNone;
  KernelObject* zombie_next = nullptr;  // on the finalisation list once cap_count reached 0
};

struct Cap {
  ObjectType type = ObjectType::kNone;
  Rights rights = Rights::kNone;
  std::uint8_t size_bits = 0;  // untyped and frame: log2 of the size in bytes
  // Untyped and frame: the memory is a device's, not RAM (BootInfo::Untyped::is_device). A device
  // untyped retypes only into frames, which inherit the flag; the kernel never writes such
  // memory, and maps it with device attributes. Kept in what was padding: Cap does not grow.
  bool device = false;
  // Frame: its FrameAttributes (DMA, uncached) as one byte, chosen at retype and kept by copy
  // and mint. Also in what was padding.
  std::uint8_t attributes = 0;
  word badge = 0;   // endpoint/notification: badge; untyped: watermark in bytes;
                    // frame: virtual address it is mapped at (when mapped);
                    // I/O ports: the number of ports
  word object = 0;  // kernel pointer to the object; untyped/frame: physical address;
                    // reply: the waiting caller; irq control: unused; irq handler:
                    // the line; I/O ports: the first port
  AddressSpace* mapped_in = nullptr;  // frame: where this capability mapped it, if anywhere

  FrameAttributes frame_attributes() const { return FrameAttributes(attributes); }
  bool empty() const { return type == ObjectType::kNone; }
  // Empties the capability, field by field: on x86-64 `cap = Cap{}` compiles to a `rep stos` of
  // twelve 4-byte stores (slow to start on hardware, twelve instructions under TCG) where a few
  // stores do. (On AArch64 this is two stores more than the three `stp` of `Cap{}`.)
  void clear() {
    type = ObjectType::kNone;
    rights = Rights::kNone;
    size_bits = 0;
    device = false;
    attributes = 0;
    badge = 0;
    object = 0;
    mapped_in = nullptr;
  }
  template <class T>
  T* as() const {
    return reinterpret_cast<T*>(object);
  }
  // A derived copy with narrower rights (rights are never widened).
  Cap derive(Rights mask) const {
    Cap c = *this;
    c.rights = rights & mask;
    c.mapped_in = nullptr;
    if (type == ObjectType::kFrame) c.badge = 0;
    return c;
  }
};

// Every CNode slot holds one: the flags above must stay in the padding after size_bits. A new
// field must be cleared by Cap::clear() too.
static_assert(sizeof(Cap) == 6 * sizeof(word));

struct Slot {
  Cap cap;
  Slot* parent = nullptr;
  Slot* first_child = nullptr;
  Slot* next_sibling = nullptr;
  Slot* prev_sibling = nullptr;

  bool empty() const { return cap.empty(); }
};

// Whether capabilities of this type point to a reference-counted KernelObject.
bool is_counted(ObjectType type);

// Puts `cap` into the empty slot `dest` as a child of `parent` (nullptr: a root).
void slot_insert(Slot& dest, const Cap& cap, Slot* parent);

// Moves the capability in `src` to the empty slot `dest`, with its place in the tree.
void slot_move(Slot& dest, Slot& src);

// Deletes the capability in `slot`: its children move to its parent, and an object whose last
// capability this was is finalised. Never fails.
void slot_delete(Slot& slot);

// Deletes every capability derived from `slot`, leaving `slot` itself.
void slot_revoke(Slot& slot);

}  // namespace ukernel::core
