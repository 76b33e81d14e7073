// Reading a flattened devicetree (the DTB QEMU's `virt` passes to the kernel) without trusting it.
//
// How this works. Blob::open() checks the header (magic, version 17, every block inside the blob
// and aligned); Blob::walk() then visits the structure block token by token, checking each name,
// property length and string offset against its block before a visitor sees it, and the nesting
// against kMaxDepth. read_platform() is one such visitor: it keeps each open node's interesting
// properties on a small stack and decodes a node when it ends (a node's own #address-cells may
// follow its `ranges`), using the parent's #address-cells/#size-cells for `reg`. After the walk
// it decodes the PCIe host's interrupt-map, whose entry size depends on the interrupt parent's
// cells (found by phandle). The result, Platform, is plain numbers: RAM, the GIC (distributor,
// CPU interface, GICv2m frame), the architected timer's PPIs, the PCIe host (ECAM, bus range,
// windows, INTx map), PL011, PL031. What a reader needs and the blob lacks (a timer, a UART) it
// finds `present == false`; the kernel refuses such a machine with its own message.
//
// Freestanding: no heap, no exceptions; usable by the kernel and by user code. Every offset and
// length comes from the blob and is checked; a malformed blob gives one Error, never a read past
// its end. The host tests run it on QEMU 7.2's real `virt` DTB and on damaged copies
// (tests/discovery).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ukernel/abi.hpp"

namespace ukernel::fdt {

inline constexpr std::uint32_t kMagic = 0xd00dfeed;
inline constexpr unsigned kMaxDepth = 8;       // nesting of nodes (QEMU's virt uses 3)
inline constexpr std::size_t kMaxMemory = 4;   // RAM ranges kept
inline constexpr std::size_t kMaxWindows = 4;  // PCI `ranges` entries kept
inline constexpr std::size_t kMaxInterruptMap = 32;
inline constexpr std::size_t kMaxPhandles = 8;  // interrupt controllers remembered by phandle

enum class Error {
  kOk,
  kTruncated,              // smaller than the header, or totalsize larger than the bytes given
  kBadMagic,               // not 0xd00dfeed
  kBadVersion,             // not compatible with version 17
  kBadBlocks,              // the structure, strings or reservation block is outside or misaligned
  kBadToken,               // an unknown token, or a property outside a node
  kBadName,                // a node or property name that does not end inside its block
  kBadProperty,            // a property value that runs past the structure block
  kTooDeep,                // nodes nested deeper than kMaxDepth
  kUnbalanced,             // END_NODE without a node, a second root, or END inside a node
  kNoEnd,                  // the structure block ends without an END token
  kBadCells,               // a #cells value out of range, or a property length that does not fit it
  kUnsupported,            // a layout this reader does not translate (a v2m frame behind `ranges`)
  kTooMany,                // more RAM ranges, PCI windows, interrupt-map entries than kept
  kUnknownPhandle,         // an interrupt-map entry names no known interrupt controller
  kNoMemory,               // no /memory node with a RAM range
  kNoInterruptController,  // no GICv2 node
};

// A property's value: bytes inside the blob.
struct Span {
  const std::uint8_t* data = nullptr;
  std::uint32_t size = 0;
};

inline std::uint32_t read_be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 |
         std::uint32_t{p[3]};
}

// A checked blob. A Visitor has
//   Error begin_node(std::string_view name);  // depth is the number of open nodes before it
//   Error property(std::string_view name, Span value);
//   Error end_node();
// and stops the walk by returning anything but kOk.
class Blob {
 public:
  // Checks the header of the `size` bytes at `data` (size may exceed the blob's totalsize).
  [[nodiscard]] static Error open(const void* data, word size, Blob& out) {
    auto* bytes = static_cast<const std::uint8_t*>(data);
    if (size < kHeaderBytes) return Error::kTruncated;
    if (read_be32(bytes) != kMagic) return Error::kBadMagic;
    std::uint32_t total = read_be32(bytes + 4);
    if (total < kHeaderBytes || total > size) return Error::kTruncated;
    std::uint32_t off_struct = read_be32(bytes + 8), off_strings = read_be32(bytes + 12);
    std::uint32_t off_reserve = read_be32(bytes + 16), version = read_be32(bytes + 20);
    std::uint32_t last_compatible = read_be32(bytes + 24);
    std::uint32_t size_strings = read_be32(bytes + 32), size_struct = read_be32(bytes + 36);
    if (version < 17 || last_compatible > 17) return Error::kBadVersion;
    if (!inside(off_struct, size_struct, total) || off_struct % 4 != 0 || size_struct % 4 != 0 ||
        off_struct < kHeaderBytes || !inside(off_strings, size_strings, total) ||
        off_strings < kHeaderBytes || off_reserve % 8 != 0 || !inside(off_reserve, 16, total))
      return Error::kBadBlocks;
    out = Blob(bytes, total, off_struct, size_struct, off_strings, size_strings);
    return Error::kOk;
  }

  std::uint32_t total_size() const { return total_; }

  template <class Visitor>
  [[nodiscard]] Error walk(Visitor& visitor) const {
    const std::uint8_t* block = bytes_ + off_struct_;
    std::uint32_t at = 0;
    unsigned depth = 0;
    bool seen_root = false;
    while (size_struct_ - at >= 4) {
      std::uint32_t token = read_be32(block + at);
      at += 4;
      switch (token) {
        case kBeginNode: {
          std::uint32_t length = 0;
          if (!string_length(block + at, size_struct_ - at, length)) return Error::kBadName;
          if (depth == 0 && seen_root) return Error::kUnbalanced;
          if (depth == kMaxDepth) return Error::kTooDeep;
          seen_root = true;
          Error e = visitor.begin_node(
              std::string_view(reinterpret_cast<const char*>(block + at), length));
          if (e != Error::kOk) return e;
          ++depth;
          at += align4(length + 1);
          if (at > size_struct_) return Error::kBadName;
          break;
        }
        case kEndNode: {
          if (depth == 0) return Error::kUnbalanced;
          --depth;
          Error e = visitor.end_node();
          if (e != Error::kOk) return e;
          break;
        }
        case kProp: {
          if (depth == 0) return Error::kBadToken;
          if (size_struct_ - at < 8) return Error::kBadProperty;
          std::uint32_t length = read_be32(block + at), name_offset = read_be32(block + at + 4);
          at += 8;
          if (length > size_struct_ - at) return Error::kBadProperty;
          std::uint32_t name_length = 0;
          if (name_offset >= size_strings_ ||
              !string_length(bytes_ + off_strings_ + name_offset, size_strings_ - name_offset,
                             name_length))
            return Error::kBadName;
          Error e = visitor.property(
              std::string_view(reinterpret_cast<const char*>(bytes_ + off_strings_ + name_offset),
                               name_length),
              Span{block + at, length});
          if (e != Error::kOk) return e;
          at += align4(length);  // stays inside: size_struct_ is a multiple of 4
          break;
        }
        case kNop:
          break;
        case kEnd:
          if (depth != 0 || !seen_root) return Error::kUnbalanced;
          return Error::kOk;
        default:
          return Error::kBadToken;
      }
    }
    return Error::kNoEnd;
  }

 private:
  static constexpr std::uint32_t kHeaderBytes = 40;
  static constexpr std::uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4, kEnd = 9;

  Blob(const std::uint8_t* bytes, std::uint32_t total, std::uint32_t off_struct,
       std::uint32_t size_struct, std::uint32_t off_strings, std::uint32_t size_strings)
      : bytes_(bytes),
        total_(total),
        off_struct_(off_struct),
        size_struct_(size_struct),
        off_strings_(off_strings),
        size_strings_(size_strings) {}

 public:
  Blob() = default;

 private:
  static constexpr bool inside(std::uint32_t offset, std::uint32_t size, std::uint32_t limit) {
    return offset <= limit && size <= limit - offset;
  }
  static constexpr std::uint32_t align4(std::uint32_t n) { return (n + 3u) & ~3u; }
  // The length of the NUL-terminated string at p, which must end within `room` bytes.
  static bool string_length(const std::uint8_t* p, std::uint32_t room, std::uint32_t& length) {
    for (std::uint32_t i = 0; i < room; ++i) {
      if (p[i] == 0) {
        length = i;
        return true;
      }
    }
    return false;
  }

  const std::uint8_t* bytes_ = nullptr;
  std::uint32_t total_ = 0;
  std::uint32_t off_struct_ = 0, size_struct_ = 0, off_strings_ = 0, size_strings_ = 0;
};

// ---------------------------------------------------------------------------------------------
// What the kernel and the PCI server need from QEMU's `virt` devicetree.
// ---------------------------------------------------------------------------------------------
struct Range {
  word base = 0;
  word size = 0;
};

// An interrupt as the GIC's devicetree binding gives it: type 0 = SPI, 1 = PPI; number is
// relative to the type (SPI n is GIC interrupt 32 + n); flags hold the trigger (4 = level high).
struct GicInterrupt {
  std::uint32_t type = 0, number = 0, flags = 0;
  std::uint32_t gic_id() const { return type == 0 ? 32 + number : 16 + number; }
};

struct Gic {
  Range distributor, cpu_interface;
  bool has_v2m = false;
  Range v2m;  // the GICv2m MSI frame (its MSI_SETSPI_NS register is at offset 0x40)
  // The frame's SPI range when the DTB gives it (arm,msi-base-spi / arm,msi-num-spis); 0 and 0
  // otherwise, and then the frame's MSI_TYPER register says.
  std::uint32_t v2m_spi_base = 0, v2m_spi_count = 0;
};

// One `ranges` entry of the PCIe host: PCI addresses [pci_address, +size) appear at cpu_address.
struct PciWindow {
  enum class Space : std::uint8_t { kConfig, kIo, kMemory32, kMemory64 };
  Space space = Space::kMemory32;
  bool prefetchable = false;
  word pci_address = 0, cpu_address = 0, size = 0;
};

// One interrupt-map entry: the INTx `pin` (1 = INTA .. 4 = INTD) of device `device` on the bus
// raises `interrupt`.
struct PciInterruptRoute {
  std::uint32_t bus = 0, device = 0, function = 0, pin = 0;
  GicInterrupt interrupt;
};

struct PciHost {
  bool present = false;
  Range ecam;
  std::uint32_t bus_first = 0, bus_last = 255;
  PciWindow windows[kMaxWindows] = {};
  std::size_t window_count = 0;
  // interrupt-map-mask's (bus/device/function cell, pin): QEMU's is (0x1800, 7), so the route
  // of device d, pin p is the entry for device d % 4.
  std::uint32_t map_mask_address = 0, map_mask_pin = 0;
  PciInterruptRoute routes[kMaxInterruptMap] = {};
  std::size_t route_count = 0;
};

struct SimpleDevice {
  bool present = false;
  Range registers;
  GicInterrupt interrupt;
};

// The ARM architected timer (arm,armv8-timer / arm,armv7-timer): its `interrupts` list the
// secure physical, non-secure physical, virtual and hypervisor timers' PPIs, in that order; the
// first three are required here (the kernel uses the virtual one and the non-secure physical
// one).
struct ArchTimer {
  bool present = false;
  GicInterrupt secure_physical, physical, virtual_timer;
};

struct Platform {
  Range memory[kMaxMemory] = {};
  std::size_t memory_count = 0;
  Gic gic;
  ArchTimer timer;
  PciHost pci;
  SimpleDevice uart;  // the first arm,pl011
  SimpleDevice rtc;   // the first arm,pl031
};

namespace detail {

inline bool has_string(Span list, std::string_view wanted) {
  std::uint32_t start = 0;
  for (std::uint32_t i = 0; i < list.size; ++i) {
    if (list.data[i] != 0) continue;
    if (std::string_view(reinterpret_cast<const char*>(list.data + start), i - start) == wanted)
      return true;
    start = i + 1;
  }
  return false;
}

// `cells` big-endian 32-bit cells (1 or 2) at p as one number.
inline word read_cells(const std::uint8_t* p, std::uint32_t cells) {
  word value = 0;
  for (std::uint32_t i = 0; i < cells; ++i)
    value = value << 32 | read_be32(p + 4 * i);
  return value;
}

struct Node {
  Span compatible, reg, ranges, bus_range, interrupt_map, interrupt_map_mask, interrupts;
  Span device_type, msi_base_spi, msi_num_spis;
  bool is_memory_name = false;
  bool has_ranges = false;
  std::uint32_t address_cells = 2, size_cells = 1;  // the devicetree defaults
  std::uint32_t interrupt_cells = 0, phandle = 0;
  bool bad_cells = false;
};

struct Controller {
  std::uint32_t phandle = 0, address_cells = 0, interrupt_cells = 0;
};

class PlatformReader {
 public:
  explicit PlatformReader(Platform& out) : out_(out) {}

  Error begin_node(std::string_view name) {
    Node& node = stack_[depth_++];
    node = Node{};
    node.is_memory_name = name == "memory" || name.starts_with("memory@");
    return Error::kOk;
  }

  Error property(std::string_view name, Span value) {
    Node& node = stack_[depth_ - 1];
    if (name == "compatible")
      node.compatible = value;
    else if (name == "reg")
      node.reg = value;
    else if (name == "ranges")
      node.ranges = value, node.has_ranges = true;
    else if (name == "bus-range")
      node.bus_range = value;
    else if (name == "interrupt-map")
      node.interrupt_map = value;
    else if (name == "interrupt-map-mask")
      node.interrupt_map_mask = value;
    else if (name == "interrupts")
      node.interrupts = value;
    else if (name == "device_type")
      node.device_type = value;
    else if (name == "arm,msi-base-spi")
      node.msi_base_spi = value;
    else if (name == "arm,msi-num-spis")
      node.msi_num_spis = value;
    else if (name == "#address-cells")
      return cell(value, node.address_cells, 0, 3);
    else if (name == "#size-cells")
      return cell(value, node.size_cells, 0, 2);
    else if (name == "#interrupt-cells")
      return cell(value, node.interrupt_cells, 1, 4);
    else if (name == "phandle")
      return cell(value, node.phandle, 1, 0xfffffffe);
    return Error::kOk;
  }

  Error end_node() {
    Node& node = stack_[--depth_];
    const Node* parent = depth_ > 0 ? &stack_[depth_ - 1] : nullptr;
    if (node.interrupt_cells != 0 && node.phandle != 0) {
      if (controller_count_ == kMaxPhandles) return Error::kTooMany;
      controllers_[controller_count_++] = {node.phandle, node.address_cells, node.interrupt_cells};
    }
    if (parent == nullptr) return Error::kOk;
    std::uint32_t ac = parent->address_cells, sc = parent->size_cells;
    if (node.is_memory_name || has_string(node.device_type, "memory")) return memory(node, ac, sc);
    if (has_string(node.compatible, "arm,cortex-a15-gic") ||
        has_string(node.compatible, "arm,gic-400") ||
        has_string(node.compatible, "arm,cortex-a9-gic"))
      return gic(node, ac, sc);
    if (has_string(node.compatible, "arm,gic-v2m-frame")) return v2m(node, *parent, ac, sc);
    if (has_string(node.compatible, "pci-host-ecam-generic")) return pci(node, ac, sc);
    if (has_string(node.compatible, "arm,pl011") && !out_.uart.present)
      return simple(node, ac, sc, out_.uart);
    if (has_string(node.compatible, "arm,pl031") && !out_.rtc.present)
      return simple(node, ac, sc, out_.rtc);
    if ((has_string(node.compatible, "arm,armv8-timer") ||
         has_string(node.compatible, "arm,armv7-timer")) &&
        !out_.timer.present)
      return timer(node);
    return Error::kOk;
  }

  // After the walk: the interrupt-map, whose entries need the controllers' cells.
  Error finish() {
    if (out_.memory_count == 0) return Error::kNoMemory;
    if (out_.gic.distributor.size == 0) return Error::kNoInterruptController;
    if (!out_.pci.present || pci_map_.size == 0) return Error::kOk;
    std::uint32_t at = 0;
    while (at < pci_map_.size) {
      // child unit address (3 cells), child interrupt (pci_interrupt_cells_), parent phandle
      std::uint32_t head = 4 * (3 + pci_interrupt_cells_ + 1);
      if (pci_map_.size - at < head) return Error::kBadCells;
      const std::uint8_t* entry = pci_map_.data + at;
      std::uint32_t phandle = read_be32(entry + head - 4);
      const Controller* parent = nullptr;
      for (std::size_t i = 0; i < controller_count_; ++i)
        if (controllers_[i].phandle == phandle) parent = &controllers_[i];
      if (parent == nullptr) return Error::kUnknownPhandle;
      if (parent->interrupt_cells != 3) return Error::kBadCells;  // the GIC binding's 3 cells
      std::uint32_t size = head + 4 * (parent->address_cells + parent->interrupt_cells);
      if (pci_map_.size - at < size) return Error::kBadCells;
      if (out_.pci.route_count == kMaxInterruptMap) return Error::kTooMany;
      std::uint32_t address = read_be32(entry);
      const std::uint8_t* spec = entry + head + 4 * parent->address_cells;
      out_.pci.routes[out_.pci.route_count++] = {
          (address >> 16) & 0xff,
          (address >> 11) & 0x1f,
          (address >> 8) & 7,
          read_be32(entry + 12),
          {read_be32(spec), read_be32(spec + 4), read_be32(spec + 8)}};
      at += size;
    }
    return Error::kOk;
  }

 private:
  static Error cell(Span value, std::uint32_t& out, std::uint32_t min, std::uint32_t max) {
    if (value.size != 4) return Error::kBadCells;
    std::uint32_t v = read_be32(value.data);
    if (v < min || v > max) return Error::kBadCells;
    out = v;
    return Error::kOk;
  }

  // The i-th (address, size) pair of a `reg`, checked against its length.
  static Error reg(Span value, std::uint32_t ac, std::uint32_t sc, std::uint32_t i, Range& out) {
    if (ac < 1 || ac > 2 || sc < 1 || sc > 2) return Error::kBadCells;
    std::uint32_t entry = 4 * (ac + sc);
    if (value.size % entry != 0 || value.size / entry <= i) return Error::kBadCells;
    const std::uint8_t* p = value.data + i * entry;
    out = {read_cells(p, ac), read_cells(p + 4 * ac, sc)};
    if (out.size == 0 || out.base + out.size < out.base) return Error::kBadCells;
    return Error::kOk;
  }

  static Error interrupt(Span value, GicInterrupt& out) {
    if (value.size < 12 || value.size % 12 != 0) return Error::kBadCells;
    out = {read_be32(value.data), read_be32(value.data + 4), read_be32(value.data + 8)};
    return Error::kOk;
  }

  Error memory(const Node& node, std::uint32_t ac, std::uint32_t sc) {
    std::uint32_t entry = 4 * (ac + sc);
    if (entry == 0 || node.reg.size == 0 || node.reg.size % entry != 0) return Error::kBadCells;
    for (std::uint32_t i = 0; i < node.reg.size / entry; ++i) {
      if (out_.memory_count == kMaxMemory) return Error::kTooMany;
      Error e = reg(node.reg, ac, sc, i, out_.memory[out_.memory_count]);
      if (e != Error::kOk) return e;
      ++out_.memory_count;
    }
    return Error::kOk;
  }

  Error gic(const Node& node, std::uint32_t ac, std::uint32_t sc) {
    Error e = reg(node.reg, ac, sc, 0, out_.gic.distributor);
    if (e != Error::kOk) return e;
    return reg(node.reg, ac, sc, 1, out_.gic.cpu_interface);
  }

  Error v2m(const Node& node, const Node& parent, std::uint32_t ac, std::uint32_t sc) {
    // The frame's reg is in the GIC node's address space; only an identity `ranges;` is read.
    if (!parent.has_ranges || parent.ranges.size != 0) return Error::kUnsupported;
    Error e = reg(node.reg, ac, sc, 0, out_.gic.v2m);
    if (e != Error::kOk) return e;
    if (node.msi_base_spi.size != 0 || node.msi_num_spis.size != 0) {
      if (node.msi_base_spi.size != 4 || node.msi_num_spis.size != 4) return Error::kBadCells;
      out_.gic.v2m_spi_base = read_be32(node.msi_base_spi.data);
      out_.gic.v2m_spi_count = read_be32(node.msi_num_spis.data);
    }
    out_.gic.has_v2m = true;
    return Error::kOk;
  }

  Error pci(const Node& node, std::uint32_t ac, std::uint32_t sc) {
    if (out_.pci.present) return Error::kOk;  // the first host bridge
    PciHost host;
    host.present = true;
    Error e = reg(node.reg, ac, sc, 0, host.ecam);
    if (e != Error::kOk) return e;
    if (node.address_cells != 3 || node.size_cells < 1 || node.size_cells > 2)
      return Error::kBadCells;
    if (node.bus_range.size != 0) {
      if (node.bus_range.size != 8) return Error::kBadCells;
      host.bus_first = read_be32(node.bus_range.data);
      host.bus_last = read_be32(node.bus_range.data + 4);
      if (host.bus_first > host.bus_last || host.bus_last > 255) return Error::kBadCells;
    }
    if (ac < 1 || ac > 2) return Error::kBadCells;
    std::uint32_t entry = 4 * (3 + ac + node.size_cells);
    if (node.ranges.size % entry != 0) return Error::kBadCells;
    for (std::uint32_t i = 0; i < node.ranges.size / entry; ++i) {
      if (host.window_count == kMaxWindows) return Error::kTooMany;
      const std::uint8_t* p = node.ranges.data + i * entry;
      std::uint32_t high = read_be32(p);
      PciWindow& w = host.windows[host.window_count++];
      w.space = static_cast<PciWindow::Space>((high >> 24) & 3);
      w.prefetchable = (high & 0x40000000u) != 0;
      w.pci_address = read_cells(p + 4, 2);
      w.cpu_address = read_cells(p + 12, ac);
      w.size = read_cells(p + 12 + 4 * ac, node.size_cells);
      if (w.size == 0 || w.cpu_address + w.size < w.cpu_address) return Error::kBadCells;
    }
    if (node.interrupt_map.size != 0) {
      if (node.interrupt_map_mask.size != 16 || node.interrupt_cells != 1) return Error::kBadCells;
      host.map_mask_address = read_be32(node.interrupt_map_mask.data);
      host.map_mask_pin = read_be32(node.interrupt_map_mask.data + 12);
      pci_map_ = node.interrupt_map;
      pci_interrupt_cells_ = node.interrupt_cells;
    }
    out_.pci = host;
    return Error::kOk;
  }

  static Error simple(const Node& node, std::uint32_t ac, std::uint32_t sc, SimpleDevice& out) {
    SimpleDevice device;
    Error e = reg(node.reg, ac, sc, 0, device.registers);
    if (e != Error::kOk) return e;
    if (node.interrupts.size != 0) {
      e = interrupt(node.interrupts, device.interrupt);
      if (e != Error::kOk) return e;
    }
    device.present = true;
    out = device;
    return Error::kOk;
  }

  // The first three of `interrupts` (GIC binding: three cells each); fewer is kBadCells.
  Error timer(const Node& node) {
    if (node.interrupts.size < 3 * 12 || node.interrupts.size % 12 != 0) return Error::kBadCells;
    GicInterrupt found[3];
    for (std::uint32_t i = 0; i < 3; ++i) {
      const std::uint8_t* p = node.interrupts.data + 12 * i;
      found[i] = {read_be32(p), read_be32(p + 4), read_be32(p + 8)};
    }
    out_.timer = {true, found[0], found[1], found[2]};
    return Error::kOk;
  }

  Platform& out_;
  Node stack_[kMaxDepth];
  unsigned depth_ = 0;
  Controller controllers_[kMaxPhandles];
  std::size_t controller_count_ = 0;
  Span pci_map_;
  std::uint32_t pci_interrupt_cells_ = 1;
};

}  // namespace detail

// Reads what the kernel and the PCI server use from a checked blob; fills `out` only on success.
[[nodiscard]] inline Error read_platform(const Blob& blob, Platform& out) {
  Platform platform;
  detail::PlatformReader reader(platform);
  Error e = blob.walk(reader);
  if (e == Error::kOk) e = reader.finish();
  if (e == Error::kOk) out = platform;
  return e;
}

// What the AArch64 kernel cannot run without, beyond what read_platform() already requires (RAM,
// a GICv2): nullptr if `p` has it all, else what is missing, for the kernel's panic message.
inline const char* kernel_requirement_missing(const Platform& p) {
  if (!p.uart.present) return "devicetree has no arm,pl011 UART (the kernel's console)";
  if (!p.timer.present) return "devicetree has no arm,armv8-timer (the kernel's clock)";
  if (p.timer.virtual_timer.type != 1 || p.timer.virtual_timer.number >= 16 ||
      p.timer.physical.type != 1 || p.timer.physical.number >= 16)
    return "devicetree's timer interrupts are not PPIs";
  return nullptr;
}

inline const char* describe(Error e) {
  switch (e) {
    case Error::kOk:
      return "ok";
    case Error::kTruncated:
      return "devicetree truncated (smaller than its header or its totalsize)";
    case Error::kBadMagic:
      return "not a devicetree (bad magic)";
    case Error::kBadVersion:
      return "devicetree version not compatible with 17";
    case Error::kBadBlocks:
      return "devicetree blocks outside the blob or misaligned";
    case Error::kBadToken:
      return "devicetree structure has a bad token";
    case Error::kBadName:
      return "devicetree name not terminated inside its block";
    case Error::kBadProperty:
      return "devicetree property runs past the structure block";
    case Error::kTooDeep:
      return "devicetree nodes nested too deep";
    case Error::kUnbalanced:
      return "devicetree nodes unbalanced";
    case Error::kNoEnd:
      return "devicetree structure has no END token";
    case Error::kBadCells:
      return "devicetree property does not fit its #cells";
    case Error::kUnsupported:
      return "devicetree layout not supported (translated v2m frame)";
    case Error::kTooMany:
      return "devicetree has more entries than kept";
    case Error::kUnknownPhandle:
      return "devicetree interrupt-map names an unknown interrupt controller";
    case Error::kNoMemory:
      return "devicetree has no memory node";
    case Error::kNoInterruptController:
      return "devicetree has no GICv2";
  }
  return "unknown error";
}

}  // namespace ukernel::fdt
