// Formatting for ukernel::log on the hosted back-end: fmt itself (checked at compile time).
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <utility>

namespace ukernel::arch {

template <class... A>
using FormatString = fmt::format_string<A...>;

// Formats into `out` (at most `capacity` bytes); returns the full length (may exceed capacity).
template <class... A>
std::size_t format_to_buffer(char* out, std::size_t capacity, FormatString<A...> text,
                             A&&... args) {
  return fmt::format_to_n(out, capacity, text, std::forward<A>(args)...).size;
}

}  // namespace ukernel::arch
