// Where a server of the example system finds its capabilities: the slots of its CSpace, and
// the notification bits that tell it who signalled. The root task fills these slots from the
// description (system.hpp); the server's code reads them through the helpers below, so the two
// sides share one definition.
#pragma once

#include "system.hpp"

namespace system_example {

using ukernel::word;

inline constexpr unsigned kCNodeBits = 7;     // 128 slots
inline constexpr word kSelfCNodeSlot = 1;     // the server's own CSpace
inline constexpr word kEndpointSlot = 2;      // the endpoint it serves (replaced on restart)
inline constexpr word kNamesSlot = 3;         // the name service, badged with its index
inline constexpr word kSupervisorSlot = 4;    // the supervisor, badged with its index
inline constexpr word kNotificationSlot = 5;  // its own notification, bound to its thread
inline constexpr word kTimerWakeSlot = 6;     // the same, badged kTimerBit: hand it to the timer
inline constexpr word kAddressSpaceSlot = 7;  // its own address space: where it maps device frames
inline constexpr word kFirstGrantSlot = 8;    // grant i of the description is in slot 8 + i
inline constexpr word kPciWindowSlot = 16;    // the PCI server's BAR window (below); kept
inline constexpr word kPciWindowSlots = 16;   //   across restarts, empty in other servers
inline constexpr word kFirstFreeSlot = 32;    // the rest is the server's; emptied on restart
// Where the PCI server finds the first bus of ECAM (1 MiB), mapped by the root task with its
// kPciHost grant.
inline constexpr word kPciEcamAddress = 0x50000000;
inline constexpr unsigned kPciEcamBits = 20;
static_assert(kFirstGrantSlot + sysdesc::kMaxGrants <= kPciWindowSlot);
static_assert(kPciWindowSlot + kPciWindowSlots <= kFirstFreeSlot);

// The 32-bit BAR window [base, base + bytes) of BootInfo::pci reaches the PCI server as the
// device untyped the kernel listed for it: the window cut, from its base, into the largest
// naturally aligned power-of-two blocks (q35: 0xc0000000..0xfec00000 is seven blocks, and
// SeaBIOS puts the BARs in the top ones). Block i is in slot kPciWindowSlot + i. This is block
// i's size in bits at address `at` (0: the window ends at `at`), the same rule the kernel cuts by.
constexpr unsigned window_block_bits(word at, word end) {
  if (at >= end) return 0;
  unsigned bits = ukernel::kMaxUntypedBits;
  while (bits > ukernel::kMinUntypedBits &&
         ((at & ((word{1} << bits) - 1)) != 0 || (word{1} << bits) > end - at))
    --bits;
  return (word{1} << bits) <= end - at ? bits : 0;
}
static_assert(window_block_bits(0xc0000000, 0xfec00000) == 29);
static_assert(window_block_bits(0xfe800000, 0xfec00000) == 22);
static_assert(window_block_bits(0xfec00000, 0xfec00000) == 0);

// Bits of a server's notification word: who signalled it.
constexpr word notify_bit(std::size_t sender) {  // a notify grant of server `sender`
  return word{1} << sender;
}
constexpr word irq_bit(std::size_t grant) {  // the interrupt of grant `grant`
  return word{1} << (32 + grant);
}
inline constexpr word kTimerBit = word{1} << 63;  // a wake-up the server asked the timer for
static_assert(kServerCount < 32);

// The slot of `server`'s grant `role`; a role missing from the description does not compile.
void the_description_gives_this_server_no_grant_with_this_role();
consteval word grant_slot(std::size_t server, std::string_view role) {
  std::size_t g = kSystem.grant_of(server, role);
  if (g == kSystem.kNotFound) the_description_gives_this_server_no_grant_with_this_role();
  return kFirstGrantSlot + g;
}
consteval const sysdesc::Grant& grant(std::size_t server, std::string_view role) {
  std::size_t g = kSystem.grant_of(server, role);
  if (g == kSystem.kNotFound) the_description_gives_this_server_no_grant_with_this_role();
  return kSystem.servers[server].grants[g];
}

}  // namespace system_example
