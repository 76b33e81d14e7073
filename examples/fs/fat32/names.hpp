// File names on a FAT volume: long names (VFAT, UTF-16) and their 8.3 short aliases.
//
// The API speaks UTF-8; a long name is stored as up to 255 UTF-16 units in LFN entries, each
// run of them tied to its short entry by a checksum of the 11-byte short name. A name that is
// already a valid upper-case 8.3 name is stored as a short entry alone; every other name gets
// LFN entries and a generated alias (upper-cased, invalid characters replaced by '_', then a
// "~N" tail that makes it unique in its directory, as Windows and Linux do). Lookup is
// case-insensitive for ASCII letters, as Linux's vfat with its default options; other
// characters compare exactly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fs_error.hpp"

namespace ukernel::fat32 {

inline constexpr std::size_t kMaxNameLength = 255;     // UTF-16 units in a long name
inline constexpr std::size_t kMaxNameBytes = 255 * 3;  // the same name in UTF-8, at most

using ShortName = std::array<std::uint8_t, 11>;  // 8 + 3 bytes, space-padded, as on disk

// A checked name: its UTF-16 form (for LFN entries) and its length.
struct LongName {
  std::array<char16_t, kMaxNameLength> units{};
  std::size_t length = 0;
};

// Checks a new name (one path component) and converts it: kNameInvalid for "", ".", "..",
// control characters, any of "*/:<>?\|, bad UTF-8, a trailing space or dot, more than 255 units.
FsError parse_name(std::string_view utf8, LongName& out);

// Converts UTF-16 (from LFN entries) to UTF-8; false for an unpaired surrogate or a NUL unit.
bool utf16_to_utf8(const char16_t* units, std::size_t length, char* out, std::size_t capacity,
                   std::size_t& out_length);

// Case-insensitive for ASCII letters only.
bool names_equal(std::string_view a, std::string_view b);

std::uint8_t lfn_checksum(const ShortName& name);

// True when name is its own short name (upper case, 8.3, only short-name characters).
bool exact_short_name(const LongName& name, ShortName& out);

// The alias stem of a long name (base and extension, upper-cased, invalid characters as '_');
// with_tail(stem, n) puts "~n" into it (n in 1..999999).
ShortName alias_stem(const LongName& name);
ShortName with_tail(const ShortName& stem, std::uint32_t n);

// A short entry's name as text ("README.TXT", lower-cased where NTRes bits 3/4 say so); false
// when a byte cannot be in a name (an untrusted entry that is then not listed).
bool short_name_text(const ShortName& name, std::uint8_t nt_flags, char* out,
                     std::size_t& out_length);

}  // namespace ukernel::fat32
