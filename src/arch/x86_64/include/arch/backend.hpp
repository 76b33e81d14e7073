// The x86-64 back-end's namespace under the name the code shared by the bare-metal back-ends
// (src/arch/baremetal) uses for it: ukernel::backend is ukernel::x86.
#pragma once

namespace ukernel {
namespace x86 {}
namespace backend = x86;
}  // namespace ukernel
