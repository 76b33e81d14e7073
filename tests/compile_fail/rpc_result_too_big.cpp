// Must not compile: a method whose result takes 65 words.
#include <array>
#include <cstdint>

#include "ukernel/rpc.hpp"

using TooBig = ukernel::rpc::Method<1, std::array<std::uint64_t, 65>()>;
constexpr auto kWords = TooBig::kResultWords;
