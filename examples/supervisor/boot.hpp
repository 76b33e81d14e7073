// The root task's first job: make every server of the description (system.hpp) with the
// capabilities it lists, and start it from its image. The supervisor keeps what it made here
// (ServerCaps) to restart servers later.
#pragma once

#include "supervisor/device_memory.hpp"
#include "system/layout.hpp"

namespace supervisor {

using system_example::kServerCount;
using ukernel::Error;
using ukernel::ObjectType;
using ukernel::Rights;
using ukernel::word;

class Boot;

// Where a server's thread starts: `ip` 0 if its image could not be loaded; `sp` 0 where the
// back-end gives threads their stacks (hosted fibers).
struct Entry {
  word ip = 0;
  word sp = 0;
};

// Loads a fresh copy of server `index`'s image (fresh globals) into its address space
// (`boot.caps(index).space`) and says where to start it; ip 0 after a log line saying why not.
using ImageLoader = Entry (*)(Boot& boot, std::size_t index);

// What the root task holds of one server, as slots of its own CSpace.
struct ServerCaps {
  word thread = 0;
  word cnode = 0;
  word space = 0;
  word endpoint = 0;      // the original; revoked and remade on restart
  word notification = 0;  // unbadged
  word names = 0;         // the name service, badged as this server (to register it again)
  word timer_wake = 0;    // its notification, badged kTimerBit (wake-ups may have been lost)
};

class Boot {
 public:
  Boot(word boot_info_address, ImageLoader loader);

  // Makes every server and its grants. False after logging which entry could not be made.
  [[nodiscard]] bool make_all();
  // Starts (or restarts) server `index` from a fresh copy of its image.
  [[nodiscard]] bool start(std::size_t index);
  // A new endpoint for server `index`, in the slot of the old one and in the server's CSpace.
  [[nodiscard]] Error renew_endpoint(std::size_t index);
  // Empties the slots the server's own code used, so a restart finds them as at first start.
  void clear_free_slots(std::size_t index);

  // A thread in the root task's CSpace and address space, started at entry(arg).
  [[nodiscard]] word spawn(word entry, word arg, word priority);

  word make(ObjectType type, unsigned size_bits = 0);
  word mint(word source, Rights rights, word badge);
  word slot() { return next_slot_++; }

  const ServerCaps& caps(std::size_t index) const { return caps_[index]; }
  word names_endpoint() const { return names_endpoint_; }
  word supervisor_endpoint() const { return supervisor_endpoint_; }
  // The device untyped BootInfo lists, carved into grants (mmio(...) grants are carved first).
  DeviceMemory& device_memory() { return device_memory_; }
  // The supervisor's capability for the power-off device (0: the back-end has none).
  word power_off_ports() const { return power_off_ports_; }
  // The PCI host bridge as the kernel reported it (BootInfo::pci), for the PCI server.
  const ukernel::BootInfo::PciHost& pci() const { return pci_; }
  // The server holding the kPciHost grant (kServerCount: none).
  std::size_t pci_server() const { return pci_server_; }

 private:
  [[nodiscard]] bool make_server(std::size_t index);
  [[nodiscard]] bool carve_mmio();
  [[nodiscard]] bool make_grants(std::size_t index);
  bool fail(std::size_t index, std::string_view what, Error e);
  static bool wired_in_description(word line);
  bool fail_grant(std::size_t index, std::size_t grant, std::string_view what, Error e);

  ImageLoader loader_;
  DeviceMemory device_memory_;
  word untyped_ = 0;
  word next_slot_ = 0;
  word irq_lines_ = 0;
  word next_root_vaddr_ = system_example::Platform::kRootThreadArea;
  word names_endpoint_ = 0;
  word supervisor_endpoint_ = 0;
  word power_off_ports_ = 0;
  ukernel::BootInfo::PciHost pci_{};
  word ecam_untyped_ = 0;
  // The 32-bit BAR window's device untyped blocks, in address order (layout.hpp's rule).
  word pci_window_blocks_[system_example::kPciWindowSlots] = {};
  word pci_window_block_count_ = 0;
  std::size_t pci_server_ = kServerCount;
  ServerCaps caps_[kServerCount];
  word region_frames_[system_example::kSystem.regions.size()] = {};
  // The device untyped of each mmio(...) grant, until make_grants moves it to its server.
  word mmio_untyped_[kServerCount][sysdesc::kMaxGrants] = {};
};

}  // namespace supervisor
