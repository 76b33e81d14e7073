// Directory entries as the library's source files see them (not part of the API).
//
// A directory is a cluster chain of 32-byte slots. A name is a run of LFN slots (attribute
// 0x0F, ordinals n|0x40 down to 1, each with the short name's checksum) followed by its short
// entry. Volume::scan_next() walks the slots and returns either a whole entry (with its long name
// when the run before it is complete and its checksum matches; else its short name) or an
// orphan: LFN slots that belong to no entry, which repair frees and everyone else skips.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "volume.hpp"

namespace ukernel::fat32 {

inline constexpr std::uint8_t kAttrReadOnly = 0x01;
inline constexpr std::uint8_t kAttrVolumeId = 0x08;
inline constexpr std::uint8_t kAttrDirectory = 0x10;
inline constexpr std::uint8_t kAttrArchive = 0x20;
inline constexpr std::uint8_t kAttrLongName = 0x0F;
inline constexpr std::uint8_t kSlotFree = 0xE5;
inline constexpr std::uint32_t kEndOfChain = 0x0FFFFFFF;
inline constexpr std::uint32_t kLfnCharsPerSlot = 13;

struct Volume::Entry {
  std::uint32_t dir = 0;         // first cluster of the directory that holds it
  std::uint32_t slot = 0;        // the short entry
  std::uint32_t first_slot = 0;  // its first LFN slot (== slot without a long name)
  ShortName short_name{};
  std::uint8_t attributes = 0;
  std::uint8_t nt_flags = 0;
  std::uint32_t cluster = 0;
  std::uint32_t size = 0;
  Timestamp modified;
  std::uint8_t dots = 0;  // 1 for ".", 2 for "..", else 0
  std::array<char, kMaxNameBytes> name{};
  std::size_t name_length = 0;  // 0: neither name is usable (listed nowhere, still counted)

  bool is_directory() const { return (attributes & kAttrDirectory) != 0; }
  std::string_view name_view() const { return {name.data(), name_length}; }
};

struct Volume::DirScan {
  std::uint32_t dir = 0;
  std::uint32_t slot = 0;  // next slot to read
  // The LFN run being collected.
  bool in_run = false;
  std::uint32_t run_first = 0;
  std::uint8_t run_expected = 0;  // ordinal the next LFN slot must have
  std::uint8_t run_checksum = 0;
  std::uint8_t run_count = 0;
  std::array<char16_t, 20 * kLfnCharsPerSlot> units{};
  // An orphan result: slots [orphan_first, orphan_first + orphan_count).
  std::uint32_t orphan_first = 0;
  std::uint32_t orphan_count = 0;
};

// The 32 bytes of a short entry.
std::array<std::byte, 32> encode_short_entry(const ShortName& name, std::uint8_t attributes,
                                             std::uint32_t cluster, std::uint32_t size,
                                             Timestamp modified);

}  // namespace ukernel::fat32
