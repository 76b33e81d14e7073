// Making the servers of the description; see boot.hpp.
#include "supervisor/boot.hpp"

#include <bit>

#include "ukernel/caps.hpp"
#include "ukernel/log.hpp"

namespace supervisor {

using namespace system_example;
using ukernel::kFirstUntypedSlot;
using ukernel::kRootAddressSpaceSlot;
using ukernel::kRootCNodeSlot;

namespace {
constexpr word kServerIpcBuffer = 0x10000000;  // in each server's own address space
constexpr unsigned kAddressSpaceBits = Platform::kAddressSpaceBits;  // its page-table pool
constexpr Rights kReadWrite = Rights::kRead | Rights::kWrite;
}  // namespace

Boot::Boot(word boot_info_address, ImageLoader loader)
    : loader_(loader), device_memory_(*ukernel::boot_info(boot_info_address)) {
  const ukernel::BootInfo* info = ukernel::boot_info(boot_info_address);
  next_slot_ = info->first_free_slot;
  irq_lines_ = info->irq_lines;
  untyped_ = ukernel::largest_ram_untyped(*info);
  pci_ = info->pci;
  // The device untyped entries that are the host bridge's ECAM window and 32-bit BAR window
  // (BootInfo lists them as their own entries; the window, not a power of two, as several).
  word window_end = pci_.mmio_paddr + pci_.mmio_size;
  word next_block = pci_.mmio_paddr;  // where the window's next block must start
  for (word i = 0; i < info->untyped_count; ++i) {
    const ukernel::BootInfo::Untyped& u = info->untyped[i];
    if (u.is_device == 0) continue;
    if (pci_.ecam_size != 0 && u.paddr == pci_.ecam_paddr) ecam_untyped_ = kFirstUntypedSlot + i;
    // Only the blocks the PCI server will expect, in order from the window's base: it computes
    // each block's place and size by the kernel's rule (layout.hpp), so a window the kernel cut
    // differently (or listed only in part) ends at the first block that does not match.
    if (pci_.mmio_size != 0 && u.paddr == next_block && pci_window_block_count_ < kPciWindowSlots &&
        u.size_bits == window_block_bits(next_block, window_end)) {
      pci_window_blocks_[pci_window_block_count_++] = kFirstUntypedSlot + i;
      next_block += word{1} << u.size_bits;
    }
  }
  if (pci_.mmio_size != 0 && next_block != window_end)
    ukernel::log(
        "boot: the PCI window {:#x}..{:#x} is given only up to {:#x} (BARs above get no "
        "frame)",
        pci_.mmio_paddr, window_end, next_block);
}

word Boot::make(ObjectType type, unsigned size_bits) {
  word s = slot();
  return ukernel::retype(untyped_, type, size_bits, kRootCNodeSlot, s) == Error::kOk ? s : 0;
}

word Boot::mint(word source, Rights rights, word badge) {
  word s = slot();
  Error e = badge != 0
                ? ukernel::cnode_mint(kRootCNodeSlot, s, kRootCNodeSlot, source, rights, badge)
                : ukernel::cnode_copy(kRootCNodeSlot, s, kRootCNodeSlot, source, rights);
  return e == Error::kOk ? s : 0;
}

bool Boot::fail(std::size_t index, std::string_view what, Error e) {
  ukernel::log("boot: server '{}': {} (error {})", kSystem.servers[index].name, what, word(e));
  return false;
}

bool Boot::fail_grant(std::size_t index, std::size_t grant, std::string_view what, Error e) {
  ukernel::log("boot: server '{}', grant '{}': {} (error {})", kSystem.servers[index].name,
               kSystem.servers[index].grants[grant].role, what, word(e));
  return false;
}

bool Boot::make_all() {
  supervisor_endpoint_ = make(ObjectType::kEndpoint);
  if (supervisor_endpoint_ == 0)
    return fail(kSupervisorIndex, "cannot make its endpoint", Error::kNotEnoughMemory);
  if constexpr (Platform::power_off_ports().kind == sysdesc::GrantKind::kIoPorts) {
    // Only the supervisor holds it: issued from the root task's capability for every port.
    constexpr sysdesc::Grant ports = Platform::power_off_ports();
    power_off_ports_ = slot();
    Error e = ukernel::root_task::kIoPorts.issue(ports.first, ports.count,
                                                 ukernel::root_task::kCNode, power_off_ports_);
    if (e != Error::kOk) return fail(kSupervisorIndex, "cannot claim the power-off port", e);
  }
  for (std::size_t r = 0; r < kSystem.regions.size(); ++r) {
    // A power of two of at least a page (the description's check): one frame of that size.
    auto bits = unsigned(std::bit_width(kSystem.regions[r].bytes) - 1);
    region_frames_[r] = slot();
    if (ukernel::retype(untyped_, ObjectType::kFrame, bits, kRootCNodeSlot, region_frames_[r], 1,
                        kSystem.regions[r].dma ? ukernel::FrameAttributes::kDma
                                               : ukernel::FrameAttributes::kNone) != Error::kOk) {
      ukernel::log("boot: region '{}': not enough memory", kSystem.regions[r].name);
      return false;
    }
  }
  // Objects first (a grant may name another server's notification), then the grants.
  // The name service first: everyone else gets a capability to its endpoint, which stays the
  // same across its restarts.
  if (!make_server(kNamesIndex)) return false;
  for (std::size_t i = 0; i < kServerCount; ++i) {
    if (i != kNamesIndex && !kSystem.servers[i].root && !make_server(i)) return false;
  }
  if (!carve_mmio()) return false;
  for (std::size_t i = 0; i < kServerCount; ++i) {
    if (!kSystem.servers[i].root && !make_grants(i)) return false;
  }
  return true;
}

// Every mmio(...) grant's device untyped, carved in increasing address order (the order a
// device untyped splits in; the description's check guarantees that no two overlap).
bool Boot::carve_mmio() {
  word carved_up_to = 0;  // every grant below this address is carved
  for (;;) {
    std::size_t server = kServerCount, grant = 0;
    for (std::size_t s = 0; s < kServerCount; ++s) {
      for (std::size_t g = 0; g < kSystem.servers[s].grant_count(); ++g) {
        const sysdesc::Grant& candidate = kSystem.servers[s].grants[g];
        if (candidate.kind == sysdesc::GrantKind::kMmio && candidate.first >= carved_up_to &&
            (server == kServerCount ||
             candidate.first < kSystem.servers[server].grants[grant].first)) {
          server = s;
          grant = g;
        }
      }
    }
    if (server == kServerCount) return true;
    const sysdesc::Grant& mmio = kSystem.servers[server].grants[grant];
    Carved carved = device_memory_.carve(mmio.first, mmio.count, [this] { return slot(); });
    if (!carved.ok())
      return fail_grant(server, grant, carve_error_text(carved.error), carved.kernel);
    mmio_untyped_[server][grant] = carved.slot;
    carved_up_to = mmio.first + mmio.count;
  }
}

bool Boot::make_server(std::size_t index) {
  const sysdesc::Server& spec = kSystem.servers[index];
  ServerCaps& c = caps_[index];
  c.cnode = make(ObjectType::kCNode, kCNodeBits);
  c.space = make(ObjectType::kAddressSpace, kAddressSpaceBits);
  c.thread = make(ObjectType::kThread);
  c.endpoint = make(ObjectType::kEndpoint);
  if (index == kNamesIndex) names_endpoint_ = c.endpoint;
  c.notification = make(ObjectType::kNotification);
  word ipc = make(ObjectType::kFrame, 12);
  if (!c.cnode || !c.space || !c.thread || !c.endpoint || !c.notification || !ipc)
    return fail(index, "not enough memory for its objects", Error::kNotEnoughMemory);
  auto put = [&](word dest, word source, Rights rights, word badge) {
    return badge != 0 ? ukernel::cnode_mint(c.cnode, dest, kRootCNodeSlot, source, rights, badge)
                      : ukernel::cnode_copy(c.cnode, dest, kRootCNodeSlot, source, rights);
  };
  Error e = put(kSelfCNodeSlot, c.cnode, Rights::kAll, 0);
  if (e == Error::kOk) e = put(kEndpointSlot, c.endpoint, Rights::kAll, 0);
  if (e == Error::kOk) e = put(kNamesSlot, names_endpoint_, Rights::kAll, index);
  if (e == Error::kOk) e = put(kSupervisorSlot, supervisor_endpoint_, Rights::kAll, index);
  if (e == Error::kOk) e = put(kNotificationSlot, c.notification, Rights::kAll, 0);
  if (e == Error::kOk) e = put(kTimerWakeSlot, c.notification, Rights::kWrite, kTimerBit);
  if (e == Error::kOk) e = put(kAddressSpaceSlot, c.space, Rights::kAll, 0);
  if (e != Error::kOk) return fail(index, "cannot fill its CSpace", e);
  c.names = mint(names_endpoint_, Rights::kAll, index);
  c.timer_wake = mint(c.notification, Rights::kWrite, kTimerBit);
  word fault_endpoint = mint(supervisor_endpoint_, Rights::kWrite, index);
  if (c.names == 0 || c.timer_wake == 0 || fault_endpoint == 0)
    return fail(index, "cannot mint its badged capabilities", Error::kNotEnoughMemory);
  if (e = ukernel::map_frame(c.space, ipc, kServerIpcBuffer, kReadWrite); e != Error::kOk)
    return fail(index, "cannot map its IPC buffer", e);
  if (e = ukernel::thread_configure(c.thread, c.cnode, c.space, ipc, kServerIpcBuffer,
                                    fault_endpoint);
      e != Error::kOk)
    return fail(index, "cannot configure its thread", e);
  if (e = ukernel::thread_set_priority(c.thread, spec.priority); e != Error::kOk)
    return fail(index, "cannot set its priority", e);
  if (e = ukernel::thread_bind_notification(c.thread, c.notification); e != Error::kOk)
    return fail(index, "cannot bind its notification", e);
  return true;
}

bool Boot::make_grants(std::size_t index) {
  const sysdesc::Server& spec = kSystem.servers[index];
  const ServerCaps& c = caps_[index];
  for (std::size_t g = 0; g < spec.grant_count(); ++g) {
    const sysdesc::Grant& grant = spec.grants[g];
    word dest = kFirstGrantSlot + g;
    Error e = Error::kOk;
    switch (grant.kind) {
      case sysdesc::GrantKind::kIrq: {
        if (grant.first >= irq_lines_)
          return fail_grant(index, g, "the kernel has no such interrupt line",
                            Error::kInvalidArgument);
        word handler = slot();
        word signal = mint(c.notification, Rights::kWrite, irq_bit(g));
        e = ukernel::irq_control_get(ukernel::kIrqControlSlot, grant.first, kRootCNodeSlot,
                                     handler);
        if (e == Error::kOk) e = ukernel::irq_set_notification(handler, signal);
        if (e == Error::kOk) e = ukernel::cnode_move(c.cnode, dest, kRootCNodeSlot, handler);
        if (e != Error::kOk) return fail_grant(index, g, "cannot claim the interrupt line", e);
        break;
      }
      case sysdesc::GrantKind::kNotify: {
        const ServerCaps& target = caps_[kSystem.index_of(grant.target)];
        e = ukernel::cnode_mint(c.cnode, dest, kRootCNodeSlot, target.notification, Rights::kWrite,
                                notify_bit(index));
        if (e != Error::kOk) return fail_grant(index, g, "cannot mint the notification", e);
        break;
      }
      case sysdesc::GrantKind::kShared:
      case sysdesc::GrantKind::kFsSession: {
        word frame = mint(region_frames_[kSystem.region_of(grant.target)], kReadWrite, 0);
        e = frame ? ukernel::map_frame(c.space, frame, grant.first, kReadWrite)
                  : Error::kNotEnoughMemory;
        // The frame's capability too: a driver asks a DMA region's bus address through it.
        if (e == Error::kOk)
          e = ukernel::cnode_copy(c.cnode, dest, kRootCNodeSlot, frame, kReadWrite);
        if (e != Error::kOk) return fail_grant(index, g, "cannot map the shared region", e);
        break;
      }
      case sysdesc::GrantKind::kMemory: {
        auto bits = unsigned(std::bit_width(std::bit_ceil(grant.count)) - 1);
        word block = make(ObjectType::kUntyped, bits);
        e = block ? ukernel::cnode_move(c.cnode, dest, kRootCNodeSlot, block)
                  : Error::kNotEnoughMemory;
        if (e != Error::kOk) return fail_grant(index, g, "cannot give the memory", e);
        break;
      }
      case sysdesc::GrantKind::kIoPorts: {
        // Issued from the root task's capability for every port (the description's check
        // rejects I/O ports on a back-end without them).
        e = ukernel::root_task::kIoPorts.issue(grant.first, grant.count, ukernel::CNode(c.cnode),
                                               dest);
        if (e != Error::kOk) return fail_grant(index, g, "cannot issue the I/O ports", e);
        break;
      }
      case sysdesc::GrantKind::kMmio: {
        // Carved by carve_mmio; the server maps it (Runtime::map_mmio).
        e = ukernel::cnode_move(c.cnode, dest, kRootCNodeSlot, mmio_untyped_[index][g]);
        if (e != Error::kOk) return fail_grant(index, g, "cannot give the device memory", e);
        break;
      }
      case sysdesc::GrantKind::kPciHost: {
        // The first bus of ECAM mapped at kPciEcamAddress, and the 32-bit BAR window's device
        // untyped blocks in slots kPciWindowSlot.. (an untyped cannot be copied: the root task
        // gives up its own; the grant's own slot stays empty). No host bridge: nothing is
        // given, and the PCI server finds no functions.
        if (ecam_untyped_ == 0 || pci_window_block_count_ == 0) break;
        word ecam = slot();
        e = ukernel::retype(ecam_untyped_, ObjectType::kFrame, kPciEcamBits, kRootCNodeSlot, ecam);
        if (e == Error::kOk) e = ukernel::map_frame(c.space, ecam, kPciEcamAddress, kReadWrite);
        for (word b = 0; b < pci_window_block_count_ && e == Error::kOk; ++b)
          e = ukernel::cnode_move(c.cnode, kPciWindowSlot + b, kRootCNodeSlot,
                                  pci_window_blocks_[b]);
        if (e != Error::kOk) return fail_grant(index, g, "cannot give the host bridge", e);
        pci_server_ = index;
        break;
      }
      case sysdesc::GrantKind::kPci:
        break;  // claimed from the PCI server, which reads the identity in the description
      case sysdesc::GrantKind::kMsi: {
        // The first line nobody has: claimed and answering msi_message(), and not a wired line
        // the description grants (a later server's wired grant must still find it free).
        bool done = false;
        for (word line = 0; line < irq_lines_ && !done; ++line) {
          if (wired_in_description(line)) continue;
          word handler = slot();
          if (ukernel::irq_control_get(ukernel::kIrqControlSlot, line, kRootCNodeSlot, handler) !=
              Error::kOk)
            continue;
          if (!ukernel::IrqHandler(handler).msi_message().ok()) {
            (void)ukernel::cnode_delete(kRootCNodeSlot, handler);
            continue;
          }
          word signal = mint(c.notification, Rights::kWrite, irq_bit(g));
          e = signal ? ukernel::irq_set_notification(handler, signal) : Error::kNotEnoughMemory;
          if (e == Error::kOk) e = ukernel::cnode_move(c.cnode, dest, kRootCNodeSlot, handler);
          if (e != Error::kOk) return fail_grant(index, g, "cannot bind the MSI line", e);
          done = true;
        }
        // Not fatal: the driver finds the slot empty and says so (a back-end whose lines do not
        // answer msi_message() yet still boots the rest of the system).
        if (!done)
          ukernel::log("boot: server '{}', grant '{}': no free message-signalled interrupt line",
                       spec.name, grant.role);
        break;
      }
      case sysdesc::GrantKind::kNone:
        break;
    }
  }
  return true;
}

bool Boot::wired_in_description(word line) {
  for (const sysdesc::Server& server : kSystem.servers) {
    for (std::size_t g = 0; g < server.grant_count(); ++g) {
      if (server.grants[g].kind == sysdesc::GrantKind::kIrq && server.grants[g].first == line)
        return true;
    }
  }
  return false;
}

bool Boot::start(std::size_t index) {
  Entry entry = loader_(*this, index);
  if (entry.ip == 0) return fail(index, "cannot load its image", Error::kInvalidArgument);
  Error e = ukernel::thread_restart(caps_[index].thread, entry.ip, entry.sp, index);
  return e == Error::kOk || fail(index, "cannot start its thread", e);
}

Error Boot::renew_endpoint(std::size_t index) {
  ServerCaps& c = caps_[index];
  (void)ukernel::cnode_revoke(kRootCNodeSlot, c.endpoint);  // every copy, wherever it went
  (void)ukernel::cnode_delete(kRootCNodeSlot, c.endpoint);
  Error e = ukernel::retype(untyped_, ObjectType::kEndpoint, 0, kRootCNodeSlot, c.endpoint);
  if (e != Error::kOk) return e;
  return ukernel::cnode_copy(c.cnode, kEndpointSlot, kRootCNodeSlot, c.endpoint, Rights::kAll);
}

void Boot::clear_free_slots(std::size_t index) {
  for (word s = kFirstFreeSlot; s < (word{1} << kCNodeBits); ++s)
    (void)ukernel::cnode_delete(caps_[index].cnode, s);
}

word Boot::spawn(word entry, word arg, word priority) {
  constexpr word kPage = 0x1000;
  word thread = make(ObjectType::kThread);
  word frame = make(ObjectType::kFrame, 12);
  if (thread == 0 || frame == 0) return 0;
  // Its IPC buffer, then its stack pages (none where the back-end provides stacks), then an
  // unmapped guard page before the next thread's.
  word vaddr = next_root_vaddr_;
  word stack_top = vaddr + kPage * (1 + Platform::kThreadStackPages);
  next_root_vaddr_ = stack_top + kPage;
  for (word page = vaddr + kPage; page < stack_top; page += kPage) {
    word stack = make(ObjectType::kFrame, 12);
    if (stack == 0 ||
        ukernel::map_frame(kRootAddressSpaceSlot, stack, page, kReadWrite) != Error::kOk)
      return 0;
  }
  if (ukernel::map_frame(kRootAddressSpaceSlot, frame, vaddr, kReadWrite) != Error::kOk ||
      ukernel::thread_configure(thread, kRootCNodeSlot, kRootAddressSpaceSlot, frame, vaddr, 0) !=
          Error::kOk ||
      ukernel::thread_set_priority(thread, priority) != Error::kOk ||
      ukernel::thread_restart(thread, entry, Platform::entry_stack(stack_top), arg) != Error::kOk)
    return 0;
  return thread;
}

}  // namespace supervisor
