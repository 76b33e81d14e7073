// Typed capabilities: each kernel object type has a small value class whose methods are its
// system calls and invocations. They hold only the capability address, so they cost nothing:
// each method is the one inline system call from ukernel/syscall.hpp.
//
//   Endpoint server{slot};
//   Message request = server.recv();
//   Notification irq{other};
//   (void)irq.signal();
//
// Error codes are documented on the functions in syscall.hpp and in docs/kernel.md.
#pragma once

#include "ukernel/syscall.hpp"

namespace ukernel {

class Capability {
 public:
  constexpr Capability() = default;
  constexpr explicit Capability(word address) : address_(address) {}
  constexpr word address() const { return address_; }
  constexpr bool null() const { return address_ == 0; }
  friend constexpr bool operator==(Capability, Capability) = default;

 private:
  word address_ = 0;
};

class Endpoint : public Capability {
 public:
  using Capability::Capability;
  [[nodiscard]] Error send(const Message& m) const { return ukernel::send(address(), m); }
  [[nodiscard]] Error try_send(const Message& m) const { return ukernel::try_send(address(), m); }
  [[nodiscard]] Message recv() const { return ukernel::recv(address()); }
  [[nodiscard]] Message try_recv() const { return ukernel::try_recv(address()); }
  [[nodiscard]] Message call(const Message& m) const { return ukernel::call(address(), m); }
  [[nodiscard]] Message reply_recv(const Message& m) const {
    return ukernel::reply_recv(address(), m);
  }
};

class Notification : public Capability {
 public:
  using Capability::Capability;
  [[nodiscard]] Error signal() const { return ukernel::signal(address()); }
  // The bits are in .badge.
  [[nodiscard]] Message wait() const { return ukernel::wait(address()); }
  [[nodiscard]] Message poll() const { return ukernel::poll(address()); }
};

class CNode : public Capability {
 public:
  using Capability::Capability;
  [[nodiscard]] Error copy(word dest, CNode from, word src, Rights rights) const {
    return cnode_copy(address(), dest, from.address(), src, rights);
  }
  [[nodiscard]] Error mint(word dest, CNode from, word src, Rights rights, word badge) const {
    return cnode_mint(address(), dest, from.address(), src, rights, badge);
  }
  [[nodiscard]] Error move(word dest, CNode from, word src) const {
    return cnode_move(address(), dest, from.address(), src);
  }
  [[nodiscard]] Error remove(word slot) const { return cnode_delete(address(), slot); }
  [[nodiscard]] Error revoke(word slot) const { return cnode_revoke(address(), slot); }
  [[nodiscard]] Error save_reply(word dest) const { return cnode_save_reply(address(), dest); }
};

class Untyped : public Capability {
 public:
  using Capability::Capability;
  [[nodiscard]] Error retype(ObjectType type, unsigned size_bits, CNode into, word slot,
                             word count = 1) const {
    return ukernel::retype(address(), type, size_bits, into.address(), slot, count);
  }
  // Frames of 2^size_bits bytes (each physically contiguous) with `attributes`: kDma for a
  // device's buffers, kUncached for one that does not snoop caches. Device untyped, or
  // attributes outside FrameAttributes::kAll: kInvalidArgument.
  [[nodiscard]] Error retype_frames(unsigned size_bits, FrameAttributes attributes, CNode into,
                                    word slot, word count = 1) const {
    return ukernel::retype(address(), ObjectType::kFrame, size_bits, into.address(), slot, count,
                           attributes);
  }
};

class Frame : public Capability {
 public:
  using Capability::Capability;
  // .words[0] = the bus (physical) address a device uses, .words[1] = size. Only a DMA frame
  // answers (FrameAttributes::kDma); any other frame: kIllegalOperation. Needs kRead.
  [[nodiscard]] Message physical_address() const {
    return invoke(address(), Invocation::kFramePhysicalAddress);
  }
};

class AddressSpace : public Capability {
 public:
  using Capability::Capability;
  [[nodiscard]] Error map(Frame frame, word vaddr, Rights rights) const {
    return map_frame(address(), frame.address(), vaddr, rights);
  }
  [[nodiscard]] Error unmap(word vaddr) const { return unmap_frame(address(), vaddr); }
};

class Thread : public Capability {
 public:
  using Capability::Capability;
  [[nodiscard]] Error configure(CNode cspace, AddressSpace space, Frame ipc_frame, word ipc_vaddr,
                                Endpoint fault_endpoint) const {
    return thread_configure(address(), cspace.address(), space.address(), ipc_frame.address(),
                            ipc_vaddr, fault_endpoint.address());
  }
  [[nodiscard]] Error set_priority(word priority) const {
    return thread_set_priority(address(), priority);
  }
  [[nodiscard]] Error set_timeslice(word ns) const { return thread_set_timeslice(address(), ns); }
  [[nodiscard]] Error write_registers(word ip, word sp, word arg) const {
    return thread_write_registers(address(), ip, sp, arg);
  }
  [[nodiscard]] Message read_registers() const { return thread_read_registers(address()); }
  [[nodiscard]] Error resume() const { return thread_resume(address()); }
  [[nodiscard]] Error suspend() const { return thread_suspend(address()); }
  [[nodiscard]] Error restart(word ip, word sp, word arg) const {
    return thread_restart(address(), ip, sp, arg);
  }
  [[nodiscard]] Error bind(Notification n) const {
    return thread_bind_notification(address(), n.address());
  }
  [[nodiscard]] Error unbind() const { return thread_unbind_notification(address()); }
};

class IrqHandler : public Capability {
 public:
  using Capability::Capability;
  [[nodiscard]] Error set_notification(Notification n) const {
    return irq_set_notification(address(), n.address());
  }
  [[nodiscard]] Error ack() const { return irq_ack(address()); }
  // One interrupt at the kernel clock's `deadline_ns` (0: none), for a line that is a kernel
  // timer (AArch64's last line); any other line: kIllegalOperation (abi.hpp).
  [[nodiscard]] Error set_deadline(std::uint64_t deadline_ns) const {
    return irq_set_deadline(address(), deadline_ns);
  }
  [[nodiscard]] Error clear() const {
    return invoke(address(), Invocation::kIrqHandlerClear).status;
  }
  // .words[0] = the address and .words[1] = the data a device writes to raise this line by
  // message (program them into its MSI or MSI-X table entry). A line the back-end cannot
  // signal by message: kIllegalOperation.
  [[nodiscard]] Message msi_message() const {
    return invoke(address(), Invocation::kIrqHandlerMsiMessage);
  }
};

class IrqControl : public Capability {
 public:
  using Capability::Capability;
  [[nodiscard]] Error get(word line, CNode into, word slot) const {
    return irq_control_get(address(), line, into.address(), slot);
  }
  // Ends the machine (AArch64 under QEMU); kIllegalOperation where the kernel cannot.
  [[nodiscard]] Error power_off() const { return irq_control_power_off(address()); }
};

// A range of I/O ports (x86-64). A read gives the value, or 0 and the error in `status`.
class IoPorts : public Capability {
 public:
  using Capability::Capability;
  struct ReadResult {
    word value;
    Error status;
    bool ok() const { return status == Error::kOk; }
  };
  [[nodiscard]] ReadResult read8(word port) const { return read(port, 1); }
  [[nodiscard]] ReadResult read16(word port) const { return read(port, 2); }
  [[nodiscard]] ReadResult read32(word port) const { return read(port, 4); }
  [[nodiscard]] Error write8(word port, std::uint8_t value) const {
    return io_ports_write(address(), port, 1, value);
  }
  [[nodiscard]] Error write16(word port, std::uint16_t value) const {
    return io_ports_write(address(), port, 2, value);
  }
  [[nodiscard]] Error write32(word port, std::uint32_t value) const {
    return io_ports_write(address(), port, 4, value);
  }
  // A capability for ports [first, first + count) in `slot` of `into`, derived from this one.
  [[nodiscard]] Error issue(word first, word count, CNode into, word slot) const {
    return io_ports_issue(address(), first, count, into.address(), slot);
  }

 private:
  ReadResult read(word port, word width) const {
    Message m = io_ports_read(address(), port, width);
    return {m.ok() ? m.words[0] : 0, m.status};
  }
};

// The root task's own capabilities (docs/kernel.md, "The root task").
namespace root_task {
inline constexpr CNode kCNode{kRootCNodeSlot};
inline constexpr Thread kThread{kRootThreadSlot};
inline constexpr AddressSpace kAddressSpace{kRootAddressSpaceSlot};
inline constexpr IrqControl kIrqControl{kIrqControlSlot};
inline constexpr IoPorts kIoPorts{kIoPortsSlot};  // empty on a back-end without I/O ports
}  // namespace root_task

}  // namespace ukernel
