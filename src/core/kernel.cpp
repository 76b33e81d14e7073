// Boot (the root task), faults, interrupts and the kernel log.
#include "core/kernel.hpp"

#include "core/address_space.hpp"
#include "core/cnode.hpp"
#include "core/endpoint.hpp"
#include "core/io_ports.hpp"
#include "core/untyped.hpp"

namespace ukernel::core {

namespace {

const char* fault_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kCapability:
      return "capability";
    case FaultKind::kInvalidSyscall:
      return "invalid-syscall";
    case FaultKind::kMemoryAccess:
      return "memory-access";
    case FaultKind::kArithmetic:
      return "arithmetic";
    case FaultKind::kIllegalInstruction:
      return "illegal-instruction";
    case FaultKind::kProtection:
      return "protection";
    case FaultKind::kBreakpoint:
      return "breakpoint";
    case FaultKind::kAbort:
      return "abort";
  }
  return "unknown";
}

// Writes `value` in hex into `out` (16 digits) and returns the end.
char* put_hex(char* out, word value) {
  for (int shift = 60; shift >= 0; shift -= 4)
    *out++ = "0123456789abcdef"[(value >> shift) & 15];
  return out;
}

char* put_text(char* out, const char* text) {
  while (*text)
    *out++ = *text++;
  return out;
}

// Bump allocation of the root task's objects at boot.
class BootAllocator {
 public:
  BootAllocator(word base, word end) : next_(base), end_(end) {}
  // Aligned to min(size, page); returns kNoPhysical if it does not fit.
  word take(word size) {
    word align = size < Machine::kPageSize ? size : Machine::kPageSize;
    word at = (next_ + align - 1) & ~(align - 1);
    if (at > end_ || size > end_ - at) return kNoPhysical;
    next_ = at + size;
    return at;
  }
  word next() const { return next_; }

 private:
  word next_;
  word end_;
};

// Splits [base, end) into the largest naturally aligned power-of-two blocks and makes an untyped
// capability for each (of device memory if `device`). Returns false if the boot info has no room
// left.
bool add_untyped(word base, word end, CNode& root, BootInfo& info, bool device = false) {
  while (base < end) {
    unsigned bits = kMaxUntypedBits;
    while (bits > kMinUntypedBits &&
           ((base & ((word{1} << bits) - 1)) != 0 || (word{1} << bits) > end - base)) {
      --bits;
    }
    if ((word{1} << bits) > end - base) return true;  // a sliver below the minimum is left out
    if (info.untyped_count == kMaxBootUntyped) return false;
    Slot* slot = root.slot(kFirstUntypedSlot + info.untyped_count);
    slot_insert(*slot, create_object(ObjectType::kUntyped, base, bits, device), nullptr);
    info.untyped[info.untyped_count++] = {base, bits, device ? 1u : 0u};
    base += word{1} << bits;
  }
  return true;
}

}  // namespace

void kernel_log(const char* text) {
  Machine::console_write("[kernel] ");
  std::size_t n = 0;
  while (text[n])
    ++n;
  Machine::console_write(std::string_view(text, n));
  Machine::console_write("\n");
}

void raise_fault(Thread& t, FaultKind kind, word address) {
  Kernel& k = kernel();
  k.trace.record(TraceKind::kFault, t.id, word(kind), address);
  if (t.in_ready_queue) k.ready.dequeue(t);
  t.pending_fault = kind;
  t.pending_fault_address = address;
  if (&t == k.current) current_blocked();
  const Cap& handler = t.fault_endpoint_slot.cap;
  if (handler.type == ObjectType::kEndpoint) {
    send_fault(t, *handler.as<Endpoint>(), handler.badge);
    return;
  }
  // Nobody to tell: the thread stops, and the kernel says so (it never stops the kernel). No
  // fault message is pending, so a resumed thread's next message is its own.
  t.state = ThreadState::kInactive;
  t.pending_fault = FaultKind(0);
  char line[160];
  char* p = put_text(line, "thread 0x");
  p = put_hex(p, t.id);
  p = put_text(p, " stopped: ");
  p = put_text(p, fault_name(kind));
  p = put_text(p, " fault, address 0x");
  p = put_hex(p, address);
  p = put_text(p, ", ip 0x");
  p = put_hex(p, t.context.instruction_pointer());
  p = put_text(p, ", no fault endpoint");
  *p = 0;
  kernel_log(line);
}

void handle_fault(FaultKind kind, word address) {
  Kernel& k = kernel();
  if (k.current != nullptr) raise_fault(*k.current, kind, address);
  schedule();
}

void handle_interrupt(unsigned line) {
  Kernel& k = kernel();
  k.trace.record(TraceKind::kInterrupt, k.current ? k.current->id : 0, line);
  deliver_interrupt(line);
  schedule();
}

bool boot(const BootConfig& config) {
  reset_kernel();
  Kernel& k = kernel();
  // Checked before anything is made: a root task of another ABI would misread every number.
  if (config.root_abi_version != kAbiVersion) {
    char line[224];
    char* p = put_text(line, "boot: refused: the root task was built for ABI version 0x");
    p = put_hex(p, config.root_abi_version);
    p = put_text(p, ", this kernel's is 0x");
    p = put_hex(p, kAbiVersion);
    p = put_text(p, " (ukernel/abi.hpp kAbiVersion): rebuild it against this kernel's headers");
    *p = 0;
    kernel_log(line);
    return false;
  }
  if (config.region_count == 0) {
    kernel_log("boot: no memory regions");
    return false;
  }
  const MemoryRegion& first = config.regions[0];
  BootAllocator alloc(first.paddr, first.paddr + first.size);
  word page = Machine::kPageSize;
  word cnode_at = alloc.take(cnode_bytes(kRootCNodeBits));
  word thread_at = alloc.take(word{1} << Thread::kSizeBits);
  word space_at = alloc.take(word{1} << 16);
  word ipc_at = alloc.take(page);
  word info_at = alloc.take(page);
  if (info_at == kNoPhysical || cnode_at == kNoPhysical || thread_at == kNoPhysical ||
      space_at == kNoPhysical || ipc_at == kNoPhysical) {
    kernel_log("boot: the first memory region is too small for the root task");
    return false;
  }
  unsigned page_bits = 0;
  while ((word{1} << page_bits) < page)
    ++page_bits;

  Cap cnode_cap = create_object(ObjectType::kCNode, cnode_at, kRootCNodeBits);
  CNode& root = *cnode_cap.as<CNode>();
  slot_insert(*root.slot(kRootCNodeSlot), cnode_cap, nullptr);
  slot_insert(*root.slot(kRootThreadSlot), create_object(ObjectType::kThread, thread_at, 0),
              nullptr);
  slot_insert(*root.slot(kRootAddressSpaceSlot),
              create_object(ObjectType::kAddressSpace, space_at, 16), nullptr);
  Cap irq_control;
  irq_control.type = ObjectType::kIrqControl;
  irq_control.rights = Rights::kAll;
  slot_insert(*root.slot(kIrqControlSlot), irq_control, nullptr);
  slot_insert(*root.slot(kRootIpcFrameSlot), create_object(ObjectType::kFrame, ipc_at, page_bits),
              nullptr);
  slot_insert(*root.slot(kBootInfoFrameSlot), create_object(ObjectType::kFrame, info_at, page_bits),
              nullptr);
  if constexpr (Machine::kHasIoPorts)
    slot_insert(*root.slot(kIoPortsSlot), io_ports_cap(0, kIoPortCount), nullptr);

  auto& info = *static_cast<BootInfo*>(Machine::kernel_pointer(info_at));
  info.abi_version = kAbiVersion;
  info.cnode_bits = kRootCNodeBits;
  info.irq_lines = Machine::kIrqLines;
  info.page_size = page;
  info.modules_vaddr = config.modules_vaddr;
  info.modules_size = config.modules_size;
  info.pci = config.pci;
  bool fits = add_untyped(alloc.next(), first.paddr + first.size, root, info);
  for (std::size_t i = 1; i < config.region_count && fits; ++i) {
    fits = add_untyped(config.regions[i].paddr, config.regions[i].paddr + config.regions[i].size,
                       root, info);
  }
  if constexpr (Machine::kHasDeviceMemory) {
    for (std::size_t i = 0; i < config.device_region_count && fits; ++i) {
      const MemoryRegion& r = config.device_regions[i];
      fits = add_untyped(r.paddr, r.paddr + r.size, root, info, true);
    }
  }
  if (!fits) kernel_log("boot: more memory blocks than BootInfo holds; the rest is unused");

  Thread& t = *root.slot(kRootThreadSlot)->cap.as<Thread>();
  auto& space = *root.slot(kRootAddressSpaceSlot)->cap.as<AddressSpace>();
  Slot* ipc_slot = root.slot(kRootIpcFrameSlot);
  Slot* info_slot = root.slot(kBootInfoFrameSlot);
  slot_insert(t.cspace_slot, cnode_cap, root.slot(kRootCNodeSlot));
  slot_insert(t.address_space_slot, root.slot(kRootAddressSpaceSlot)->cap,
              root.slot(kRootAddressSpaceSlot));
  slot_insert(t.ipc_frame_slot, ipc_slot->cap, ipc_slot);
  t.ipc_buffer = static_cast<IpcBuffer*>(Machine::kernel_pointer(ipc_at));
  t.ipc_buffer->self = config.ipc_buffer_vaddr;
  t.context.set_ipc_buffer_address(config.ipc_buffer_vaddr);

  // Map the IPC buffer, the boot info (read-only) and the root image.
  auto map = [&](Slot& frame, word vaddr, Rights rights) {
    word size = word{1} << frame.cap.size_bits;
    for (word off = 0; off < size; off += page) {
      if (!space.page_table.map(vaddr + off, frame.cap.object + off, rights)) return false;
    }
    frame.cap.mapped_in = &space;
    frame.cap.badge = vaddr;
    space.mappings[space.mapping_count++] = &frame;
    return true;
  };
  bool mapped = map(*ipc_slot, config.ipc_buffer_vaddr, Rights::kRead | Rights::kWrite) &&
                map(*info_slot, config.boot_info_vaddr, Rights::kRead);
  word slot_index = kFirstUntypedSlot + info.untyped_count;
  for (std::size_t i = 0; i < config.image_count && mapped; ++i) {
    const RootMapping& m = config.image[i];
    Slot& s = *root.slot(slot_index++);
    Cap frame;
    frame.type = ObjectType::kFrame;
    frame.rights = m.rights;  // a read-only page (code, boot modules) stays read-only
    frame.size_bits = std::uint8_t(m.size_bits);
    frame.object = m.paddr;
    slot_insert(s, frame, nullptr);
    mapped = space.mapping_count < AddressSpace::kMaxMappings && map(s, m.vaddr, m.rights);
  }
  if (!mapped) {
    kernel_log("boot: cannot map the root task's IPC buffer, boot info or image");
    return false;
  }
  info.first_free_slot = slot_index;

  t.priority = config.root_priority;
  t.context.start(config.root_entry, config.root_stack, config.boot_info_vaddr);
  t.state = ThreadState::kRunning;
  k.current = &t;
  k.active_space = &space;
  Machine::activate(space.page_table);
  k.next_tick_ns = Machine::now_ns() + kTickNs;
  Machine::timer_arm(k.next_tick_ns);
  return true;
}

}  // namespace ukernel::core
