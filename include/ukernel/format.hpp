// A small freestanding formatter with fmt's syntax, for back-ends where fmt itself cannot be
// built (bare metal). The hosted back-end uses fmt; tests/runtime/format_test.cpp checks that
// both produce the same text for every form this one supports:
//
//   {}  {:d}  {:x}  {:X}  {:#x}  {:b}  {:o}  {:c}  {:s}  {:p}, with fill/align/width (`{:>8}`,
//   `{:08x}`, `{:<5}`, `{:^5}`), sign `{:+}`, and the escapes `{{` and `}}`.
//
// Arguments: integers, bool, char, const char*, std::string_view, pointers. A malformed format
// string is written as is (it never crashes and never reads past its arguments).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace ukernel::format {

// Writes into a fixed buffer, counting what did not fit.
class Sink {
 public:
  Sink(char* out, std::size_t capacity) : out_(out), capacity_(capacity) {}
  void put(char c) {
    if (size_ < capacity_) out_[size_] = c;
    ++size_;
  }
  void put(std::string_view s) {
    for (char c : s)
      put(c);
  }
  std::size_t size() const { return size_; }  // may exceed the capacity (truncated)

 private:
  char* out_;
  std::size_t capacity_;
  std::size_t size_ = 0;
};

struct Spec {
  char fill = ' ';
  char align = 0;  // '<', '>', '^' or 0 (default)
  char sign = 0;   // '+' or 0
  bool alternate = false;
  bool zero = false;
  std::size_t width = 0;
  char type = 0;
};

namespace detail {

inline void pad(Sink& sink, const Spec& spec, std::string_view prefix, std::string_view body,
                char default_align) {
  std::size_t length = prefix.size() + body.size();
  std::size_t fill = spec.width > length ? spec.width - length : 0;
  if (spec.zero && spec.align == 0) {
    sink.put(prefix);
    for (std::size_t i = 0; i < fill; ++i)
      sink.put('0');
    sink.put(body);
    return;
  }
  char align = spec.align ? spec.align : default_align;
  std::size_t before = align == '>' ? fill : align == '^' ? fill / 2 : 0;
  for (std::size_t i = 0; i < before; ++i)
    sink.put(spec.fill);
  sink.put(prefix);
  sink.put(body);
  for (std::size_t i = before; i < fill; ++i)
    sink.put(spec.fill);
}

inline void unsigned_number(Sink& sink, const Spec& spec, std::uint64_t value, bool negative) {
  unsigned base = 10;
  const char* digits = "0123456789abcdef";
  std::string_view alt;
  switch (spec.type) {
    case 'x':
      base = 16, alt = "0x";
      break;
    case 'X':
      base = 16, alt = "0X", digits = "0123456789ABCDEF";
      break;
    case 'b':
      base = 2, alt = "0b";
      break;
    case 'o':
      base = 8, alt = "0";
      break;
    default:
      break;
  }
  char text[64];
  std::size_t n = sizeof text;
  do {
    text[--n] = digits[value % base];
    value /= base;
  } while (value != 0);
  char prefix[4];
  std::size_t p = 0;
  if (negative) {
    prefix[p++] = '-';
  } else if (spec.sign == '+') {
    prefix[p++] = '+';
  }
  if (spec.alternate && !(base == 8 && text[n] == '0')) {
    for (char c : alt)
      prefix[p++] = c;
  }
  pad(sink, spec, std::string_view(prefix, p), std::string_view(text + n, sizeof text - n), '>');
}

}  // namespace detail

template <class T>
void format_value(Sink& sink, const Spec& spec, const T& value) {
  if constexpr (std::same_as<T, bool>) {
    detail::pad(sink, spec, {}, value ? "true" : "false", '<');
  } else if constexpr (std::same_as<T, char>) {
    if (spec.type == 0 || spec.type == 'c') {
      detail::pad(sink, spec, {}, std::string_view(&value, 1), '<');
    } else {
      detail::unsigned_number(sink, spec, static_cast<unsigned char>(value), false);
    }
  } else if constexpr (std::is_enum_v<T>) {
    format_value(sink, spec, static_cast<std::underlying_type_t<T>>(value));
  } else if constexpr (std::signed_integral<T>) {
    auto v = static_cast<std::int64_t>(value);
    std::uint64_t magnitude = v < 0 ? 0 - static_cast<std::uint64_t>(v) : std::uint64_t(v);
    detail::unsigned_number(sink, spec, magnitude, v < 0);
  } else if constexpr (std::unsigned_integral<T>) {
    detail::unsigned_number(sink, spec, value, false);
  } else if constexpr (std::same_as<std::decay_t<T>, const char*> ||
                       std::same_as<std::decay_t<T>, char*>) {
    std::size_t n = 0;  // no strlen: this header needs nothing from the C library
    while (value[n] != 0)
      ++n;
    detail::pad(sink, spec, {}, std::string_view(value, n), '<');
  } else if constexpr (std::convertible_to<T, std::string_view>) {
    detail::pad(sink, spec, {}, std::string_view(value), '<');
  } else if constexpr (std::is_pointer_v<T>) {
    Spec hex = spec;
    hex.type = 'x';
    hex.alternate = true;
    detail::unsigned_number(sink, hex, reinterpret_cast<std::uintptr_t>(value), false);
  } else {
    static_assert(sizeof(T) == 0, "format: no formatter for this argument type");
  }
}

// Parses the spec after ':' up to '}'; returns false if it is malformed.
inline bool parse_spec(std::string_view text, Spec& spec) {
  std::size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^'; };
  if (text.size() >= 2 && is_align(text[1])) {
    spec.fill = text[0], spec.align = text[1], i = 2;
  } else if (!text.empty() && is_align(text[0])) {
    spec.align = text[0], i = 1;
  }
  if (i < text.size() && text[i] == '+') spec.sign = '+', ++i;
  if (i < text.size() && text[i] == '#') spec.alternate = true, ++i;
  if (i < text.size() && text[i] == '0') spec.zero = true, ++i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    spec.width = spec.width * 10 + std::size_t(text[i++] - '0');
  }
  if (i < text.size()) spec.type = text[i++];
  return i == text.size();
}

namespace detail {

template <class... A>
void format_nth(Sink& sink, const Spec& spec, std::size_t n, const A&... args) {
  std::size_t i = 0;
  ((i++ == n ? format_value(sink, spec, args) : void()), ...);
}

}  // namespace detail

// Formats `text` with `args` into `sink`.
template <class... A>
void format_to(Sink& sink, std::string_view text, const A&... args) {
  std::size_t next = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      sink.put('{'), ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      sink.put('}'), ++i;
    } else if (c == '{') {
      // No find() or substr(): they would need memchr and an out-of-range handler.
      std::size_t close = i + 1;
      while (close < text.size() && text[close] != '}')
        ++close;
      Spec spec;
      bool ok = close < text.size() && next < sizeof...(A);
      if (ok && close > i + 1) {
        ok = text[i + 1] == ':' &&
             parse_spec(std::string_view(text.data() + i + 2, close - i - 2), spec);
      }
      if (!ok) {
        sink.put(std::string_view(text.data() + i, text.size() - i));
        return;
      }
      detail::format_nth(sink, spec, next++, args...);
      i = close;
    } else {
      sink.put(c);
    }
  }
}

}  // namespace ukernel::format
