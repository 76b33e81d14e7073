// The bare-metal build without a kernel trace (every image unless it asks for one): the
// recording points compile to nothing. Its twin is ../../trace_on/arch/trace_build.hpp; the
// build picks one by include path (src/arch/baremetal/baremetal.cmake).
#pragma once

#include <cstddef>

namespace ukernel::baremetal {
inline constexpr bool kTraceBuild = false;
inline constexpr std::size_t kTraceRecords = 0;
}  // namespace ukernel::baremetal
