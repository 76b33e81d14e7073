// The freestanding runtime of bare-metal user programs beyond the string functions (the
// back-end's string source and src/arch/baremetal/string.cpp): libstdc++'s bounds-check hook.

// What libstdc++'s headers call on a failed bounds check (std::string_view::substr past the end):
// with no exceptions, the thread stops with an illegal-instruction fault its supervisor hears of.
namespace std {
[[noreturn]] void __throw_out_of_range_fmt(const char*, ...) {
  __builtin_trap();
}
}  // namespace std
