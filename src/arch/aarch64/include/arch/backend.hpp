// The AArch64 back-end's namespace under the name the code shared by the bare-metal back-ends
// (src/arch/baremetal) uses for it: ukernel::backend is ukernel::aarch64.
#pragma once

namespace ukernel {
namespace aarch64 {}
namespace backend = aarch64;
}  // namespace ukernel
