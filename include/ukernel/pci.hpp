// PCI enumeration and setup over any config-space accessor, trusting nothing it reads.
//
// How this works. A Config is any type with
//   std::uint32_t read32(Address, std::uint16_t offset);            // offset 4-aligned, < 4096
//   void write32(Address, std::uint16_t offset, std::uint32_t value);
// (a PCI server implements it over its mapping of the ECAM window; the host tests over a fake).
// enumerate() walks the buses in [first, last]: every device, every function of a
// multi-function device, and the secondary bus of a bridge that firmware has numbered (each bus
// once, so a bridge loop cannot recurse). For each function it reads identity and class, sizes
// the BARs (memory decoding off meanwhile; 32/64-bit, prefetchable, I/O) and finds the MSI-X
// capability (table and PBA: BAR and offset). assign_bars() places memory BARs in the windows
// (AArch64's `ranges`; on x86-64 firmware has assigned them already), enable() turns on memory
// decoding and bus mastering, stop_bus_master() turns bus mastering off. program_msix() writes one
// MSI-X table entry through the driver's mapping of the table's BAR.
//
// Every value from config space is untrusted: a BAR whose size is not a power of two, a 64-bit
// BAR in the last slot, a capability list that loops or points outside the header, an MSI-X
// table outside its BAR all give an Error; nothing is written for a function that failed.
// Freestanding: no heap, no exceptions (tests/discovery/pci_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ukernel/abi.hpp"

namespace ukernel::pci {

inline constexpr std::size_t kMaxFunctions = 32;  // functions one enumeration keeps
inline constexpr unsigned kBars = 6;

enum class Error {
  kOk,
  kTooManyFunctions,  // more than kMaxFunctions functions
  kBadBar,            // a BAR size that is not a power of two, or a 64-bit BAR in slot 5
  kBadCapability,     // a capability pointer below 0x40, or a list that loops
  kBadMsix,           // the MSI-X table or PBA names a missing/I/O BAR or lies outside it
  kNoWindow,          // no window left with room for a BAR
  kNoMsix,            // the function has no MSI-X capability
  kBadIndex,          // an MSI-X entry past the table
};

struct Address {
  std::uint8_t bus = 0, device = 0, function = 0;
  // The offset of this function's 4 KiB in an ECAM window that starts at bus `first_bus`.
  word ecam_offset(std::uint8_t first_bus) const {
    return word{static_cast<unsigned>(bus - first_bus)} << 20 | word{device} << 15 |
           word{function} << 12;
  }
};

struct Bar {
  enum class Kind : std::uint8_t { kNone, kMemory32, kMemory64, kIo };
  Kind kind = Kind::kNone;
  bool prefetchable = false;
  word size = 0;
  word address = 0;  // as read from config space, or as assign_bars() placed it (CPU address)
};

struct Msix {
  std::uint8_t capability = 0;   // its offset in config space; 0: none
  std::uint16_t table_size = 0;  // entries
  std::uint8_t table_bar = 0, pba_bar = 0;
  std::uint32_t table_offset = 0, pba_offset = 0;
};

struct Function {
  Address address;
  std::uint16_t vendor = 0, device = 0;
  std::uint8_t class_code = 0, subclass = 0, prog_if = 0, revision = 0;
  bool is_bridge = false;
  Bar bars[kBars] = {};
  Msix msix;
};

struct Functions {
  Function items[kMaxFunctions] = {};
  std::size_t count = 0;
};

// A window of PCI memory: PCI addresses [pci_base, +size) seen by the CPU at cpu_base.
struct Window {
  word cpu_base = 0, pci_base = 0, size = 0;
  word used = 0;
  bool prefetchable = false;
};
struct Windows {
  Window memory32;
  Window memory64;  // size 0: 64-bit BARs go into memory32
};

namespace config {
inline constexpr std::uint16_t kId = 0x00, kCommand = 0x04, kClass = 0x08, kHeader = 0x0c;
inline constexpr std::uint16_t kBar0 = 0x10, kBusNumbers = 0x18, kCapabilities = 0x34;
inline constexpr std::uint32_t kCommandIo = 1, kCommandMemory = 2, kCommandBusMaster = 4;
inline constexpr std::uint32_t kStatusCapabilities = 1u << 20;  // in the command dword
inline constexpr std::uint8_t kCapabilityMsix = 0x11;
}  // namespace config

namespace detail {

constexpr bool power_of_two(word v) {
  return v != 0 && (v & (v - 1)) == 0;
}

template <class Config>
void write_command(Config& cfg, Address a, std::uint32_t command) {
  // The high half is the status register, whose bits clear when written with 1: write 0 there.
  cfg.write32(a, config::kCommand, command & 0xffff);
}

template <class Config>
Error size_bars(Config& cfg, Address a, unsigned count, Function& f) {
  std::uint32_t command = cfg.read32(a, config::kCommand);
  write_command(cfg, a, command & ~(config::kCommandIo | config::kCommandMemory));
  Error result = Error::kOk;
  for (unsigned i = 0; i < count && result == Error::kOk; ++i) {
    auto offset = static_cast<std::uint16_t>(config::kBar0 + 4 * i);
    std::uint32_t original = cfg.read32(a, offset);
    cfg.write32(a, offset, 0xffffffff);
    std::uint32_t mask = cfg.read32(a, offset);
    cfg.write32(a, offset, original);
    if ((original & 1) != 0) {  // I/O
      if (mask == 0) continue;
      std::uint32_t io_mask = mask & 0xfffffffc;
      if ((io_mask & 0xffff0000) == 0) io_mask |= 0xffff0000;  // 16-bit I/O decoding
      word size = static_cast<std::uint32_t>(~io_mask + 1);
      if (!power_of_two(size)) result = Error::kBadBar;
      f.bars[i] = {Bar::Kind::kIo, false, size, original & 0xfffffffc};
      continue;
    }
    bool is_64 = ((original >> 1) & 3) == 2;
    word full_mask = mask & 0xfffffff0u;
    word address = original & 0xfffffff0u;
    if (is_64) {
      if (i + 1 >= count) {
        result = Error::kBadBar;
        break;
      }
      auto high_offset = static_cast<std::uint16_t>(offset + 4);
      std::uint32_t high = cfg.read32(a, high_offset);
      cfg.write32(a, high_offset, 0xffffffff);
      full_mask |= word{cfg.read32(a, high_offset)} << 32;
      cfg.write32(a, high_offset, high);
      address |= word{high} << 32;
    } else {
      full_mask |= word{0xffffffff} << 32;
    }
    unsigned slot = i;
    if (is_64) ++i;  // the high half is not a BAR of its own
    if ((full_mask & 0xffffffff) == 0 && (!is_64 || full_mask >> 32 == 0)) continue;  // unused
    word size = ~full_mask + 1;
    if (!power_of_two(size)) result = Error::kBadBar;
    f.bars[slot] = {is_64 ? Bar::Kind::kMemory64 : Bar::Kind::kMemory32, (original & 8) != 0, size,
                    address};
  }
  write_command(cfg, a, command);
  return result;
}

template <class Config>
Error capabilities(Config& cfg, Address a, Function& f) {
  if ((cfg.read32(a, config::kCommand) & config::kStatusCapabilities) == 0) return Error::kOk;
  std::uint32_t seen[2] = {};  // capability offsets 0x40..0xfc, in dwords: 48 bits
  auto at = static_cast<std::uint8_t>(cfg.read32(a, config::kCapabilities) & 0xfc);
  while (at != 0) {
    if (at < 0x40) return Error::kBadCapability;
    unsigned index = (at - 0x40u) / 4;
    if ((seen[index / 32] >> (index % 32) & 1) != 0) return Error::kBadCapability;  // a loop
    seen[index / 32] |= 1u << (index % 32);
    std::uint32_t head = cfg.read32(a, at);
    if ((head & 0xff) == config::kCapabilityMsix && f.msix.capability == 0) {
      std::uint32_t table = cfg.read32(a, static_cast<std::uint16_t>(at + 4));
      std::uint32_t pba = cfg.read32(a, static_cast<std::uint16_t>(at + 8));
      f.msix = {at,
                static_cast<std::uint16_t>(((head >> 16) & 0x7ff) + 1),
                static_cast<std::uint8_t>(table & 7),
                static_cast<std::uint8_t>(pba & 7),
                table & ~7u,
                pba & ~7u};
    }
    at = static_cast<std::uint8_t>((head >> 8) & 0xfc);
  }
  return Error::kOk;
}

// The MSI-X table and PBA must lie inside memory BARs of the function.
inline Error check_msix(const Function& f) {
  if (f.msix.capability == 0) return Error::kOk;
  auto inside = [&](std::uint8_t bar, word offset, word bytes) {
    if (bar >= kBars) return false;
    const Bar& b = f.bars[bar];
    if (b.kind != Bar::Kind::kMemory32 && b.kind != Bar::Kind::kMemory64) return false;
    return offset <= b.size && bytes <= b.size - offset;
  };
  word entries = f.msix.table_size;
  if (!inside(f.msix.table_bar, f.msix.table_offset, entries * 16) ||
      !inside(f.msix.pba_bar, f.msix.pba_offset, (entries + 63) / 64 * 8))
    return Error::kBadMsix;
  return Error::kOk;
}

template <class Config>
Error function(Config& cfg, Address a, Functions& out, std::uint32_t (&walked)[8],
               std::uint8_t first, std::uint8_t last, unsigned depth);

template <class Config>
Error bus(Config& cfg, std::uint8_t number, Functions& out, std::uint32_t (&walked)[8],
          std::uint8_t first, std::uint8_t last, unsigned depth) {
  if ((walked[number / 32] >> (number % 32) & 1) != 0) return Error::kOk;  // walked already
  walked[number / 32] |= 1u << (number % 32);
  for (std::uint8_t device = 0; device < 32; ++device) {
    Address a{number, device, 0};
    if ((cfg.read32(a, config::kId) & 0xffff) == 0xffff) continue;
    bool multi = (cfg.read32(a, config::kHeader) >> 16 & 0x80) != 0;
    for (std::uint8_t fn = 0; fn < (multi ? 8 : 1); ++fn) {
      Address af{number, device, fn};
      if ((cfg.read32(af, config::kId) & 0xffff) == 0xffff) continue;
      Error e = function(cfg, af, out, walked, first, last, depth);
      if (e != Error::kOk) return e;
    }
  }
  return Error::kOk;
}

template <class Config>
Error function(Config& cfg, Address a, Functions& out, std::uint32_t (&walked)[8],
               std::uint8_t first, std::uint8_t last, unsigned depth) {
  if (out.count == kMaxFunctions) return Error::kTooManyFunctions;
  Function f;
  f.address = a;
  std::uint32_t id = cfg.read32(a, config::kId), class_word = cfg.read32(a, config::kClass);
  f.vendor = static_cast<std::uint16_t>(id);
  f.device = static_cast<std::uint16_t>(id >> 16);
  f.revision = static_cast<std::uint8_t>(class_word);
  f.prog_if = static_cast<std::uint8_t>(class_word >> 8);
  f.subclass = static_cast<std::uint8_t>(class_word >> 16);
  f.class_code = static_cast<std::uint8_t>(class_word >> 24);
  std::uint32_t header_type = cfg.read32(a, config::kHeader) >> 16 & 0x7f;
  f.is_bridge = header_type == 1;
  Error e = size_bars(cfg, a, f.is_bridge ? 2 : header_type == 0 ? kBars : 0, f);
  if (e == Error::kOk) e = capabilities(cfg, a, f);
  if (e == Error::kOk) e = check_msix(f);
  if (e != Error::kOk) return e;
  out.items[out.count++] = f;
  if (f.is_bridge && depth < 8) {
    // A bridge firmware numbered: its secondary bus, if inside the range we may walk.
    auto secondary = static_cast<std::uint8_t>(cfg.read32(a, config::kBusNumbers) >> 8);
    if (secondary > a.bus && secondary >= first && secondary <= last)
      return bus(cfg, secondary, out, walked, first, last, depth + 1);
  }
  return Error::kOk;
}

}  // namespace detail

// Every function on buses [first, last] reachable from bus `first`; fills `out` only on success.
template <class Config>
[[nodiscard]] Error enumerate(Config& cfg, std::uint8_t first, std::uint8_t last, Functions& out) {
  Functions found;
  std::uint32_t walked[8] = {};
  Error e = detail::bus(cfg, first, found, walked, first, last, 0);
  if (e == Error::kOk) out = found;
  return e;
}

// Places f's memory BARs in the windows, in slot order, each aligned to its size (no packing by
// size: a window wastes at most the alignment gaps), and writes their PCI addresses;
// f.bars[i].address becomes the CPU address. I/O BARs are left alone. Nothing is written unless
// every BAR fits.
template <class Config>
[[nodiscard]] Error assign_bars(Config& cfg, Function& f, Windows& windows) {
  Windows trial = windows;
  word placed[kBars] = {};
  for (unsigned i = 0; i < kBars; ++i) {
    const Bar& bar = f.bars[i];
    if (bar.kind != Bar::Kind::kMemory32 && bar.kind != Bar::Kind::kMemory64) continue;
    Window& w = bar.kind == Bar::Kind::kMemory64 && trial.memory64.size != 0 ? trial.memory64
                                                                             : trial.memory32;
    word start = (w.pci_base + w.used + bar.size - 1) & ~(bar.size - 1);
    word end = start + bar.size;
    if (start < w.pci_base || end < start || end - w.pci_base > w.size) return Error::kNoWindow;
    if (bar.kind == Bar::Kind::kMemory32 && end - 1 > 0xffffffff) return Error::kNoWindow;
    w.used = end - w.pci_base;
    placed[i] = start;
  }
  std::uint32_t command = cfg.read32(f.address, config::kCommand);
  detail::write_command(cfg, f.address, command & ~config::kCommandMemory);
  for (unsigned i = 0; i < kBars; ++i) {
    Bar& bar = f.bars[i];
    if (bar.kind != Bar::Kind::kMemory32 && bar.kind != Bar::Kind::kMemory64) continue;
    auto offset = static_cast<std::uint16_t>(config::kBar0 + 4 * i);
    std::uint32_t flags = cfg.read32(f.address, offset) & 0xf;
    cfg.write32(f.address, offset, static_cast<std::uint32_t>(placed[i]) | flags);
    if (bar.kind == Bar::Kind::kMemory64)
      cfg.write32(f.address, static_cast<std::uint16_t>(offset + 4),
                  static_cast<std::uint32_t>(placed[i] >> 32));
    const Window& w = bar.kind == Bar::Kind::kMemory64 && trial.memory64.size != 0 ? trial.memory64
                                                                                   : trial.memory32;
    bar.address = placed[i] - w.pci_base + w.cpu_base;
  }
  detail::write_command(cfg, f.address, command);
  windows = trial;
  return Error::kOk;
}

// Memory decoding and bus mastering on (after the BARs are assigned).
template <class Config>
void enable(Config& cfg, Address a) {
  std::uint32_t command = cfg.read32(a, config::kCommand);
  detail::write_command(cfg, a, command | config::kCommandMemory | config::kCommandBusMaster);
}

// Bus mastering off: the function can no longer write memory (before its driver's memory is
// reclaimed).
template <class Config>
void stop_bus_master(Config& cfg, Address a) {
  std::uint32_t command = cfg.read32(a, config::kCommand);
  detail::write_command(cfg, a, command & ~config::kCommandBusMaster);
}

// Sets MSI-X enable and clears the function mask in f's capability.
template <class Config>
[[nodiscard]] Error enable_msix(Config& cfg, const Function& f) {
  if (f.msix.capability == 0) return Error::kNoMsix;
  std::uint32_t head = cfg.read32(f.address, f.msix.capability);
  head = (head | 1u << 31) & ~(1u << 30);
  cfg.write32(f.address, f.msix.capability, head);
  return Error::kOk;
}

// Writes MSI-X table entry `index` (address, data, unmasked) through `table`, any type with
// void write32(word offset, std::uint32_t value), offsets relative to the table's BAR.
template <class Table>
[[nodiscard]] Error program_msix(Table& table, const Function& f, std::uint16_t index, word address,
                                 std::uint32_t data) {
  if (f.msix.capability == 0) return Error::kNoMsix;
  if (index >= f.msix.table_size) return Error::kBadIndex;
  word entry = f.msix.table_offset + word{index} * 16;
  table.write32(entry + 12, 1);  // masked while the message changes
  table.write32(entry + 0, static_cast<std::uint32_t>(address));
  table.write32(entry + 4, static_cast<std::uint32_t>(address >> 32));
  table.write32(entry + 8, data);
  table.write32(entry + 12, 0);
  return Error::kOk;
}

}  // namespace ukernel::pci
