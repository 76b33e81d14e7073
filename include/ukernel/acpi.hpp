// Reading the ACPI tables x86-64 needs (MADT, MCFG, HPET) without trusting them.
//
// How this works. Tables live in physical memory, so the reader takes a Memory: any type with
//   bool read(word paddr, void* out, word size) const;  // false: not readable
// (the kernel reads through its direct map; the host tests read a buffer they built). find_rsdp()
// scans the BIOS areas (the first KiB of the EBDA, then 0xe0000-0xfffff) for a checksummed RSDP;
// PVH's start info gives its address directly. read_tables() checks the RSDP (v1 checksum; v2
// length and extended checksum), follows the XSDT (revision 2 and later) or the RSDT, checks
// each wanted table's length and checksum, and parses MADT entries (local APIC, I/O APIC,
// interrupt source override, local APIC address override) each against the table's length.
// Every table read is listed in Tables::regions, so boot can check that none of their pages is
// handed out as RAM.
//
// Freestanding: no heap, no exceptions; tables are read in small pieces, never whole onto the
// stack. A malformed table gives one Error and leaves `out` unchanged.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ukernel/abi.hpp"

namespace ukernel::acpi {

inline constexpr std::size_t kMaxCpus = 64;  // enabled local APICs kept
inline constexpr std::size_t kMaxIoApics = 4;
inline constexpr std::size_t kMaxOverrides = 16;
inline constexpr std::size_t kMaxEcamSegments = 4;
inline constexpr std::size_t kMaxRegions = 8;
inline constexpr std::size_t kMaxRootEntries = 64;  // RSDT/XSDT entries looked at
inline constexpr std::uint32_t kMaxTableBytes = 1 << 16;

enum class Error {
  kOk,
  kNoRsdp,        // no RSDP in the BIOS areas
  kUnreadable,    // a table lies where Memory cannot read
  kBadRsdp,       // RSDP signature, checksum, or v2 length/extended checksum wrong
  kBadSignature,  // the RSDT/XSDT is not what its address claims
  kBadLength,     // a table shorter than its fixed part, longer than kMaxTableBytes, or
                  // a length that does not divide into its entries
  kBadChecksum,   // a table's bytes do not sum to 0
  kBadEntry,      // a MADT entry shorter than its type needs or running past the table
  kTooMany,       // more CPUs, I/O APICs, overrides, ECAM segments or root entries than kept
  kNoMadt,        // no MADT (x86-64 needs its I/O APIC)
  kBadAddress,    // an address of 0, or the HPET outside memory space
};

struct IoApic {
  std::uint8_t id = 0;
  std::uint32_t address = 0;
  std::uint32_t gsi_base = 0;  // the first global system interrupt it delivers
};

// An ISA interrupt `source` that arrives on global system interrupt `gsi`, with MPS INTI flags
// (polarity bits 0-1: 3 = active low; trigger bits 2-3: 3 = level).
struct Override {
  std::uint8_t bus = 0, source = 0;
  std::uint32_t gsi = 0;
  std::uint16_t flags = 0;
  bool active_low() const { return (flags & 3) == 3; }
  bool level_triggered() const { return ((flags >> 2) & 3) == 3; }
};

struct Madt {
  word local_apic_address = 0;
  bool pcat_compatible = false;  // legacy PICs present (to be masked)
  std::uint8_t apic_ids[kMaxCpus] = {};
  std::size_t cpu_count = 0;  // enabled local APICs
  IoApic io_apics[kMaxIoApics] = {};
  std::size_t io_apic_count = 0;
  Override overrides[kMaxOverrides] = {};
  std::size_t override_count = 0;
  // The global system interrupt an ISA IRQ arrives on (identity unless overridden).
  std::uint32_t isa_gsi(std::uint8_t irq) const {
    for (std::size_t i = 0; i < override_count; ++i)
      if (overrides[i].source == irq) return overrides[i].gsi;
    return irq;
  }
};

// One MCFG allocation: buses [bus_first, bus_last] of `segment` at `base` (1 MiB per bus).
struct EcamSegment {
  word base = 0;
  std::uint16_t segment = 0;
  std::uint8_t bus_first = 0, bus_last = 0;
  word size() const { return word{1u + bus_last - bus_first} << 20; }
};

struct Hpet {
  bool present = false;
  word address = 0;
  std::uint8_t number = 0;
  std::uint16_t minimum_tick = 0;
};

struct Region {
  word paddr = 0, size = 0;
};

struct Tables {
  std::uint8_t revision = 0;  // the RSDP's
  Madt madt;
  EcamSegment ecam[kMaxEcamSegments] = {};
  std::size_t ecam_count = 0;  // 0: no MCFG
  Hpet hpet;
  Region regions[kMaxRegions] = {};  // the RSDP and every table read
  std::size_t region_count = 0;
};

namespace detail {

inline constexpr std::uint32_t kHeaderBytes = 36;

inline bool equal(const std::uint8_t* a, const char* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != static_cast<std::uint8_t>(b[i])) return false;
  return true;
}

template <class T>
T load(const std::uint8_t* p) {
  T value;
  __builtin_memcpy(&value, p, sizeof value);
  return value;
}

// The byte sum of [paddr, +size), read in pieces.
template <class Memory>
bool checksum(const Memory& memory, word paddr, word size, std::uint8_t& sum) {
  std::uint8_t piece[64];
  sum = 0;
  for (word done = 0; done < size;) {
    word n = size - done < sizeof piece ? size - done : sizeof piece;
    if (!memory.read(paddr + done, piece, n)) return false;
    for (word i = 0; i < n; ++i)
      sum = static_cast<std::uint8_t>(sum + piece[i]);
    done += n;
  }
  return true;
}

// Reads and checks the header of the table at paddr: its length and checksum.
template <class Memory>
Error table(const Memory& memory, word paddr, std::uint32_t minimum, std::uint8_t (&header)[36],
            std::uint32_t& length) {
  if (paddr == 0) return Error::kBadAddress;
  if (!memory.read(paddr, header, kHeaderBytes)) return Error::kUnreadable;
  length = load<std::uint32_t>(header + 4);
  if (length < minimum || length > kMaxTableBytes) return Error::kBadLength;
  std::uint8_t sum = 0;
  if (!checksum(memory, paddr, length, sum)) return Error::kUnreadable;
  return sum == 0 ? Error::kOk : Error::kBadChecksum;
}

inline Error add_region(Tables& t, word paddr, word size) {
  if (t.region_count == kMaxRegions) return Error::kTooMany;
  t.regions[t.region_count++] = {paddr, size};
  return Error::kOk;
}

template <class Memory>
Error madt(const Memory& memory, word paddr, std::uint32_t length, Madt& out) {
  std::uint8_t fixed[8];
  if (!memory.read(paddr + kHeaderBytes, fixed, sizeof fixed)) return Error::kUnreadable;
  out.local_apic_address = load<std::uint32_t>(fixed);
  out.pcat_compatible = (load<std::uint32_t>(fixed + 4) & 1) != 0;
  for (std::uint32_t at = kHeaderBytes + 8; at < length;) {
    std::uint8_t e[16] = {};
    if (length - at < 2) return Error::kBadEntry;
    if (!memory.read(paddr + at, e, 2)) return Error::kUnreadable;
    std::uint8_t type = e[0], size = e[1];
    if (size < 2 || size > length - at) return Error::kBadEntry;
    std::uint8_t needed = type == 0 ? 8 : type == 1 ? 12 : type == 2 ? 10 : type == 5 ? 12 : 2;
    if (size < needed) return Error::kBadEntry;
    if (!memory.read(paddr + at, e, needed)) return Error::kUnreadable;
    if (type == 0 && (load<std::uint32_t>(e + 4) & 1) != 0) {
      if (out.cpu_count == kMaxCpus) return Error::kTooMany;
      out.apic_ids[out.cpu_count++] = e[3];
    } else if (type == 1) {
      if (out.io_apic_count == kMaxIoApics) return Error::kTooMany;
      IoApic io{e[2], load<std::uint32_t>(e + 4), load<std::uint32_t>(e + 8)};
      if (io.address == 0) return Error::kBadAddress;
      out.io_apics[out.io_apic_count++] = io;
    } else if (type == 2) {
      if (out.override_count == kMaxOverrides) return Error::kTooMany;
      out.overrides[out.override_count++] = {e[2], e[3], load<std::uint32_t>(e + 4),
                                             load<std::uint16_t>(e + 8)};
    } else if (type == 5) {
      out.local_apic_address = load<std::uint64_t>(e + 4);
    }
    at += size;
  }
  if (out.local_apic_address == 0) return Error::kBadAddress;
  return Error::kOk;
}

template <class Memory>
Error mcfg(const Memory& memory, word paddr, std::uint32_t length, Tables& out) {
  if ((length - kHeaderBytes - 8) % 16 != 0) return Error::kBadLength;
  for (std::uint32_t at = kHeaderBytes + 8; at < length; at += 16) {
    std::uint8_t e[16];
    if (!memory.read(paddr + at, e, sizeof e)) return Error::kUnreadable;
    if (out.ecam_count == kMaxEcamSegments) return Error::kTooMany;
    EcamSegment s{load<std::uint64_t>(e), load<std::uint16_t>(e + 8), e[10], e[11]};
    if (s.base == 0 || s.bus_first > s.bus_last) return Error::kBadAddress;
    out.ecam[out.ecam_count++] = s;
  }
  return Error::kOk;
}

template <class Memory>
Error hpet(const Memory& memory, word paddr, Hpet& out) {
  std::uint8_t e[20];
  if (!memory.read(paddr + kHeaderBytes, e, sizeof e)) return Error::kUnreadable;
  // e[4..15]: the base address as a Generic Address Structure; space 0 is system memory.
  word address = load<std::uint64_t>(e + 8);
  if (e[4] != 0 || address == 0) return Error::kBadAddress;
  out = {true, address, e[16], load<std::uint16_t>(e + 17)};
  return Error::kOk;
}

}  // namespace detail

// Checks the RSDP at paddr (v1: 20 bytes and their checksum; v2: also its length and extended
// checksum) and returns its revision and the root table's address.
template <class Memory>
[[nodiscard]] Error check_rsdp(const Memory& memory, word paddr, std::uint8_t& revision, word& root,
                               bool& extended, std::uint32_t& length) {
  using namespace detail;
  std::uint8_t r[36] = {};
  if (!memory.read(paddr, r, 20)) return Error::kUnreadable;
  std::uint8_t sum = 0;
  for (unsigned i = 0; i < 20; ++i)
    sum = static_cast<std::uint8_t>(sum + r[i]);
  if (!equal(r, "RSD PTR ", 8) || sum != 0) return Error::kBadRsdp;
  revision = r[15];
  length = 20;
  extended = false;
  root = load<std::uint32_t>(r + 16);
  if (revision >= 2) {
    if (!memory.read(paddr, r, 36)) return Error::kUnreadable;
    length = load<std::uint32_t>(r + 20);
    if (length < 36 || length > 4096) return Error::kBadRsdp;
    if (!checksum(memory, paddr, length, sum)) return Error::kUnreadable;
    if (sum != 0) return Error::kBadRsdp;
    word xsdt = load<std::uint64_t>(r + 24);
    if (xsdt != 0) root = xsdt, extended = true;
  }
  return Error::kOk;
}

// Scans the BIOS areas for the RSDP: the first KiB of the EBDA (its segment at 0x40e), then
// 0xe0000-0xfffff, on 16-byte boundaries; a candidate counts only if its checksums hold.
template <class Memory>
[[nodiscard]] Error find_rsdp(const Memory& memory, word& paddr) {
  auto scan = [&](word begin, word end) {
    for (word at = begin; at + 20 <= end; at += 16) {
      std::uint8_t revision = 0;
      word root = 0;
      bool extended = false;
      std::uint32_t length = 0;
      if (check_rsdp(memory, at, revision, root, extended, length) == Error::kOk) {
        paddr = at;
        return true;
      }
    }
    return false;
  };
  std::uint16_t segment = 0;
  if (memory.read(0x40e, &segment, sizeof segment) && segment != 0) {
    word ebda = word{segment} << 4;
    if (ebda < 0xa0000 && scan(ebda, ebda + 1024)) return Error::kOk;
  }
  return scan(0xe0000, 0x100000) ? Error::kOk : Error::kNoRsdp;
}

// Reads the MADT (required), MCFG and HPET (optional) through the RSDP at rsdp_paddr; fills
// `out` only on success. The first table of each signature counts.
template <class Memory>
[[nodiscard]] Error read_tables(const Memory& memory, word rsdp_paddr, Tables& out) {
  using namespace detail;
  Tables t;
  word root = 0;
  bool extended = false;
  std::uint32_t rsdp_length = 0;
  Error e = check_rsdp(memory, rsdp_paddr, t.revision, root, extended, rsdp_length);
  if (e != Error::kOk) return e;
  if ((e = add_region(t, rsdp_paddr, rsdp_length)) != Error::kOk) return e;

  std::uint8_t header[36];
  std::uint32_t length = 0;
  if ((e = table(memory, root, kHeaderBytes, header, length)) != Error::kOk) return e;
  if (!equal(header, extended ? "XSDT" : "RSDT", 4)) return Error::kBadSignature;
  if ((e = add_region(t, root, length)) != Error::kOk) return e;
  std::uint32_t entry_size = extended ? 8 : 4;
  if ((length - kHeaderBytes) % entry_size != 0) return Error::kBadLength;
  std::uint32_t entries = (length - kHeaderBytes) / entry_size;
  if (entries > kMaxRootEntries) return Error::kTooMany;

  bool have_madt = false, have_mcfg = false;
  for (std::uint32_t i = 0; i < entries; ++i) {
    word address = 0;
    if (!memory.read(root + kHeaderBytes + i * entry_size, &address, entry_size))
      return Error::kUnreadable;
    std::uint8_t h[36];
    if (address == 0) return Error::kBadAddress;
    if (!memory.read(address, h, 4)) return Error::kUnreadable;
    bool is_madt = equal(h, "APIC", 4) && !have_madt;
    bool is_mcfg = equal(h, "MCFG", 4) && !have_mcfg;
    bool is_hpet = equal(h, "HPET", 4) && !t.hpet.present;
    if (!is_madt && !is_mcfg && !is_hpet) continue;  // tables this reader does not use
    std::uint32_t minimum = is_madt ? kHeaderBytes + 8 : is_mcfg ? kHeaderBytes + 8 : 56;
    std::uint32_t size = 0;
    if ((e = table(memory, address, minimum, h, size)) != Error::kOk) return e;
    if (is_madt) e = madt(memory, address, size, t.madt), have_madt = true;
    if (is_mcfg) e = mcfg(memory, address, size, t), have_mcfg = true;
    if (is_hpet) e = hpet(memory, address, t.hpet);
    if (e != Error::kOk) return e;
    if ((e = add_region(t, address, size)) != Error::kOk) return e;
  }
  if (!have_madt) return Error::kNoMadt;
  out = t;
  return Error::kOk;
}

inline const char* describe(Error e) {
  switch (e) {
    case Error::kOk:
      return "ok";
    case Error::kNoRsdp:
      return "no ACPI RSDP in the BIOS areas";
    case Error::kUnreadable:
      return "an ACPI table lies outside readable memory";
    case Error::kBadRsdp:
      return "bad ACPI RSDP (signature, checksum or length)";
    case Error::kBadSignature:
      return "the ACPI root table has the wrong signature";
    case Error::kBadLength:
      return "an ACPI table has a bad length";
    case Error::kBadChecksum:
      return "an ACPI table's checksum is wrong";
    case Error::kBadEntry:
      return "a MADT entry is too short or runs past the table";
    case Error::kTooMany:
      return "more ACPI entries than kept";
    case Error::kNoMadt:
      return "no ACPI MADT";
    case Error::kBadAddress:
      return "an ACPI address is 0 or not in memory space";
  }
  return "unknown error";
}

}  // namespace ukernel::acpi
