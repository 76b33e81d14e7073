// Formatting for ukernel::log on the hosted back-end: fmt itself, with its compile-time check of
// the format string. The formatting runs in the kernel library (vformat_to_buffer), not in the
// server: a server image only packs its arguments (fmt::make_format_args, a header-only array),
// so it stays freestanding (cmake/check-freestanding.sh).
#pragma once

#include <fmt/core.h>

#include <cstddef>
#include <utility>

namespace ukernel::arch {

template <class... A>
using FormatString = fmt::format_string<A...>;

// Formats into `out` (at most `capacity` bytes); returns the full length (may exceed capacity).
std::size_t vformat_to_buffer(char* out, std::size_t capacity, fmt::string_view text,
                              fmt::format_args args);

template <class... A>
std::size_t format_to_buffer(char* out, std::size_t capacity, FormatString<A...> text,
                             A&&... args) {
  return vformat_to_buffer(out, capacity, text, fmt::make_format_args(args...));
}

}  // namespace ukernel::arch
