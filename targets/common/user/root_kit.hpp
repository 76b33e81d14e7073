// What the bare-metal root tasks (scenario, bench) need to build a system: slots, objects, and a
// second address space that runs code of the root image. Architecture-neutral: what differs per
// architecture comes from arch_kit.hpp of the image's target (targets/<arch>/user/).
//
// The root image's pages: the boot gives the root task one frame capability per page of its
// image (code, read-only data, data, then the stack), in the slots just below first_free_slot
// (src/arch/<arch>/root_task.cpp). A second space maps copies of the code and read-only data
// frames read-only at the same addresses, so functions of this image run there, as long as they
// touch only their stack and their IPC buffer: the image's data pages are not mapped there.
#pragma once

#include "arch_kit.hpp"
#include "ukernel/syscall.hpp"

extern "C" char __user_image_start[], __user_readonly_end[], __user_image_end[];

namespace ukernel::user {

inline constexpr word kPage = 4096;

// Zero-initialised, so that it can be a global without a constructor (user programs have none).
struct RootKit {
  const BootInfo* info;
  word next_slot;
  word untyped;  // the largest RAM untyped block (device memory makes only frames)

  void init(word boot_info_address) {
    info = boot_info(boot_info_address);
    next_slot = info->first_free_slot;
    word best = 0;
    for (word i = 0; i < info->untyped_count; ++i) {
      if (info->untyped[i].is_device == 0 &&
          info->untyped[i].size_bits > info->untyped[best].size_bits)
        best = i;
    }
    untyped = kFirstUntypedSlot + best;
  }

  word slot() { return next_slot++; }
  // A new object in a new slot of the root CNode (0 on failure).
  word make(ObjectType type, unsigned size_bits = 0) {
    word s = slot();
    return retype(untyped, type, size_bits, kRootCNodeSlot, s) == Error::kOk ? s : 0;
  }
  word copy(word src, Rights rights) {
    word s = slot();
    return cnode_copy(kRootCNodeSlot, s, kRootCNodeSlot, src, rights) == Error::kOk ? s : 0;
  }
  word mint(word src, Rights rights, word badge) {
    word s = slot();
    Error e = cnode_mint(kRootCNodeSlot, s, kRootCNodeSlot, src, rights, badge);
    return e == Error::kOk ? s : 0;
  }

  // The frame capability of the root image's page at `vaddr`.
  word image_frame_slot(word vaddr) const {
    auto start = reinterpret_cast<word>(__user_image_start);
    word image_pages = (reinterpret_cast<word>(__user_image_end) - start) / kPage;
    return info->first_free_slot - image_pages - arch::kRootStackPages + (vaddr - start) / kPage;
  }

  // Maps a fresh read-write frame at `vaddr` of `space`; returns the frame's slot (0: failed).
  word map_fresh_frame(word space, word vaddr) {
    word frame = make(ObjectType::kFrame, 12);
    if (frame == 0 || map_frame(space, frame, vaddr, Rights::kRead | Rights::kWrite) != Error::kOk)
      return 0;
    return frame;
  }

  // A new address space with the root image's code and read-only data mapped read-only (0:
  // failed).
  word make_code_space() {
    word space = make(ObjectType::kAddressSpace, 16);
    if (space == 0) return 0;
    for (auto v = reinterpret_cast<word>(__user_image_start);
         v < reinterpret_cast<word>(__user_readonly_end); v += kPage) {
      word frame = copy(image_frame_slot(v), Rights::kRead);
      if (frame == 0 || map_frame(space, frame, v, Rights::kRead) != Error::kOk) return 0;
    }
    return space;
  }

  // Starts `entry(arg)` as a new thread (0: failed) with the given CSpace, space, IPC buffer
  // frame (0: none; else mapped at kUserIpcBuffer), fault endpoint (0: none) and priority, on a
  // stack ending at `stack_top`. The entry must never return.
  word start_thread(void (*entry)(word), word arg, word cnode, word space, word ipc_frame,
                    word fault_endpoint, word priority, word stack_top) {
    word thread = make(ObjectType::kThread);
    if (thread == 0 ||
        thread_configure(thread, cnode, space, ipc_frame, ipc_frame ? arch::kUserIpcBuffer : 0,
                         fault_endpoint) != Error::kOk ||
        thread_set_priority(thread, priority) != Error::kOk) {
      return 0;
    }
    word ip = reinterpret_cast<word>(reinterpret_cast<void*>(entry));
    return thread_restart(thread, ip, user::entry_stack(stack_top), arg) == Error::kOk ? thread : 0;
  }
};

}  // namespace ukernel::user
