// The root task's program loader: starts a boot module as a thread in an address space of its
// own, with the CSpace the caller describes.
//
// How this works: the module's ELF is checked in full first (ukernel/elf.hpp), so a bad file
// costs nothing but a message. Then, for each page of each segment, a fresh frame is retyped
// from untyped, mapped for a moment at kScratch in the root task's own space, filled (file data,
// the rest zero), unmapped, and mapped into the new space with the segment's rights: read-only
// (and executable) without PF_W, read-write (never executable) with it. A stack, an IPC buffer
// (layout.hpp), a CNode holding a copy of itself plus the capabilities the caller grants, and a
// thread configured with all of it and a badged fault endpoint follow; the thread starts at the
// ELF's entry with the caller's argument.
#pragma once

#include <string_view>

#include "arch_kit.hpp"
#include "layout.hpp"
#include "ukernel/boot_modules.hpp"
#include "ukernel/elf.hpp"
#include "ukernel/log.hpp"
#include "ukernel/syscall.hpp"

namespace system_image {

using ukernel::Error;
using ukernel::ObjectType;
using ukernel::Rights;

// A capability the new program gets: a copy of the root task's `source`, minted with `rights`
// and `badge` (0: a plain copy), in slot `slot` of the program's CSpace.
struct Grant {
  word slot;
  word source;
  Rights rights;
  word badge;
};

struct Spec {
  std::string_view module;
  word priority;
  word argument;
  word fault_endpoint;  // the root task's endpoint; minted with `id` as the badge
  word id;
  const Grant* grants;
  std::size_t grant_count;
};

// Slots and untyped memory of the root task; zero-initialised (user programs have no global
// constructors), then init().
struct RootResources {
  const ukernel::BootInfo* info;
  word next_slot;
  word untyped;

  void init(const ukernel::BootInfo* boot_info) {
    info = boot_info;
    next_slot = info->first_free_slot;
    word best = 0;
    for (word i = 0; i < info->untyped_count; ++i) {
      if (info->untyped[i].size_bits > info->untyped[best].size_bits) best = i;
    }
    untyped = ukernel::kFirstUntypedSlot + best;
  }
  // A new object in a new slot of the root CNode (0 on failure).
  word make(ObjectType type, unsigned size_bits = 0) {
    word slot = next_slot++;
    Error e = ukernel::retype(untyped, type, size_bits, ukernel::kRootCNodeSlot, slot);
    return e == Error::kOk ? slot : 0;
  }
  word mint(word source, Rights rights, word badge) {
    word slot = next_slot++;
    Error e = badge != 0 ? ukernel::cnode_mint(ukernel::kRootCNodeSlot, slot,
                                               ukernel::kRootCNodeSlot, source, rights, badge)
                         : ukernel::cnode_copy(ukernel::kRootCNodeSlot, slot,
                                               ukernel::kRootCNodeSlot, source, rights);
    return e == Error::kOk ? slot : 0;
  }
};

class Loader {
 public:
  // Where the root task fills a frame before handing it over: unused by anything else.
  static constexpr word kScratch = 0x30000000;
  static constexpr word kPage = 4096;

  Loader(RootResources& root, const ukernel::boot_modules::Archive& archive)
      : root_(root), archive_(archive) {}

  // Loads and starts `spec.module`; returns the thread's slot in the root CNode, or 0 after
  // logging why not.
  word start(const Spec& spec) {
    ukernel::boot_modules::Module module;
    if (!archive_.find(spec.module, module)) {
      ukernel::log("loader: {}: no such boot module", spec.module);
      return 0;
    }
    ukernel::elf::Limits limits{ukernel::user::kElfMachine, kPage, kImageBegin, kImageEnd,
                                kMaxImagePages};
    ukernel::elf::Program program;
    if (auto e = ukernel::elf::parse(module.data, module.size, limits, program);
        e != ukernel::elf::Error::kOk) {
      ukernel::log("loader: {}: bad ELF: {}", spec.module, ukernel::elf::describe(e));
      return 0;
    }
    const char* failed = build(spec, module, program);
    if (failed != nullptr) {
      ukernel::log("loader: {}: {} failed", spec.module, failed);
      return 0;
    }
    ukernel::log("loader: {}: started ({} segments, entry {:#x})", spec.module, program.count,
                 program.entry);
    return thread_;
  }

 private:
  // Makes the space, CSpace and thread; returns the step that failed, or nullptr.
  const char* build(const Spec& spec, const ukernel::boot_modules::Module& module,
                    const ukernel::elf::Program& program) {
    word space = root_.make(ObjectType::kAddressSpace, 16);
    word cnode = root_.make(ObjectType::kCNode, kCNodeBits);
    thread_ = root_.make(ObjectType::kThread);
    if (space == 0 || cnode == 0 || thread_ == 0) return "making the space, CNode and thread";
    for (std::size_t i = 0; i < program.count; ++i) {
      const ukernel::elf::Segment& s = program.segments[i];
      Rights rights = s.writable ? Rights::kRead | Rights::kWrite : Rights::kRead;
      for (word off = 0; off < s.memsz; off += kPage) {
        word bytes = off < s.filesz ? s.filesz - off : 0;
        if (bytes > kPage) bytes = kPage;
        if (!map_page(space, s.vaddr + off, module.data + s.offset + off, bytes, rights))
          return "loading a segment";
      }
    }
    for (word i = 1; i <= kStackPages; ++i) {
      if (!map_page(space, kStackTop - i * kPage, nullptr, 0, Rights::kRead | Rights::kWrite))
        return "mapping the stack";
    }
    word ipc =
        map_page(space, ukernel::arch::kUserIpcBuffer, nullptr, 0, Rights::kRead | Rights::kWrite);
    if (ipc == 0) return "mapping the IPC buffer";
    if (ukernel::cnode_copy(cnode, kSelfCNodeSlot, ukernel::kRootCNodeSlot, cnode, Rights::kAll) !=
        Error::kOk)
      return "granting the CNode";
    for (std::size_t i = 0; i < spec.grant_count; ++i) {
      const Grant& g = spec.grants[i];
      Error e = g.badge != 0 ? ukernel::cnode_mint(cnode, g.slot, ukernel::kRootCNodeSlot, g.source,
                                                   g.rights, g.badge)
                             : ukernel::cnode_copy(cnode, g.slot, ukernel::kRootCNodeSlot, g.source,
                                                   g.rights);
      if (e != Error::kOk) return "granting a capability";
    }
    word fault = root_.mint(spec.fault_endpoint, Rights::kWrite, spec.id);
    if (fault == 0) return "minting the fault endpoint";
    if (ukernel::thread_configure(thread_, cnode, space, ipc, ukernel::arch::kUserIpcBuffer,
                                  fault) != Error::kOk ||
        ukernel::thread_set_priority(thread_, spec.priority) != Error::kOk ||
        ukernel::thread_restart(thread_, program.entry, kStackTop, spec.argument) != Error::kOk)
      return "starting the thread";
    return nullptr;
  }

  // A fresh frame holding `bytes` bytes of `data` (the rest zero), mapped at `vaddr` of `space`
  // with `rights`; returns its slot (0: failed).
  word map_page(word space, word vaddr, const unsigned char* data, word bytes, Rights rights) {
    word frame = root_.make(ObjectType::kFrame, 12);
    if (frame == 0) return 0;
    if (ukernel::map_frame(ukernel::kRootAddressSpaceSlot, frame, kScratch,
                           Rights::kRead | Rights::kWrite) != Error::kOk)
      return 0;
    auto* page = reinterpret_cast<unsigned char*>(kScratch);
    __builtin_memset(page, 0, kPage);
    if (bytes > 0) __builtin_memcpy(page, data, bytes);
    if (ukernel::unmap_frame(ukernel::kRootAddressSpaceSlot, kScratch) != Error::kOk) return 0;
    return ukernel::map_frame(space, frame, vaddr, rights) == Error::kOk ? frame : 0;
  }

  RootResources& root_;
  const ukernel::boot_modules::Archive& archive_;
  word thread_ = 0;
};

}  // namespace system_image
