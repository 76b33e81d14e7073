// Formatting for ukernel::log on the bare-metal back-ends (x86-64 and AArch64): the freestanding
// formatter, with fmt's syntax.
// The format string's fields are counted against the arguments at compile time, as fmt does.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ukernel/format.hpp"

namespace ukernel::arch {

template <class... A>
class BasicFormatString {
 public:
  template <class S>
  requires std::is_convertible_v<const S&, std::string_view>
  consteval BasicFormatString(const S& text) : text_(text) {  // NOLINT: implicit, like fmt's
    std::size_t fields = 0;
    for (std::size_t i = 0; i < text_.size(); ++i) {
      if (text_[i] == '{' && i + 1 < text_.size() && text_[i + 1] == '{') {
        ++i;
      } else if (text_[i] == '{') {
        ++fields;
      }
    }
    if (fields != sizeof...(A)) fields_do_not_match_arguments();
  }
  std::string_view get() const { return text_; }

 private:
  static void fields_do_not_match_arguments() {}  // not constexpr: a mismatch fails to compile
  std::string_view text_;
};

template <class... A>
using FormatString = BasicFormatString<std::type_identity_t<A>...>;

template <class... A>
std::size_t format_to_buffer(char* out, std::size_t capacity, FormatString<A...> text,
                             A&&... args) {
  format::Sink sink(out, capacity);
  format::format_to(sink, text.get(), args...);
  return sink.size();
}

}  // namespace ukernel::arch
