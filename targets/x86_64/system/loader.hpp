// The root task's program loader: starts a boot module as a thread in an address space of its
// own, with the CSpace the caller describes (Loader), or loads it into an address space someone
// else made and reloads it for a restart (ProgramPages: the example system's supervisor,
// examples/system/baremetal/main.cpp).
//
// How this works: the module's ELF is checked in full first (ukernel/elf.hpp), so a bad file
// costs nothing but a message. Then, for each page of each segment, a fresh frame is retyped
// from untyped, mapped for a moment at kScratch in the root task's own space, filled (file data,
// the rest zero), unmapped, and mapped into the new space with the segment's rights: read-only
// (and executable) without PF_W, read-write (never executable) with it; a stack follows. A
// reload fills the writable pages (data, bss, stack) again the same way. Loader adds an IPC
// buffer (layout.hpp), a CNode holding a copy of itself plus the capabilities the caller grants,
// and a thread configured with all of it and a badged fault endpoint; the thread starts at the
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
    untyped = ukernel::largest_ram_untyped(*info);
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

// A program's pages in an address space: its ELF segments and a stack of kStackPages below
// kStackTop, each page a frame of its own. `load` makes and fills them; `reload` fills the
// writable ones again (data, bss, stack) from the file, so a restarted program starts from
// fresh globals, while code and read-only data, which it could not change, stay as they are.
// `Root` makes objects in the root task's CNode: `word make(ObjectType, unsigned size_bits)`.
class ProgramPages {
 public:
  // Where the root task fills a frame before handing it over: unused by anything else.
  static constexpr word kScratch = 0x30000000;
  static constexpr word kPage = 4096;
  static constexpr std::size_t kMaxPages = kMaxImagePages + kStackPages;

  // Loads `program` (parsed from `file`) into `space`; returns the step that failed, or nullptr.
  template <class Root>
  const char* load(Root& root, word space, const unsigned char* file,
                   const ukernel::elf::Program& program) {
    space_ = space;
    count_ = 0;
    for (std::size_t i = 0; i < program.count; ++i) {
      const ukernel::elf::Segment& s = program.segments[i];
      for (word off = 0; off < s.memsz; off += kPage) {
        word bytes = off < s.filesz ? s.filesz - off : 0;
        if (bytes > kPage) bytes = kPage;
        if (!add(root, s.vaddr + off, file + s.offset + off, bytes, s.writable))
          return "loading a segment";
      }
    }
    for (word i = 1; i <= kStackPages; ++i) {
      if (!add(root, kStackTop - i * kPage, nullptr, 0, true)) return "mapping the stack";
    }
    return nullptr;
  }

  // Fills every writable page again as `load` did; false if a page could not be remapped.
  [[nodiscard]] bool reload() {
    for (std::size_t i = 0; i < count_; ++i) {
      Page& p = pages_[i];
      if (!p.writable) continue;
      if (ukernel::unmap_frame(space_, p.vaddr) != Error::kOk ||
          !fill_and_map(p, Rights::kRead | Rights::kWrite))
        return false;
    }
    return true;
  }

 private:
  struct Page {
    word frame;
    word vaddr;
    const unsigned char* data;
    word bytes;
    bool writable;
  };

  template <class Root>
  bool add(Root& root, word vaddr, const unsigned char* data, word bytes, bool writable) {
    if (count_ == kMaxPages) return false;
    word frame = root.make(ObjectType::kFrame, 12);
    if (frame == 0) return false;
    Page& p = pages_[count_++];
    p = {frame, vaddr, data, bytes, writable};
    return fill_and_map(p, writable ? Rights::kRead | Rights::kWrite : Rights::kRead);
  }

  // Fills the page's frame through the scratch mapping (file bytes, the rest zero), then maps
  // it at its address in the program's space with `rights`.
  bool fill_and_map(const Page& p, Rights rights) {
    if (ukernel::map_frame(ukernel::kRootAddressSpaceSlot, p.frame, kScratch,
                           Rights::kRead | Rights::kWrite) != Error::kOk)
      return false;
    auto* page = reinterpret_cast<unsigned char*>(kScratch);
    __builtin_memset(page, 0, kPage);
    if (p.bytes > 0) __builtin_memcpy(page, p.data, p.bytes);
    if (ukernel::unmap_frame(ukernel::kRootAddressSpaceSlot, kScratch) != Error::kOk) return false;
    return ukernel::map_frame(space_, p.frame, p.vaddr, rights) == Error::kOk;
  }

  word space_;
  std::size_t count_;
  Page pages_[kMaxPages];
};

// Finds boot module `name` and checks its ELF completely (nothing is made for a bad file);
// false after logging why not.
inline bool find_program(const ukernel::boot_modules::Archive& archive, std::string_view name,
                         ukernel::boot_modules::Module& module, ukernel::elf::Program& program) {
  if (!archive.find(name, module)) {
    ukernel::log("loader: {}: no such boot module", name);
    return false;
  }
  ukernel::elf::Limits limits{ukernel::user::kElfMachine, ProgramPages::kPage, kImageBegin,
                              kImageEnd, kMaxImagePages};
  if (auto e = ukernel::elf::parse(module.data, module.size, limits, program);
      e != ukernel::elf::Error::kOk) {
    ukernel::log("loader: {}: bad ELF: {}", name, ukernel::elf::describe(e));
    return false;
  }
  return true;
}

class Loader {
 public:
  Loader(RootResources& root, const ukernel::boot_modules::Archive& archive)
      : root_(root), archive_(archive) {}

  // Loads and starts `spec.module`; returns the thread's slot in the root CNode, or 0 after
  // logging why not.
  word start(const Spec& spec) {
    ukernel::boot_modules::Module module;
    ukernel::elf::Program program;
    if (!find_program(archive_, spec.module, module, program)) return 0;
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
    if (const char* failed = pages_.load(root_, space, module.data, program)) return failed;
    word ipc = root_.make(ObjectType::kFrame, 12);
    if (ipc == 0 || ukernel::map_frame(space, ipc, ukernel::arch::kUserIpcBuffer,
                                       Rights::kRead | Rights::kWrite) != Error::kOk)
      return "mapping the IPC buffer";
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

  RootResources& root_;
  const ukernel::boot_modules::Archive& archive_;
  ProgramPages pages_;  // reused: this loader never reloads a program it started
  word thread_ = 0;
};

}  // namespace system_image
