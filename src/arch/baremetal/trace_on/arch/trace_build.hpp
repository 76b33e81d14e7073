// The bare-metal trace build (an image made with ukernel_baremetal_kernel_image(... TRACE ON)):
// the kernel records its events into a ring of kTraceRecords (the newest ones are kept) and dumps
// it at power-off (trace_ring.cpp). Its twin is ../../trace_off/arch/trace_build.hpp.
#pragma once

#include <cstddef>

namespace ukernel::baremetal {
inline constexpr bool kTraceBuild = true;
inline constexpr std::size_t kTraceRecords = 8192;
}  // namespace ukernel::baremetal
