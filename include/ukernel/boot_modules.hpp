// Boot modules: the archive of programs a bare-metal image carries besides its root task.
//
// Layout (all words little-endian 64-bit, the archive page-aligned):
//
//   offset 0   magic (UKERNEL_MODULES_MAGIC), count
//   offset 16  count entries of UKERNEL_MODULE_ENTRY_BYTES: name (NUL-padded, at most
//              UKERNEL_MODULE_NAME_BYTES - 1 characters), offset, size
//   then       each module's bytes at its offset from the archive start (page-aligned)
//
// The image build writes it (cmake/x86_64-image.cmake generates an assembly file that includes
// this header for the numbers); the kernel maps it read-only into the root task and says where
// in BootInfo::modules_vaddr / modules_size; the root task reads it with Archive, which checks
// every entry against the archive's size before any of it is used.
#pragma once

#define UKERNEL_MODULES_MAGIC 0x31534c55444f4d55  // "UMODULS1"
#define UKERNEL_MODULES_HEADER_BYTES 16
#define UKERNEL_MODULE_NAME_BYTES 32
#define UKERNEL_MODULE_ENTRY_BYTES 48

#ifndef __ASSEMBLER__

#include <cstddef>
#include <string_view>

#include "ukernel/abi.hpp"

namespace ukernel::boot_modules {

inline constexpr word kMagic = UKERNEL_MODULES_MAGIC;
inline constexpr std::size_t kNameBytes = UKERNEL_MODULE_NAME_BYTES;
inline constexpr std::size_t kMaxModules = 64;

struct Header {
  word magic;
  word count;
};
struct Entry {
  char name[kNameBytes];
  word offset;  // from the start of the archive
  word size;
};
static_assert(sizeof(Header) == UKERNEL_MODULES_HEADER_BYTES);
static_assert(sizeof(Entry) == UKERNEL_MODULE_ENTRY_BYTES);

enum class Error {
  kOk,
  kTruncated,   // smaller than its header or its table
  kBadMagic,    // not a module archive
  kBadCount,    // more than kMaxModules
  kBadName,     // empty, or not NUL-terminated
  kOutOfRange,  // a module's bytes are not inside the archive
};

inline const char* describe(Error e) {
  switch (e) {
    case Error::kOk:
      return "ok";
    case Error::kTruncated:
      return "the archive is truncated";
    case Error::kBadMagic:
      return "not a module archive (bad magic)";
    case Error::kBadCount:
      return "too many modules";
    case Error::kBadName:
      return "a module name is empty or not terminated";
    case Error::kOutOfRange:
      return "a module lies outside the archive";
  }
  return "unknown error";
}

struct Module {
  std::string_view name;
  const unsigned char* data;
  word size;
};

// A checked view of an archive in memory.
class Archive {
 public:
  // Checks the whole archive at `base` (`size` bytes); on success `out` reads it.
  [[nodiscard]] static Error open(const void* base, word size, Archive& out) {
    auto* bytes = static_cast<const unsigned char*>(base);
    Header h;
    if (size < sizeof h) return Error::kTruncated;
    __builtin_memcpy(&h, bytes, sizeof h);
    if (h.magic != kMagic) return Error::kBadMagic;
    if (h.count > kMaxModules) return Error::kBadCount;
    if (sizeof h + h.count * sizeof(Entry) > size) return Error::kTruncated;
    for (word i = 0; i < h.count; ++i) {
      Entry e;
      __builtin_memcpy(&e, bytes + sizeof h + i * sizeof(Entry), sizeof e);
      if (e.name[0] == 0 || e.name[kNameBytes - 1] != 0) return Error::kBadName;
      if (e.offset > size || e.size > size - e.offset) return Error::kOutOfRange;
    }
    out.bytes_ = bytes;
    out.count_ = h.count;
    return Error::kOk;
  }

  std::size_t count() const { return count_; }
  Module module(std::size_t i) const {
    Entry e;
    __builtin_memcpy(&e, bytes_ + sizeof(Header) + i * sizeof(Entry), sizeof e);
    std::size_t n = 0;
    while (n < kNameBytes && e.name[n] != 0)
      ++n;
    // The name lives in the archive; the copy `e` does not outlive this call.
    const char* name = reinterpret_cast<const char*>(bytes_ + sizeof(Header) + i * sizeof(Entry));
    return Module{std::string_view(name, n), bytes_ + e.offset, e.size};
  }
  // The module called `name`, if any.
  bool find(std::string_view name, Module& out) const {
    for (std::size_t i = 0; i < count_; ++i) {
      Module m = module(i);
      if (m.name == name) {
        out = m;
        return true;
      }
    }
    return false;
  }

 private:
  const unsigned char* bytes_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace ukernel::boot_modules

#endif
