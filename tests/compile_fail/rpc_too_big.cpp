// Must not compile: a method whose arguments take 65 words.
#include <array>
#include <cstdint>

#include "ukernel/rpc.hpp"

using TooBig = ukernel::rpc::Method<1, void(std::array<std::uint64_t, 64>, std::uint64_t)>;
constexpr auto kWords = TooBig::kArgWords;
