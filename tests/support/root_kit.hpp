// Test support for root tasks: free-slot allocation and object creation through the real
// system calls, so each test can say "make me a thread" in one line.
#pragma once

#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

namespace ukernel::test {

class RootKit {
 public:
  explicit RootKit(word boot_info_address) : info_(boot_info(boot_info_address)) {
    next_slot_ = info_->first_free_slot;
    untyped_ = largest_ram_untyped(*info_);
  }

  const BootInfo& info() const { return *info_; }
  word untyped() const { return untyped_; }
  word slot() { return next_slot_++; }

  // Makes an object; returns its slot, or 0 on failure.
  word make(ObjectType type, unsigned size_bits = 0) {
    word s = slot();
    return retype(untyped_, type, size_bits, kRootCNodeSlot, s) == Error::kOk ? s : 0;
  }

  // Copies `src` with `rights` and `badge` (0: plain copy) into a new slot.
  word mint(word src, Rights rights, word badge) {
    word s = slot();
    Error e = badge ? cnode_mint(kRootCNodeSlot, s, kRootCNodeSlot, src, rights, badge)
                    : cnode_copy(kRootCNodeSlot, s, kRootCNodeSlot, src, rights);
    return e == Error::kOk ? s : 0;
  }

  // A thread in the root's CSpace and address space, with its own IPC buffer, started at
  // `entry(arg)` with `priority`. `fault_endpoint` 0: none. Returns the thread's slot (0: fail).
  word spawn(hosted::Entry entry, word arg, word priority, word fault_endpoint = 0) {
    return spawn_in(kRootAddressSpaceSlot, entry, arg, priority, fault_endpoint);
  }

  // The same in address space `space` (still sharing the root's CSpace): a thread that can
  // reach only what is mapped there.
  word spawn_in(word space, hosted::Entry entry, word arg, word priority, word fault_endpoint = 0) {
    word thread = make(ObjectType::kThread);
    word frame = make(ObjectType::kFrame, 12);
    if (thread == 0 || frame == 0) return 0;
    word ipc_vaddr = next_vaddr_;
    next_vaddr_ += 0x1000;
    if (map_frame(space, frame, ipc_vaddr, Rights::kRead | Rights::kWrite) != Error::kOk) return 0;
    if (thread_configure(thread, kRootCNodeSlot, space, frame, ipc_vaddr, fault_endpoint) !=
        Error::kOk)
      return 0;
    if (thread_set_priority(thread, priority) != Error::kOk) return 0;
    if (thread_restart(thread, hosted::entry_address(entry), 0, arg) != Error::kOk) return 0;
    return thread;
  }

 private:
  const BootInfo* info_;
  word untyped_ = 0;
  word next_slot_ = 0;
  word next_vaddr_ = 0x40000000;
};

}  // namespace ukernel::test
