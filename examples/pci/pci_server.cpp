// The PCI server: enumerates the host bridge's first bus through ECAM, places the BARs (where
// firmware has not), and hands each driver its own function (examples/pci/rpc.hpp,
// docs/drivers.md "PCI").
//
// How this works. With its kPciHost grant the supervisor maps the first bus's 1 MiB of ECAM at
// kPciEcamAddress and gives the 32-bit BAR window as the device untyped blocks the kernel cut it
// into (slots kPciWindowSlot.., layout.hpp); the facts of BootInfo::pci come from the supervisor
// (PciHost). At start it revokes everything ever made from the window (a restarted PCI server
// takes back every BAR frame the previous instance gave out: those drivers fault and are
// restarted), enumerates (ukernel/pci.hpp), turns bus mastering off everywhere, assigns the BARs
// when BootInfo says firmware did not (else checks they lie in the window), and carves one device
// frame of exactly each BAR from the block that holds it, in address order (filler untyped cover
// the gaps, so each frame lands at its BAR's address). A driver's requests name no function: the
// badge says who asks, the description says which identity it was granted.
#include <bit>

#include <cstddef>
#include <new>

#include "pci/rpc.hpp"
#include "system/runtime.hpp"
#include "ukernel/caps.hpp"
#include "ukernel/mmio.hpp"
#include "ukernel/pci.hpp"

using namespace system_example;
using ukernel::ObjectType;

namespace {

constexpr unsigned kMinFillerBits = 12;
constexpr std::size_t kNobody = 0;  // badge 0 is the supervisor, never a driver

// Config-space access over the mapping of the first bus (ukernel/pci.hpp's Config).
struct Ecam {
  ukernel::Mmio window;
  std::uint8_t bus = 0;
  bool mapped = false;

  bool inside(ukernel::pci::Address a) const { return mapped && a.bus == bus; }
  std::uint32_t read32(ukernel::pci::Address a, std::uint16_t offset) const {
    return inside(a) ? window.read32(a.ecam_offset(bus) + offset) : 0xffffffff;
  }
  void write32(ukernel::pci::Address a, std::uint16_t offset, std::uint32_t value) const {
    if (inside(a)) window.write32(a.ecam_offset(bus) + offset, value);
  }
  word read(ukernel::pci::Address a, word offset, unsigned width) const {
    return inside(a) ? window.read(a.ecam_offset(bus) + offset, width) : ~word{0};
  }
  void write(ukernel::pci::Address a, word offset, unsigned width, word value) const {
    if (inside(a)) window.write(a.ecam_offset(bus) + offset, width, value);
  }
};

word pack(ukernel::pci::Address a) {
  return word{a.bus} << 16 | word{a.device} << 8 | a.function;
}

class PciServer : public rpc::Server<PciServer, pci::Protocol> {
 public:
  explicit PciServer(Runtime& runtime) : runtime_(runtime) {}

  void start() {
    auto facts = runtime_.supervisor().call<supervisor::Protocol::PciHost>();
    if (!facts.ok() || facts.value()[1] == 0) {
      log("pci: no host bridge");
      return;
    }
    const std::array<word, 9>& f = facts.value();
    // Take back everything a previous instance made (see the top of this file).
    for (word b = 0; b < kPciWindowSlots; ++b)
      (void)ukernel::cnode_revoke(kSelfCNodeSlot, kPciWindowSlot + b);
    ecam_ = {ukernel::Mmio(kPciEcamAddress, word{1} << kPciEcamBits), std::uint8_t(f[2]), true};
    window_base_ = f[4];
    window_bytes_ = f[5];
    if (ukernel::pci::Error e = ukernel::pci::enumerate(ecam_, ecam_.bus, ecam_.bus, functions_);
        e != ukernel::pci::Error::kOk) {
      log("pci: enumeration failed (error {})", int(e));
      functions_.count = 0;
      return;
    }
    // Nobody owns a function yet: no device may write memory.
    for (std::size_t i = 0; i < functions_.count; ++i)
      ukernel::pci::stop_bus_master(ecam_, functions_.items[i].address);
    if (f[8] == 0) {
      ukernel::pci::Windows windows{.memory32 = {.cpu_base = f[4], .pci_base = f[4], .size = f[5]},
                                    .memory64 = {}};
      for (std::size_t i = 0; i < functions_.count; ++i) {
        if (ukernel::pci::assign_bars(ecam_, functions_.items[i], windows) !=
            ukernel::pci::Error::kOk) {
          log("pci: no room for the BARs of {:02x}:{:02x}.{}", functions_.items[i].address.bus,
              functions_.items[i].address.device, functions_.items[i].address.function);
          functions_.count = i;
          break;
        }
      }
    }
    carve_frames();
    log("pci: {} functions", functions_.count);
  }

  // --- the protocol ---
  rpc::Result<pci::ClaimInfo> handle(pci::Protocol::Claim) {
    word client = badge();
    const sysdesc::Grant* grant = pci_grant(client);
    if (grant == nullptr) return Error::kInsufficientRights;
    std::size_t i = find(grant->first, grant->count);
    if (i == functions_.count) return Error::kNotFound;
    owner_[i] = client;
    const ukernel::pci::Function& fn = functions_.items[i];
    ukernel::pci::enable(ecam_, fn.address);
    // MSI-X on (every entry starts masked: the driver programs and unmasks its own).
    if (fn.msix.capability != 0) (void)ukernel::pci::enable_msix(ecam_, fn);
    pci::ClaimInfo info;
    info.address = pack(fn.address);
    for (unsigned b = 0; b < ukernel::pci::kBars; ++b)
      info.bar_bytes[b] = frames_[i][b] != 0 ? fn.bars[b].size : 0;
    info.msix_capability = fn.msix.capability;
    info.msix_table_size = fn.msix.table_size;
    info.msix_table_bar = fn.msix.table_bar;
    info.msix_table_offset = fn.msix.table_offset;
    info.msix_pba_bar = fn.msix.pba_bar;
    info.msix_pba_offset = fn.msix.pba_offset;
    return info;
  }

  rpc::Result<rpc::Capability> handle(pci::Protocol::Bar, word index) {
    std::size_t i = claimed(badge());
    if (i == functions_.count) return Error::kIllegalOperation;
    if (index >= ukernel::pci::kBars || frames_[i][index] == 0) return Error::kInvalidArgument;
    return rpc::Capability{frames_[i][index]};
  }

  rpc::Result<word> handle(pci::Protocol::ConfigRead, word offset, word width) {
    std::size_t i = claimed(badge());
    if (i == functions_.count) return Error::kIllegalOperation;
    if (!valid_access(offset, width)) return Error::kInvalidArgument;
    return ecam_.read(functions_.items[i].address, offset, unsigned(width));
  }

  rpc::Result<void> handle(pci::Protocol::ConfigWrite, word offset, word width, word value) {
    std::size_t i = claimed(badge());
    if (i == functions_.count) return Error::kIllegalOperation;
    if (!valid_access(offset, width)) return Error::kInvalidArgument;
    if (pci::config_write_forbidden(offset, width)) return Error::kInsufficientRights;
    ecam_.write(functions_.items[i].address, offset, unsigned(width), value);
    return {};
  }

  rpc::Result<void> handle(pci::Protocol::StopBusMaster, word client) {
    if (badge() != 0) return Error::kInsufficientRights;
    std::size_t i = claimed(client);
    if (i == functions_.count) return Error::kNotFound;
    ukernel::pci::stop_bus_master(ecam_, functions_.items[i].address);
    owner_[i] = kNobody;
    log("pci: bus mastering off for {}'s function", kSystem.servers[client].name);
    return {};
  }

 private:
  static bool valid_access(word offset, word width) {
    return (width == 1 || width == 2 || width == 4) && offset % width == 0 &&
           offset + width <= 4096;
  }

  static const sysdesc::Grant* pci_grant(word client) {
    if (client == 0 || client >= kServerCount) return nullptr;
    const sysdesc::Server& server = kSystem.servers[client];
    for (std::size_t g = 0; g < server.grant_count(); ++g) {
      if (server.grants[g].kind == sysdesc::GrantKind::kPci) return &server.grants[g];
    }
    return nullptr;
  }

  std::size_t find(word vendor, word device) const {
    for (std::size_t i = 0; i < functions_.count; ++i) {
      if (functions_.items[i].vendor == vendor && functions_.items[i].device == device) return i;
    }
    return functions_.count;
  }

  std::size_t claimed(word client) const {
    for (std::size_t i = 0; i < functions_.count; ++i) {
      if (client != kNobody && owner_[i] == client) return i;
    }
    return functions_.count;
  }

  // The window's blocks (layout.hpp): block b is [base, base + 2^bits) in slot
  // kPciWindowSlot + b, and `cursor` is its watermark as a physical address.
  struct Block {
    word base = 0, bits = 0, cursor = 0;
  };

  // One device frame of exactly each memory BAR inside the window, carved in address order from
  // the block that holds it; a BAR outside the window (firmware's choice, or a 64-bit window)
  // gets no frame and the driver is told it has none.
  void carve_frames() {
    Block blocks[kPciWindowSlots];
    word block_count = 0;
    for (word at = window_base_; block_count < kPciWindowSlots;) {
      unsigned bits = window_block_bits(at, window_base_ + window_bytes_);
      if (bits == 0) break;
      blocks[block_count++] = {at, bits, at};
      at += word{1} << bits;
    }
    for (;;) {
      std::size_t best_f = functions_.count;
      unsigned best_b = 0;
      for (std::size_t i = 0; i < functions_.count; ++i) {
        for (unsigned b = 0; b < ukernel::pci::kBars; ++b) {
          const ukernel::pci::Bar& bar = functions_.items[i].bars[b];
          if (!is_memory(bar) || frames_[i][b] != 0 || tried_[i][b] || bar.size < 4096) continue;
          if (best_f == functions_.count ||
              bar.address < functions_.items[best_f].bars[best_b].address) {
            best_f = i;
            best_b = b;
          }
        }
      }
      if (best_f == functions_.count) return;
      tried_[best_f][best_b] = true;
      const ukernel::pci::Bar& bar = functions_.items[best_f].bars[best_b];
      // The block that holds all of it (a BAR aligned to its size inside the window lies in one).
      word k = 0;
      while (k < block_count &&
             !(bar.address >= blocks[k].cursor &&
               bar.address - blocks[k].base < (word{1} << blocks[k].bits) &&
               bar.size <= (word{1} << blocks[k].bits) - (bar.address - blocks[k].base)))
        ++k;
      if (k == block_count) {
        log("pci: BAR {} of {:02x}:{:02x}.{} at {:#x} is outside the window or overlaps another: "
            "no frame",
            best_b, functions_.items[best_f].address.bus, functions_.items[best_f].address.device,
            functions_.items[best_f].address.function, bar.address);
        continue;
      }
      Block& block = blocks[k];
      word untyped = kPciWindowSlot + k;
      // Fill [cursor, bar.address) with the largest aligned blocks that fit.
      while (block.cursor < bar.address) {
        unsigned bits = kMinFillerBits;
        while (bits < 40 && block.cursor % (word{2} << bits) == 0 &&
               block.cursor + (word{2} << bits) <= bar.address)
          ++bits;
        if (ukernel::retype(untyped, ObjectType::kUntyped, bits, kSelfCNodeSlot, runtime_.slot()) !=
            Error::kOk) {
          log("pci: cannot carve the window below {:#x}", bar.address);
          return;
        }
        block.cursor += word{1} << bits;
      }
      word slot = runtime_.slot();
      auto bits = unsigned(std::bit_width(bar.size) - 1);
      if (ukernel::retype(untyped, ObjectType::kFrame, bits, kSelfCNodeSlot, slot) != Error::kOk) {
        log("pci: cannot make the frame of a BAR at {:#x}", bar.address);
        return;
      }
      frames_[best_f][best_b] = slot;
      block.cursor = bar.address + bar.size;
    }
  }

  static bool is_memory(const ukernel::pci::Bar& bar) {
    return bar.kind == ukernel::pci::Bar::Kind::kMemory32 ||
           bar.kind == ukernel::pci::Bar::Kind::kMemory64;
  }

  Runtime& runtime_;
  Ecam ecam_;
  word window_base_ = 0, window_bytes_ = 0;
  ukernel::pci::Functions functions_;
  word owner_[ukernel::pci::kMaxFunctions] = {};
  word frames_[ukernel::pci::kMaxFunctions][ukernel::pci::kBars] = {};
  bool tried_[ukernel::pci::kMaxFunctions][ukernel::pci::kBars] = {};
};

}  // namespace

extern "C" void ukernel_image_main(word index) {
  Runtime runtime(index);
  // In static storage (it is large for a stack), made here: a function-local static would need
  // the C++ runtime's guard functions, which server images do not link.
  alignas(PciServer) static std::byte storage[sizeof(PciServer)];
  PciServer& server = *::new (storage) PciServer(runtime);
  server.start();
  runtime.announce();
  runtime.serve(server, 0, [](word) {});
}
