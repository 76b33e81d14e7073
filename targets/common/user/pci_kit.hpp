// What the bare-metal root tasks that drive PCI themselves (msix_root.cpp, grants_root.cpp) share:
// device untyped split down to the block that holds an address, configuration space through the
// ECAM mapping of one bus, and the first message-signalled interrupt line.
//
// How the splitting works: BootInfo lists device memory as a few large untyped blocks (the ECAM
// window, the PCI windows). To reach [base, base + 2^bits), the block that holds it is halved
// again and again down to that size; the halves not taken are kept as pieces for later requests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "root_kit.hpp"
#include "ukernel/caps.hpp"
#include "ukernel/mmio.hpp"
#include "ukernel/pci.hpp"

namespace ukernel::user {

// Zero-initialised (a global without a constructor, as user programs have none): call add_boot().
class DeviceBlocks {
 public:
  // Every device untyped of BootInfo, as the first pieces.
  void add_boot(RootKit& root) {
    root_ = &root;
    for (word i = 0; i < root.info->untyped_count; ++i) {
      if (root.info->untyped[i].is_device != 0)
        add(kFirstUntypedSlot + i, root.info->untyped[i].paddr,
            static_cast<unsigned>(root.info->untyped[i].size_bits));
    }
  }

  // The slot of a device untyped of exactly 2^bits bytes at `base` (aligned), split from the
  // boot's device untyped; 0 if none covers it (or it was taken already).
  word block(word base, unsigned bits) {
    for (std::size_t i = 0; i < count_; ++i) {
      Piece p = pieces_[i];
      if (p.used || p.bits < bits || base < p.base || base - p.base >= word{1} << p.bits) continue;
      pieces_[i].used = true;
      while (p.bits > bits) {
        word low = root_->slot();
        root_->slot();
        if (retype(p.slot, ObjectType::kUntyped, p.bits - 1, kRootCNodeSlot, low, 2) != Error::kOk)
          return 0;
        word half = word{1} << (p.bits - 1);
        bool upper = base >= p.base + half;
        add(upper ? low : low + 1, upper ? p.base : p.base + half, p.bits - 1);
        p = {upper ? low + 1 : low, upper ? p.base + half : p.base, p.bits - 1, true};
      }
      return p.slot;
    }
    return 0;
  }

  // A device frame of [base, base + 2^bits) in a new root slot (0: none).
  word frame(word base, unsigned bits) {
    word untyped = block(base, bits);
    word slot = root_->slot();
    return untyped != 0 &&
                   retype(untyped, ObjectType::kFrame, bits, kRootCNodeSlot, slot) == Error::kOk
               ? slot
               : 0;
  }

  // Maps [base, base + 2^bits) at `vaddr` of the root task's space as one frame (an address
  // space holds a limited number of mappings, not pages); false on failure.
  bool map(word base, unsigned bits, word vaddr) {
    word f = frame(base, bits);
    return f != 0 &&
           map_frame(kRootAddressSpaceSlot, f, vaddr, Rights::kRead | Rights::kWrite) == Error::kOk;
  }

 private:
  struct Piece {
    word slot, base;
    unsigned bits;
    bool used;
  };
  void add(word slot, word base, unsigned bits) {
    if (count_ < std::size(pieces_)) pieces_[count_++] = {slot, base, bits, false};
  }

  RootKit* root_;
  Piece pieces_[256];
  std::size_t count_;
};

// Configuration space through the ECAM mapping of one bus (ukernel/pci.hpp's Config).
struct EcamBus {
  Mmio window;
  std::uint8_t bus;
  std::uint32_t read32(pci::Address a, std::uint16_t offset) const {
    if (a.bus != bus) return 0xffffffff;  // not mapped: reads as no device
    return static_cast<std::uint32_t>(window.read(a.ecam_offset(bus) + offset, 4));
  }
  void write32(pci::Address a, std::uint16_t offset, std::uint32_t value) const {
    if (a.bus == bus) window.write(a.ecam_offset(bus) + offset, 4, value);
  }
};

// The smallest power of two of at least a page that holds `size` bytes, in bits.
inline unsigned log2_at_least_page(word size) {
  unsigned bits = 12;
  while ((word{1} << bits) < size)
    ++bits;
  return bits;
}

// The first line whose handler answers IrqHandlerMsiMessage, from `first` on; the handler's slot
// (0: none), its line and message. `wired_refused`: every line before it refused with
// kIllegalOperation (wired lines).
inline word claim_msi_line(RootKit& root, word first, word& line, word& address, word& data,
                           bool& wired_refused) {
  wired_refused = true;
  for (line = first; line < root.info->irq_lines; ++line) {
    word handler = root.slot();
    if (irq_control_get(kIrqControlSlot, line, kRootCNodeSlot, handler) != Error::kOk) continue;
    Message m = IrqHandler(handler).msi_message();
    if (m.ok()) {
      address = message_word(m, 0);
      data = message_word(m, 1);
      return handler;
    }
    wired_refused = wired_refused && m.status == Error::kIllegalOperation;
    (void)cnode_delete(kRootCNodeSlot, handler);
  }
  return 0;
}

}  // namespace ukernel::user
