// A PCI function's configuration space as a hosted device model sees it (host side).
//
// PciFunction models a type-0 header (PCI Local Bus 3.0, 6.1): read-only identity (vendor,
// device, class, revision, subsystem), the command register (memory decoding, bus mastering,
// INTx disable are writable; the rest reads 0), the status register (capabilities-list bit),
// six BAR slots with the size-probing protocol (writing all ones reads back the size mask; the
// low bits say memory, 32/64-bit, prefetchable), the capability list built by
// add_capability(), and the MSI-X capability's enable and function-mask bits.
//
// A function does not decode addresses itself: whoever routes bus addresses (the ECAM host
// bridge, and through it the machine) asks decoded_bars() after a configuration write, and a
// BAR is decoded only while the command register's memory-space bit is set and the BAR holds an
// assigned address. Each BAR names the MmioDevice that models its registers.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "ukernel/abi.hpp"
#include "ukernel/hosted/bus.hpp"

namespace ukernel::hosted {

struct PciIdentity {
  std::uint16_t vendor = 0;
  std::uint16_t device = 0;
  std::uint8_t revision = 0;
  std::uint8_t class_code = 0;
  std::uint8_t subclass = 0;
  std::uint8_t programming_interface = 0;
  std::uint16_t subsystem_vendor = 0;
  std::uint16_t subsystem = 0;
  std::uint8_t interrupt_pin = 1;  // INTA#
};

// A BAR range the function decodes now.
struct DecodedBar {
  unsigned index = 0;
  word base = 0;
  word size = 0;
  MmioDevice* device = nullptr;
};

class PciFunction {
 public:
  static constexpr std::size_t kConfigBytes = 4096;  // PCI Express extended space

  explicit PciFunction(const PciIdentity& identity);

  // A memory BAR of `size` bytes (a power of two, at least 16) at slot `index`; a 64-bit BAR
  // takes slots index and index + 1. Its registers are `device`.
  void add_memory_bar(unsigned index, word size, bool is_64bit, MmioDevice& device);
  // Appends a capability with ID `id` and the bytes after its ID and next pointer; returns its
  // offset in configuration space.
  word add_capability(std::uint8_t id, const std::vector<std::uint8_t>& body);
  // Adds an MSI-X capability for `entries` vectors with its table and PBA in BAR `bar`.
  word add_msix_capability(unsigned entries, unsigned bar, word table_offset, word pba_offset);

  // Configuration accesses (offset naturally aligned, width 1, 2 or 4). Outside the space:
  // all ones, writes ignored.
  word config_read(word offset, unsigned width) const;
  void config_write(word offset, unsigned width, word value);

  std::uint16_t command() const;
  // The command register after each write that touched it, in order (tests check that bus
  // mastering went off before a driver was restarted).
  const std::vector<std::uint16_t>& command_writes() const { return command_writes_; }
  bool msix_enabled() const;
  bool msix_function_masked() const;
  std::vector<DecodedBar> decoded_bars() const;

  // The raw bytes, for tests that corrupt a function to check a driver refuses it.
  std::array<std::uint8_t, kConfigBytes>& raw() { return bytes_; }

 private:
  struct Bar {
    word size = 0;  // 0: not implemented
    bool is_64bit = false;
    bool upper_half = false;  // the second slot of a 64-bit BAR
    word address = 0;         // as assigned (the whole 64-bit address in the lower slot)
    MmioDevice* device = nullptr;
  };

  word bar_register(unsigned index) const;
  void write_bar(unsigned index, std::uint32_t value);
  void store(word offset, unsigned width, word value);

  std::array<std::uint8_t, kConfigBytes> bytes_{};
  std::array<Bar, 6> bars_{};
  word last_capability_ = 0;
  word next_capability_at_ = 0x40;
  word msix_capability_ = 0;
  std::vector<std::uint16_t> command_writes_;
};

}  // namespace ukernel::hosted
