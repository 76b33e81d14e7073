// Long and short names (see names.hpp).
#include "names.hpp"

namespace ukernel::fat32 {
namespace {

bool forbidden_in_long_name(char32_t c) {
  if (c < 0x20 || c == 0x7F) return true;
  for (char f : std::string_view("\"*/:<>?\\|")) {
    if (c == static_cast<char32_t>(f)) return true;
  }
  return false;
}

// Characters a short name may hold besides A-Z and 0-9.
bool short_name_char(std::uint8_t c) {
  if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  for (char f : std::string_view("$%'-_@~`!(){}^#&")) {
    if (c == static_cast<std::uint8_t>(f)) return true;
  }
  return false;
}

char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

}  // namespace

FsError parse_name(std::string_view s, LongName& out) {
  if (s.empty() || s == "." || s == ".." || s.back() == ' ' || s.back() == '.') {
    return FsError::kNameInvalid;
  }
  out.length = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    char32_t c = 0;
    std::size_t extra = 0;
    if (b0 < 0x80) {
      c = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      c = b0 & 0x1Fu, extra = 1;
    } else if ((b0 & 0xF0) == 0xE0) {
      c = b0 & 0x0Fu, extra = 2;
    } else if ((b0 & 0xF8) == 0xF0) {
      c = b0 & 0x07u, extra = 3;
    } else {
      return FsError::kNameInvalid;
    }
    if (i + extra >= s.size() && extra != 0) return FsError::kNameInvalid;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return FsError::kNameInvalid;
      c = (c << 6) | (b & 0x3Fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    const char32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (c < min[extra] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) {
      return FsError::kNameInvalid;
    }
    if (forbidden_in_long_name(c)) return FsError::kNameInvalid;
    const std::size_t units = c >= 0x10000 ? 2 : 1;
    if (out.length + units > kMaxNameLength) return FsError::kNameInvalid;
    if (units == 2) {
      const char32_t v = c - 0x10000;
      out.units[out.length++] = static_cast<char16_t>(0xD800 + (v >> 10));
      out.units[out.length++] = static_cast<char16_t>(0xDC00 + (v & 0x3FF));
    } else {
      out.units[out.length++] = static_cast<char16_t>(c);
    }
    i += extra + 1;
  }
  return FsError::kOk;
}

bool utf16_to_utf8(const char16_t* u, std::size_t n, char* out, std::size_t capacity,
                   std::size_t& len) {
  len = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char32_t c = u[i];
    if (c == 0) return false;
    if (c >= 0xD800 && c <= 0xDBFF) {
      if (i + 1 >= n || u[i + 1] < 0xDC00 || u[i + 1] > 0xDFFF) return false;
      c = 0x10000 + ((c - 0xD800) << 10) + (static_cast<char32_t>(u[i + 1]) - 0xDC00);
      ++i;
    } else if (c >= 0xDC00 && c <= 0xDFFF) {
      return false;
    }
    const std::size_t bytes = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (len + bytes > capacity) return false;
    if (bytes == 1) {
      out[len++] = static_cast<char>(c);
    } else {
      const unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
      out[len++] = static_cast<char>(lead[bytes] | (c >> (6 * (bytes - 1))));
      for (std::size_t k = bytes - 1; k-- > 0;) {
        out[len++] = static_cast<char>(0x80 | ((c >> (6 * k)) & 0x3F));
      }
    }
  }
  return true;
}

bool names_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
  }
  return true;
}

std::uint8_t lfn_checksum(const ShortName& name) {
  std::uint8_t sum = 0;
  for (std::uint8_t c : name) {
    sum = static_cast<std::uint8_t>(((sum & 1) << 7) + (sum >> 1) + c);
  }
  return sum;
}

bool exact_short_name(const LongName& name, ShortName& out) {
  out.fill(' ');
  std::size_t base = 0, ext = 0;
  bool in_ext = false;
  for (std::size_t i = 0; i < name.length; ++i) {
    const char16_t c = name.units[i];
    if (c == '.' && !in_ext && i != 0) {
      in_ext = true;
      continue;
    }
    if (c > 0x7F || !short_name_char(static_cast<std::uint8_t>(c))) return false;
    if (in_ext) {
      if (ext == 3) return false;
      out[8 + ext++] = static_cast<std::uint8_t>(c);
    } else {
      if (base == 8) return false;
      out[base++] = static_cast<std::uint8_t>(c);
    }
  }
  return base > 0 && (!in_ext || ext > 0);
}

ShortName alias_stem(const LongName& name) {
  ShortName stem;
  stem.fill(' ');
  // The extension is what follows the last dot (a leading dot does not start one).
  std::size_t last_dot = name.length;
  for (std::size_t i = name.length; i-- > 1;) {
    if (name.units[i] == '.') {
      last_dot = i;
      break;
    }
  }
  const auto convert = [](char16_t c) -> std::uint8_t {
    if (c > 0x7F) return '_';
    const auto u = static_cast<std::uint8_t>(ascii_upper(static_cast<char>(c)));
    return short_name_char(u) ? u : static_cast<std::uint8_t>('_');
  };
  std::size_t base = 0;
  for (std::size_t i = 0; i < last_dot && base < 8; ++i) {
    const char16_t c = name.units[i];
    if (c == ' ' || c == '.') continue;  // spaces and dots vanish from the base
    stem[base++] = convert(c);
  }
  if (base == 0) stem[base++] = '_';
  std::size_t ext = 0;
  for (std::size_t i = last_dot + 1; i < name.length && ext < 3; ++i) {
    if (name.units[i] == ' ') continue;
    stem[8 + ext++] = convert(name.units[i]);
  }
  return stem;
}

ShortName with_tail(const ShortName& stem, std::uint32_t n) {
  char digits[8];
  std::size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0 && count < 7);
  std::size_t base = 0;
  while (base < 8 && stem[base] != ' ')
    ++base;
  const std::size_t keep = base + count + 1 > 8 ? 8 - count - 1 : base;
  ShortName out = stem;
  for (std::size_t i = keep; i < 8; ++i)
    out[i] = ' ';
  out[keep] = '~';
  for (std::size_t i = 0; i < count; ++i)
    out[keep + 1 + i] = static_cast<std::uint8_t>(digits[count - 1 - i]);
  return out;
}

bool short_name_text(const ShortName& name, std::uint8_t nt_flags, char* out, std::size_t& len) {
  len = 0;
  const auto put = [&](std::uint8_t c, bool lower) {
    if (c < 0x20 || c >= 0x7F) return false;
    for (char f : std::string_view("\"*+,./:;<=>?[\\]|")) {
      if (c == static_cast<std::uint8_t>(f)) return false;
    }
    out[len++] = static_cast<char>(lower && c >= 'A' && c <= 'Z' ? c + 32 : c);
    return true;
  };
  std::size_t base_end = 8;
  while (base_end > 0 && name[base_end - 1] == ' ')
    --base_end;
  std::size_t ext_end = 11;
  while (ext_end > 8 && name[ext_end - 1] == ' ')
    --ext_end;
  if (base_end == 0) return false;
  for (std::size_t i = 0; i < base_end; ++i) {
    const std::uint8_t c = i == 0 && name[0] == 0x05 ? 0xE5 : name[i];
    if (!put(c, (nt_flags & 0x08) != 0)) return false;
  }
  if (ext_end > 8) {
    out[len++] = '.';
    for (std::size_t i = 8; i < ext_end; ++i) {
      if (!put(name[i], (nt_flags & 0x10) != 0)) return false;
    }
  }
  return true;
}

}  // namespace ukernel::fat32
