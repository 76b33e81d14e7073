// The system image's conventions (targets/x86_64/system/): what the root task's loader gives
// every program it starts, and where. A server's source sees only the argument of its
// `ukernel_image_main` (for a server: the slot of the endpoint it serves) and, if it needs
// more, the slots below.
#pragma once

#include <arch/user.hpp>

#include "ukernel/abi.hpp"

namespace system_image {

using ukernel::word;

// Each program's CSpace: a CNode of 2^kCNodeBits slots.
inline constexpr unsigned kCNodeBits = 6;
inline constexpr word kSelfCNodeSlot = 1;  // the CNode itself
inline constexpr word kServeSlot = 2;      // the endpoint the program serves (servers)
inline constexpr word kNamesSlot = 3;      // the name service, badged with the program's id
inline constexpr word kFirstFreeSlot = 8;  // the program's own from here

// Each program's address space: its ELF segments in [kImageBegin, kImageEnd), its IPC buffer at
// arch::kUserIpcBuffer (which is kImageEnd), its stack of kStackPages below kStackTop.
inline constexpr word kImageBegin = 0x1000;
inline constexpr word kImageEnd = ukernel::arch::kUserIpcBuffer;
inline constexpr word kStackTop = ukernel::arch::kRootStackTop;
inline constexpr word kStackPages = 4;
inline constexpr word kMaxImagePages = 96;  // with stack and buffer, within 128 mappings

}  // namespace system_image
