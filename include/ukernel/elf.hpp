// Checking an ELF-64 executable before a loader trusts any of it.
//
// A loader (the x86-64 root task loading servers from the boot modules) hands the file's bytes to
// parse(), which reads only inside them and checks everything the loader relies on: the
// identification (magic, 64-bit, little-endian, version, executable type, machine), the program
// header table, and each loadable segment (inside the file, page-aligned, inside the user range
// the loader allows, not writable and executable at once, no page shared with another segment,
// a bounded size), plus an entry point inside an executable segment. The result is a Program:
// the segments as plain numbers, safe to act on. A file that fails gets one Error naming the
// first problem (describe() turns it into text), and nothing is loaded.
//
// Pure logic with no system calls, so the host tests it exhaustively (tests/runtime).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ukernel/abi.hpp"

namespace ukernel::elf {

inline constexpr std::size_t kMaxSegments = 8;  // loadable segments per program
inline constexpr std::size_t kMaxProgramHeaders = 32;
inline constexpr std::uint16_t kMachineX86_64 = 62;
inline constexpr std::uint16_t kMachineAArch64 = 183;

enum class Error {
  kOk,
  kTruncated,              // smaller than the ELF header
  kBadMagic,               // does not start with 0x7f 'E' 'L' 'F'
  kNotElf64,               // ELFCLASS is not 64-bit
  kNotLittleEndian,        //
  kBadVersion,             // identification or header version is not 1
  kNotExecutable,          // e_type is not ET_EXEC (relocatable, shared and PIE are not loaded)
  kWrongMachine,           // e_machine is not the loader's
  kBadProgramHeaders,      // entry size is not 56, none, or more than kMaxProgramHeaders
  kProgramHeadersOutside,  // the table runs past the end of the file
  kUnsupportedSegment,     // PT_DYNAMIC, PT_INTERP or PT_TLS: needs a runtime this loader lacks
  kTooManySegments,        // more than kMaxSegments loadable segments
  kSegmentOutsideFile,     // file data runs past the end of the file
  kSegmentSizes,           // file size larger than memory size
  kSegmentMisaligned,      // virtual address not page-aligned, or a bad p_align
  kSegmentOutsideUser,     // not inside [user_begin, user_end)
  kWritableAndExecutable,  // PF_W and PF_X together (W^X)
  kSegmentsOverlap,        // two segments share a page
  kTooLarge,               // more than max_pages pages in all
  kNoSegments,             // nothing to load
  kEntryOutside,           // the entry point is not in an executable segment
};

// What the loader allows.
struct Limits {
  std::uint16_t machine;
  word page_size;
  word user_begin;  // lowest address a segment may use (page 0 stays unmapped)
  word user_end;    // first address past the image region (the loader's own mappings are above)
  word max_pages;
};

struct Segment {
  word vaddr;   // page-aligned
  word memsz;   // bytes in memory (the part past filesz is zero)
  word offset;  // file offset of the data
  word filesz;
  bool writable;
  bool executable;
  word pages(word page_size) const { return (memsz + page_size - 1) / page_size; }
};

struct Program {
  word entry = 0;
  Segment segments[kMaxSegments] = {};
  std::size_t count = 0;
};

namespace detail {

struct Header {
  unsigned char ident[16];
  std::uint16_t type, machine;
  std::uint32_t version;
  std::uint64_t entry, phoff, shoff;
  std::uint32_t flags;
  std::uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct ProgramHeader {
  std::uint32_t type, flags;
  std::uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
static_assert(sizeof(Header) == 64 && sizeof(ProgramHeader) == 56);

inline constexpr std::uint32_t kLoad = 1, kDynamic = 2, kInterp = 3, kTls = 7;
inline constexpr std::uint32_t kFlagExecute = 1, kFlagWrite = 2;

// a + b <= limit, without overflow.
constexpr bool fits(word a, word b, word limit) {
  return a <= limit && b <= limit - a;
}

}  // namespace detail

// Checks `file` (`size` bytes) against `limits`; fills `out` only on success.
[[nodiscard]] inline Error parse(const unsigned char* file, word size, const Limits& limits,
                                 Program& out) {
  using namespace detail;
  Header h;
  if (size < sizeof h) return Error::kTruncated;
  __builtin_memcpy(&h, file, sizeof h);
  if (h.ident[0] != 0x7f || h.ident[1] != 'E' || h.ident[2] != 'L' || h.ident[3] != 'F')
    return Error::kBadMagic;
  if (h.ident[4] != 2) return Error::kNotElf64;
  if (h.ident[5] != 1) return Error::kNotLittleEndian;
  if (h.ident[6] != 1 || h.version != 1) return Error::kBadVersion;
  if (h.type != 2) return Error::kNotExecutable;
  if (h.machine != limits.machine) return Error::kWrongMachine;
  if (h.phentsize != sizeof(ProgramHeader) || h.phnum == 0 || h.phnum > kMaxProgramHeaders)
    return Error::kBadProgramHeaders;
  if (!fits(h.phoff, word{h.phnum} * sizeof(ProgramHeader), size))
    return Error::kProgramHeadersOutside;

  Program p;
  p.entry = h.entry;
  word total_pages = 0;
  for (unsigned i = 0; i < h.phnum; ++i) {
    ProgramHeader ph;
    __builtin_memcpy(&ph, file + h.phoff + i * sizeof(ProgramHeader), sizeof ph);
    if (ph.type == kDynamic || ph.type == kInterp || ph.type == kTls)
      return Error::kUnsupportedSegment;
    if (ph.type != kLoad || ph.memsz == 0) continue;
    if (p.count == kMaxSegments) return Error::kTooManySegments;
    if (!fits(ph.offset, ph.filesz, size)) return Error::kSegmentOutsideFile;
    if (ph.filesz > ph.memsz) return Error::kSegmentSizes;
    if (ph.vaddr % limits.page_size != 0 || (ph.align & (ph.align - 1)) != 0)
      return Error::kSegmentMisaligned;
    if (ph.vaddr < limits.user_begin || !fits(ph.vaddr, ph.memsz, limits.user_end))
      return Error::kSegmentOutsideUser;
    bool writable = (ph.flags & kFlagWrite) != 0;
    bool executable = (ph.flags & kFlagExecute) != 0;
    if (writable && executable) return Error::kWritableAndExecutable;
    Segment s{ph.vaddr, ph.memsz, ph.offset, ph.filesz, writable, executable};
    word end = s.vaddr + s.pages(limits.page_size) * limits.page_size;
    for (std::size_t j = 0; j < p.count; ++j) {
      const Segment& o = p.segments[j];
      word o_end = o.vaddr + o.pages(limits.page_size) * limits.page_size;
      if (s.vaddr < o_end && o.vaddr < end) return Error::kSegmentsOverlap;
    }
    total_pages += s.pages(limits.page_size);
    if (total_pages > limits.max_pages) return Error::kTooLarge;
    p.segments[p.count++] = s;
  }
  if (p.count == 0) return Error::kNoSegments;
  bool entry_ok = false;
  for (std::size_t j = 0; j < p.count; ++j) {
    const Segment& s = p.segments[j];
    if (s.executable && p.entry >= s.vaddr && p.entry - s.vaddr < s.memsz) entry_ok = true;
  }
  if (!entry_ok) return Error::kEntryOutside;
  out = p;
  return Error::kOk;
}

inline const char* describe(Error e) {
  switch (e) {
    case Error::kOk:
      return "ok";
    case Error::kTruncated:
      return "truncated: smaller than an ELF header";
    case Error::kBadMagic:
      return "not an ELF file (bad magic)";
    case Error::kNotElf64:
      return "not a 64-bit ELF file";
    case Error::kNotLittleEndian:
      return "not little-endian";
    case Error::kBadVersion:
      return "unknown ELF version";
    case Error::kNotExecutable:
      return "not an executable (ET_EXEC)";
    case Error::kWrongMachine:
      return "built for another machine";
    case Error::kBadProgramHeaders:
      return "bad program header table";
    case Error::kProgramHeadersOutside:
      return "program headers run past the end of the file (truncated?)";
    case Error::kUnsupportedSegment:
      return "needs dynamic linking or TLS";
    case Error::kTooManySegments:
      return "too many loadable segments";
    case Error::kSegmentOutsideFile:
      return "a segment runs past the end of the file (truncated?)";
    case Error::kSegmentSizes:
      return "a segment's file size exceeds its memory size";
    case Error::kSegmentMisaligned:
      return "a segment is not page-aligned";
    case Error::kSegmentOutsideUser:
      return "a segment lies outside the allowed user range";
    case Error::kWritableAndExecutable:
      return "a segment is writable and executable";
    case Error::kSegmentsOverlap:
      return "two segments share a page";
    case Error::kTooLarge:
      return "the program is too large";
    case Error::kNoSegments:
      return "nothing to load";
    case Error::kEntryOutside:
      return "the entry point is not in an executable segment";
  }
  return "unknown error";
}

}  // namespace ukernel::elf
