// The kernel's binary interface: system-call numbers, the message-info word, error codes,
// capability rights, object types, invocation labels and the fault message.
//
// This header is shared by the kernel core, every back-end and user code, so that no constant
// is kept in sync by hand. It is freestanding: it includes only <cstdint> and <cstddef>.
// docs/kernel.md describes every item here in prose.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ukernel {

using word = std::uint64_t;

// The version of this binary interface. It changes whenever a number, a layout or a meaning in
// this header changes, so a program built against one version never runs against another: the
// kernel refuses to boot a root task built for another version (core::boot; the hosted
// Simulation passes SimulationConfig::root_abi_version, compiled from the user's copy of this
// header), and a root task refuses a kernel whose BootInfo::abi_version differs (boot_info(),
// ukernel/syscall.hpp). The package's version (ukernelConfigVersion.cmake) follows it: a new
// ABI version is a new minor version while the major version is 0.
inline constexpr word kAbiVersion = 1;

// ---------------------------------------------------------------------------------------------
// System calls. A system call names a capability by its address: the index of a slot in the
// calling thread's capability space (CSpace). Slot 0 is never filled, so 0 means "no capability".
// Every system call returns an Error in the Status register; the result words follow it.
// ---------------------------------------------------------------------------------------------
enum class Syscall : word {
  kSend = 0,         // Cap=endpoint or saved reply; blocks until a receiver takes the message
  kTrySend = 1,      // as kSend, but returns kWouldBlock instead of blocking
  kRecv = 2,         // Cap=endpoint; blocks until a message (or a bound notification) arrives
  kTryRecv = 3,      // as kRecv, but returns kWouldBlock instead of blocking
  kCall = 4,         // send, then wait for the reply, atomically; on a kernel object: invoke it
  kReply = 5,        // answers the caller whose reply capability the thread holds
  kReplyRecv = 6,    // kReply, then kRecv on Cap, in one kernel entry
  kSignal = 7,       // Cap=notification; ORs the capability's badge into its word
  kWait = 8,         // Cap=notification; blocks until the word is non-zero, returns and clears it
  kPoll = 9,         // as kWait, but never blocks (returns 0 bits if none are set)
  kYield = 10,       // gives up the rest of the timeslice
  kAbort = 11,       // stops the thread; its fault endpoint hears FaultKind::kAbort
  kDebugWrite = 12,  // Info.length bytes to the kernel console; word 0: ticks halted (below)
  kCount = 13,
};

// kDebugWrite returns in message word 0 the back-end's cycle-counter ticks the kernel has spent
// halted waiting for an interrupt since boot (x86-64 TSC, AArch64 virtual counter; 0 on
// hosted): a benchmark counting guest instructions under QEMU's -icount subtracts them
// (debug_idle_ticks(), syscall.hpp). With Info.length 0 it writes nothing.

// The registers of a system call, named by role. Each back-end maps them onto real registers
// (docs/x86_64.md, docs/aarch64.md); the hosted back-end keeps them in a struct.
enum class SysReg : unsigned {
  kStatus = 0,  // in: the Syscall number; out: the Error
  kCap = 1,     // in: capability address
  kInfo = 2,    // in and out: the MessageInfo word
  kBadge = 3,   // out: the sender's badge (or notification bits)
  kMr0 = 4,     // message words 0 .. kMessageRegisters-1 follow
};

// ---------------------------------------------------------------------------------------------
// Messages. A message is a label plus up to kMaxMessageWords words and up to kMaxTransferCaps
// capabilities. Words [0, kMessageRegisters) travel in registers; the rest in the IPC buffer.
// ---------------------------------------------------------------------------------------------
inline constexpr std::size_t kMaxMessageWords = 64;
inline constexpr std::size_t kMaxTransferCaps = 4;

// The MessageInfo word:  label (bits 63..12) | flags (11..10) | caps (9..7) | length (6..0)
class MessageInfo {
 public:
  static constexpr word kCapsDropped = 1u << 10;  // received caps did not fit: none transferred
  static constexpr word kTruncated = 1u << 11;    // the receiver has no IPC buffer for the rest

  constexpr MessageInfo() = default;
  constexpr explicit MessageInfo(word raw) : raw_(raw) {}
  constexpr MessageInfo(word label, std::size_t length, std::size_t caps = 0, word flags = 0)
      : raw_((label << 12) | (flags & (3u << 10)) | ((caps & 7u) << 7) | (length & 0x7fu)) {}

  constexpr word raw() const { return raw_; }
  constexpr word label() const { return raw_ >> 12; }
  constexpr std::size_t length() const { return raw_ & 0x7fu; }
  constexpr std::size_t caps() const { return (raw_ >> 7) & 7u; }
  constexpr bool caps_dropped() const { return (raw_ & kCapsDropped) != 0; }
  constexpr bool truncated() const { return (raw_ & kTruncated) != 0; }

  friend constexpr bool operator==(MessageInfo, MessageInfo) = default;

 private:
  word raw_ = 0;
};

inline constexpr word kMaxLabel = (word{1} << 52) - 1;
// Labels the kernel itself uses on messages it delivers.
inline constexpr word kFaultLabel = kMaxLabel;             // a fault message (see FaultMessage)
inline constexpr word kNotificationLabel = kMaxLabel - 1;  // a bound notification woke kRecv

// The per-thread IPC buffer, a page mapped into the thread's address space.
struct IpcBuffer {
  word msg[kMaxMessageWords];   // message words; entries below kMessageRegisters are unused
  word caps[kMaxTransferCaps];  // send: addresses of the capabilities to transfer
  word receive_slot;            // receive: first slot of the window transferred caps land in
  word receive_count;           // receive: size of that window (0: accept no capabilities)
  // The buffer's own address in its thread's address space, written by kThreadConfigure (and by
  // the boot for the root task): a runtime that reaches the buffer through a thread register
  // (x86-64: FS, docs/x86_64.md) reads its address from here.
  word self;
  word user_data[5];  // free for the user runtime (thread-local pointer and such)
};
static_assert(sizeof(IpcBuffer) <= 1024);

// ---------------------------------------------------------------------------------------------
// Errors. Returned in the Status register. A request that returns an error changed nothing.
// Which operation returns which error is listed in docs/kernel.md and next to each operation.
// ---------------------------------------------------------------------------------------------
enum class Error : word {
  kOk = 0,
  kInvalidCapability = 1,   // the slot is empty (or a saved reply was already used)
  kWrongType = 2,           // the capability names an object of another type
  kInsufficientRights = 3,  // the capability lacks a right the operation needs
  kInvalidArgument = 4,     // an argument is out of range or malformed
  kWouldBlock = 5,          // a kTry* operation found no partner (kPoll returns 0 bits)
  kNotEnoughMemory = 6,     // the untyped memory cannot hold the requested objects
  kSlotOccupied = 7,        // the destination slot is not empty
  kCancelled = 8,           // the partner or the object went away while this thread waited
  kInvalidLabel = 9,        // no such invocation on this object type
  kAlignment = 10,          // an address is not aligned as the operation needs
  kBusy = 11,               // the object is already in use (mapped, bound, claimed)
  kNotFound = 12,           // nothing is mapped/bound there
  kIllegalOperation = 13,   // not allowed in the object's current state
};

// ---------------------------------------------------------------------------------------------
// Capabilities.
// ---------------------------------------------------------------------------------------------
enum class Rights : word {
  kNone = 0,
  kRead = 1,   // receive/wait; read an object's state
  kWrite = 2,  // send/signal; change an object's state
  kGrant = 4,  // transfer capabilities with a message through this endpoint
  kAll = 7,
};
constexpr Rights operator|(Rights a, Rights b) {
  return Rights(word(a) | word(b));
}
constexpr Rights operator&(Rights a, Rights b) {
  return Rights(word(a) & word(b));
}
constexpr bool has_rights(Rights have, Rights need) {
  return (have & need) == need;
}

enum class ObjectType : word {
  kNone = 0,
  kUntyped = 1,
  kThread = 2,
  kAddressSpace = 3,
  kCNode = 4,
  kEndpoint = 5,
  kNotification = 6,
  kFrame = 7,
  kReply = 8,       // made by kCall; never retyped
  kIrqControl = 9,  // the right to claim interrupt lines; only the root task has one
  kIrqHandler = 10,
  // A range of I/O ports (x86-64): the root task's covers all 65536 ports; never retyped.
  kIoPorts = 11,
  kCount = 12,
};

// Frame attributes, chosen when a frame is retyped from RAM untyped and kept in its capability
// (copy and mint keep them). A frame of 2^size_bits bytes is physically contiguous and aligned
// to its size whatever its attributes, so a device may be given any part of it.
enum class FrameAttributes : word {
  kNone = 0,
  // A frame for a device to read and write: kFramePhysicalAddress tells its bus address, which
  // no other frame does (an address is what a DMA-capable device needs, and nothing else).
  kDma = 1,
  // Mapped uncached (x86-64: PCD|PWT, UC; AArch64: Normal Non-cacheable; hosted: recorded), for
  // a device that does not snoop the CPU's caches. Without it a frame maps cached, which is
  // what a cache-coherent device (virtio, PCIe on x86-64 and QEMU virt) needs.
  kUncached = 2,
  kAll = 3,
};
constexpr FrameAttributes operator|(FrameAttributes a, FrameAttributes b) {
  return FrameAttributes(word(a) | word(b));
}
constexpr bool has_attributes(FrameAttributes have, FrameAttributes need) {
  return (word(have) & word(need)) == word(need);
}

// Invocation labels: what kCall on a kernel object's capability does. The message words are the
// arguments; capability arguments are capability addresses in the caller's CSpace.
enum class Invocation : word {
  // Untyped: (type, size_bits, dest_cnode, dest_slot, count[, attributes]). `attributes`
  // (FrameAttributes, default kNone) only for frames of RAM untyped: other bits, attributes on
  // another type, or on device untyped -> kInvalidArgument.
  kUntypedRetype = 1,
  // CNode (the invoked CNode is the destination):
  kCNodeCopy = 10,       // (dest_slot, src_cnode, src_slot, rights)
  kCNodeMint = 11,       // (dest_slot, src_cnode, src_slot, rights, badge)
  kCNodeMove = 12,       // (dest_slot, src_cnode, src_slot)
  kCNodeDelete = 13,     // (slot)
  kCNodeRevoke = 14,     // (slot)
  kCNodeSaveReply = 15,  // (dest_slot): moves the caller's pending reply capability there
  // Thread:
  kThreadConfigure = 20,     // (cspace_cnode, address_space, ipc_frame, ipc_vaddr, fault_endpoint)
  kThreadSetPriority = 21,   // (priority): at most the caller's own priority
  kThreadSetTimeslice = 22,  // (nanoseconds), at least kMinTimesliceNs
  kThreadWriteRegisters = 23,  // (ip, sp, arg)
  kThreadReadRegisters = 24,   // -> (state, ip, sp, reg[0..kRegisterCount))
  kThreadResume = 25,
  kThreadSuspend = 26,
  kThreadRestart = 27,           // (ip, sp, arg): cancel any IPC, fresh registers, resume
  kThreadBindNotification = 28,  // (notification)
  kThreadUnbindNotification = 29,
  // AddressSpace:
  kAddressSpaceMap = 40,    // (frame, vaddr, rights)
  kAddressSpaceUnmap = 41,  // (vaddr)
  // Frame:
  // -> (paddr, size): the bus address a device uses. Only a DMA frame (FrameAttributes::kDma)
  // answers; any other frame (device memory included) -> kIllegalOperation.
  kFramePhysicalAddress = 50,
  // IRQ:
  kIrqControlGet = 60,              // (line, dest_cnode, dest_slot)
  kIrqHandlerSetNotification = 61,  // (notification): its badge is signalled on each interrupt
  kIrqHandlerAck = 62,              // re-enables the line after an interrupt was handled
  kIrqHandlerClear = 63,
  // -> (address, data): the message a device writes to raise this line as a message-signalled
  // interrupt (PCI MSI/MSI-X). A line the back-end cannot signal by message: kIllegalOperation.
  kIrqHandlerMsiMessage = 64,
  // (deadline_ns): raise this line once when the kernel's clock reaches deadline_ns (0: cancel),
  // replacing an earlier deadline. Only a line that is a timer the kernel owns answers (AArch64:
  // the EL1 physical timer's line, the last one); any other line, and every line on x86-64 and
  // hosted -> kIllegalOperation. A handler without a notification -> kIllegalOperation.
  kIrqHandlerSetDeadline = 65,
  // IrqControl: () powers the machine off, where the kernel can (AArch64 under QEMU: semihosting
  // exit, status 33 = a normal power-off); elsewhere -> kIllegalOperation (x86-64's supervisor
  // writes QEMU's isa-debug-exit port through an IoPorts capability). IrqControl is the root
  // task's alone, so whoever it keeps it from cannot power off.
  kIrqControlPowerOff = 66,
  // IoPorts (a back-end without I/O ports returns kIllegalOperation). The capability covers the
  // ports [first, first + count); an access must lie inside it, width included.
  kIoPortsRead = 70,   // (port, width_bytes 1|2|4) -> (value); needs kRead
  kIoPortsWrite = 71,  // (port, width_bytes, value): the low width_bytes of value; needs kWrite
  kIoPortsIssue = 72,  // (first, count, dest_cnode, dest_slot): a child for a sub-range; kWrite
};

// ---------------------------------------------------------------------------------------------
// Threads, scheduling and faults.
// ---------------------------------------------------------------------------------------------
inline constexpr unsigned kPriorityLevels = 256;
inline constexpr word kMaxPriority = kPriorityLevels - 1;
inline constexpr std::uint64_t kDefaultTimesliceNs = 5'000'000;
inline constexpr std::uint64_t kMinTimesliceNs = 100'000;

enum class ThreadState : word {
  kInactive = 0,  // created or suspended; not schedulable
  kRunning = 1,   // running or ready
  kBlockedOnSend = 2,
  kBlockedOnRecv = 3,
  kBlockedOnReply = 4,  // in kCall, or waiting for its supervisor after a fault
  kBlockedOnNotification = 5,
};

enum class FaultKind : word {
  kCapability = 1,          // a capability address outside the CSpace; address = that address
  kInvalidSyscall = 2,      // unknown system-call number; address = that number
  kMemoryAccess = 3,        // access outside the thread's mappings; address = the address
  kArithmetic = 4,          // divide error
  kIllegalInstruction = 5,  // undefined or privileged instruction
  kProtection = 6,          // privileged operation (I/O port, hlt, ...) without the right
  kBreakpoint = 7,
  kAbort = 8,  // the thread called kAbort (or returned from its entry); address = code
};

// The fault message a faulting thread's fault endpoint receives (label kFaultLabel). The badge
// is that of the fault endpoint capability, which identifies the thread to its supervisor. The
// faulting thread waits for the reply: an empty reply resumes it where it stopped; the
// supervisor may instead restart it (kThreadRestart) or delete it.
struct FaultMessage {
  static constexpr std::size_t kWords = 3;
  FaultKind kind;
  word address;
  word instruction_pointer;
};

// Object sizes: retype takes size_bits for the variable-sized types; the others are fixed.
inline constexpr unsigned kMinUntypedBits = 4;
inline constexpr unsigned kMaxUntypedBits = 40;
inline constexpr unsigned kMinCNodeBits = 2;  // a CNode of 2^bits slots
inline constexpr unsigned kMaxCNodeBits = 16;

inline constexpr word kNoPhysical = ~word{0};

// The I/O port space of a back-end that has one (x86-64): ports 0 .. kIoPortCount-1.
inline constexpr word kIoPortCount = 0x10000;

// ---------------------------------------------------------------------------------------------
// The root task. The kernel makes it at boot and hands it every resource: its CSpace holds the
// capabilities below, and its first argument is the address of a read-only BootInfo page.
// ---------------------------------------------------------------------------------------------
inline constexpr word kRootCNodeSlot = 1;
inline constexpr word kRootThreadSlot = 2;
inline constexpr word kRootAddressSpaceSlot = 3;
inline constexpr word kIrqControlSlot = 4;
inline constexpr word kRootIpcFrameSlot = 5;
inline constexpr word kBootInfoFrameSlot = 6;
// All 65536 I/O ports, on a back-end that has them (x86-64); elsewhere the slot is empty.
inline constexpr word kIoPortsSlot = 7;
inline constexpr word kFirstUntypedSlot = 8;
inline constexpr unsigned kRootCNodeBits = 12;
inline constexpr std::size_t kMaxBootUntyped = 128;

struct BootInfo {
  // kAbiVersion of the kernel that wrote this page. It stays the first word in every version,
  // so any root task can read it before it trusts anything else here.
  word abi_version;
  struct Untyped {
    word paddr;
    word size_bits;
    // 1: device memory (a physical range that is not RAM, such as a device's registers). It can
    // only be retyped into frames and smaller device untyped (other types: kInvalidArgument); the
    // kernel never writes it (its frames are not zeroed, and cannot be IPC buffers), and maps those
    // frames uncached. Device entries follow the RAM ones.
    word is_device;
  };
  word first_free_slot;  // slots from here to 2^cnode_bits - 1 are empty
  word cnode_bits;
  word untyped_count;  // untyped[i] is in slot kFirstUntypedSlot + i (RAM, then device memory)
  word irq_lines;      // valid lines for kIrqControlGet: 0 .. irq_lines-1
  word page_size;
  // Boot modules (bare metal): the image's module archive, mapped read-only at modules_vaddr in
  // the root task's space (modules_size bytes; 0 and 0 when the image carries none). Its format
  // is ukernel/boot_modules.hpp.
  word modules_vaddr;
  word modules_size;
  // The PCI Express host bridge, for the root task's PCI server (ecam_size 0: none). Its ECAM
  // window and its memory windows are also device untyped entries, so the root task can grant
  // them; these fields say which entries they are and what the bridge does.
  struct PciHost {
    word ecam_paddr;  // configuration space, 1 MiB per bus from bus_first
    word ecam_size;
    word bus_first;
    word bus_last;
    // Where memory BARs lie: ranges the bridge forwards to PCI, CPU address = bus address.
    word mmio_paddr;  // below 4 GiB (32-bit BARs)
    word mmio_size;
    word mmio64_paddr;  // above 4 GiB (64-bit BARs); size 0: none
    word mmio64_size;
    // 1: firmware assigned the BARs before boot (x86-64 q35): the PCI server keeps them and
    // checks that they lie in the windows. 0 (AArch64 virt, hosted): it assigns them.
    word firmware_assigned;
  };
  PciHost pci;
  Untyped untyped[kMaxBootUntyped];
};

// Whether the kernel that wrote `info` speaks this header's ABI (boot_info() refuses it if not).
[[nodiscard]] constexpr bool abi_matches(const BootInfo& info) {
  return info.abi_version == kAbiVersion;
}

}  // namespace ukernel
