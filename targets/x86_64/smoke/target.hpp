// The x86-64 target's back-end under the names the shared smoke images use
// (targets/common/boot_smoke.cpp, kernel_bug_smoke.cpp, panic_smoke.cpp): each target has this
// header at the same path, so the shared sources never name an architecture.
#pragma once

#include <string_view>

namespace ukernel {
namespace x86 {}
// The back-end's namespace (the same alias as the back-end's own arch/backend.hpp, if it has one:
// a namespace alias may be declared again for the same namespace).
namespace backend = x86;
}  // namespace ukernel

namespace ukernel::x86::smoke {
// How the smoke images name the architecture in their first line ("ukernel x86-64 boot-smoke").
constexpr std::string_view kArchName = "x86-64";
}  // namespace ukernel::x86::smoke
