// The example multiserver system: the one description of which servers run, at which
// priorities, with which capabilities. The root task boots from it, every server finds its own
// capabilities in it, and the host tests read it. docs/example-system.md explains each entry.
//
// Besides the grants listed here, every server (except the root) receives the same four
// capabilities (layout.hpp): its own endpoint, a name-service capability and a supervisor
// capability (both badged with its index), and its own notification.
#pragma once

#include "description.hpp"
#include "platform.hpp"

namespace system_example {

using sysdesc::fs_session;
using sysdesc::memory;
using sysdesc::msi;
using sysdesc::notify;
using sysdesc::pci;
using sysdesc::pci_host;
using sysdesc::shared;
using ukernel::word;

inline constexpr ukernel::word kConsoleRingsAddress = 0x20000000;
// The block session between blk and the file system: blk's view of it.
inline constexpr ukernel::word kBlkSessionAddress = 0x30000000;
// The fs server's view of the block session, and of its clients' regions.
inline constexpr ukernel::word kFsDiskAddress = 0x30000000;
inline constexpr ukernel::word kFsShellAddress = 0x38000000;
// The shell's view of its file-system region.
inline constexpr ukernel::word kShellFsAddress = 0x30000000;
// virtio-blk, modern (virtio 1.x PCI: vendor 0x1af4, device 0x1040 + type 2).
inline constexpr ukernel::word kVirtioVendor = 0x1af4;
inline constexpr ukernel::word kVirtioBlkDevice = 0x1042;

// Servers share priorities on purpose (timer and console, hello and the shell): the hosted
// tests' random preemption then really interleaves them.

inline constexpr sysdesc::System<9, 3> kSystem{
    .servers = {{
        // The root task: boots everything from this description, then supervises it.
        {.name = "supervisor", .priority = 255, .root = true},
        {.name = "names", .priority = 200},
        {.name = "timer",
         .priority = 180,
         .grants = {Platform::timer_irq(), Platform::timer_device()}},
        {.name = "console",
         .priority = 180,
         .grants = {Platform::console_uart(), Platform::console_irq(),
                    notify("input-ready", "shell"),
                    shared("rings", "console-rings", kConsoleRingsAddress)}},
        {.name = "hello", .priority = 50},
        {.name = "shell",
         .priority = 50,
         .grants = {shared("rings", "console-rings", kConsoleRingsAddress),
                    shared("fs", "shell-fs", kShellFsAddress)}},
        // The PCI server: enumerates, assigns BARs, hands each driver its own function.
        {.name = "pci", .priority = 190, .grants = {pci_host("host")}},
        // The virtio-blk driver: one block session per shared grant (docs/drivers.md).
        {.name = "blk",
         .priority = 170,
         .grants = {pci("disk", kVirtioVendor, kVirtioBlkDevice), msi("irq"),
                    memory("dma", 64 * 1024), shared("fs", "blk-fs", kBlkSessionAddress)}},
        // The FAT32 file system on blk's disk (docs/storage.md). Each client is a session with
        // its region, its root and its access (Genode's file-system session arguments).
        {.name = "fs",
         .priority = 160,
         .grants = {shared("disk", "blk-fs", kFsDiskAddress),
                    fs_session("shell", "shell-fs", kFsShellAddress, "/",
                               sysdesc::Access::kReadWrite)}},
    }},
    .regions = {{{.name = "console-rings", .bytes = 4096},
                 {.name = "blk-fs", .bytes = 4 << 20, .dma = true},
                 {.name = "shell-fs", .bytes = 1 << 20}}},
};
static_assert(sysdesc::verified<Platform, kSystem>);

inline constexpr std::size_t kServerCount = kSystem.kServers;
inline constexpr std::size_t kSupervisorIndex = kSystem.index_of("supervisor");
inline constexpr std::size_t kNamesIndex = kSystem.index_of("names");
inline constexpr std::size_t kTimerIndex = kSystem.index_of("timer");
inline constexpr std::size_t kConsoleIndex = kSystem.index_of("console");
inline constexpr std::size_t kHelloIndex = kSystem.index_of("hello");
inline constexpr std::size_t kShellIndex = kSystem.index_of("shell");
inline constexpr std::size_t kPciIndex = kSystem.index_of("pci");
inline constexpr std::size_t kBlkIndex = kSystem.index_of("blk");
inline constexpr std::size_t kFsIndex = kSystem.index_of("fs");
// Badges are server indices, and badge 0 (an unbadged capability) is the supervisor's.
static_assert(kSupervisorIndex == 0, "the supervisor is entry 0: its badge is 0");

}  // namespace system_example
