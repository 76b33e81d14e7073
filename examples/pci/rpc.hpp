// The PCI server's protocol (examples/pci/pci_server.cpp, docs/drivers.md "PCI").
//
// A client is known by its badge, its index in the system description; the function it may
// claim is the one its kPci grant names by identity (vendor, device). Nothing in a request
// names a function: a driver reaches only its own, so another function's BARs or configuration
// space cannot even be asked for. Badge 0 is the supervisor.
#pragma once

#include <array>

#include "ukernel/rpc.hpp"

namespace pci {

namespace rpc = ukernel::rpc;
using ukernel::word;

// What Claim returns.
struct ClaimInfo {
  word address = 0;                 // bus << 16 | device << 8 | function
  std::array<word, 6> bar_bytes{};  // each memory BAR's size (0: none, or an I/O BAR)
  word msix_capability = 0;         // its offset in configuration space; 0: none
  word msix_table_size = 0;
  word msix_table_bar = 0, msix_table_offset = 0;
  word msix_pba_bar = 0, msix_pba_offset = 0;
};

// Configuration-space offsets a driver may not write: the command and status registers (the server
// owns memory decoding and bus mastering), the BARs, the expansion ROM, and the bridge/bus numbers.
constexpr bool config_write_forbidden(word offset, word width) {
  auto touches = [&](word first, word bytes) {
    return offset < first + bytes && first < offset + width;
  };
  return touches(0x04, 4) || touches(0x10, 24) || touches(0x30, 4);
}

struct Protocol {
  // Claims the caller's function (its kPci grant): memory decoding and bus mastering on.
  // Claiming again (a restarted driver) is allowed. Errors: kInsufficientRights (no kPci grant),
  // kNotFound (no such function on the bus).
  using Claim = rpc::Method<1, ClaimInfo()>;
  // BAR `index` of the claimed function as a device frame of exactly the BAR (an untyped cannot
  // travel in a message; a frame of the BAR's size is the same memory). Errors:
  // kIllegalOperation (not claimed), kInvalidArgument (no memory BAR there).
  using Bar = rpc::Method<2, rpc::Capability(word)>;
  // The claimed function's configuration space: (offset, width 1/2/4) -> value; writes to the
  // command register, BARs or ROM are refused (kInsufficientRights). Errors: kIllegalOperation
  // (not claimed), kInvalidArgument (offset/width outside 4 KiB or misaligned).
  using ConfigRead = rpc::Method<3, word(word, word)>;
  using ConfigWrite = rpc::Method<4, void(word, word, word)>;
  // Supervisor only: bus mastering off for server `client`'s function (it crashed or stops).
  // Errors: kInsufficientRights (not the supervisor), kNotFound (it claimed nothing).
  using StopBusMaster = rpc::Method<5, void(word)>;
  using Methods = rpc::Methods<Claim, Bar, ConfigRead, ConfigWrite, StopBusMaster>;
};

}  // namespace pci

template <>
struct ukernel::rpc::Codec<pci::ClaimInfo> {
  static constexpr std::size_t kWords = 13;
  static constexpr std::size_t kCaps = 0;
  static void encode(const pci::ClaimInfo& c, word* out) {
    out[0] = c.address;
    for (std::size_t i = 0; i < 6; ++i)
      out[1 + i] = c.bar_bytes[i];
    out[7] = c.msix_capability;
    out[8] = c.msix_table_size;
    out[9] = c.msix_table_bar;
    out[10] = c.msix_table_offset;
    out[11] = c.msix_pba_bar;
    out[12] = c.msix_pba_offset;
  }
  static bool decode(const word* in, pci::ClaimInfo& c) {
    if (in[0] > 0xffffff || in[7] > 0xff || in[8] > 2048 || in[9] > 5 || in[11] > 5) return false;
    c.address = in[0];
    for (std::size_t i = 0; i < 6; ++i)
      c.bar_bytes[i] = in[1 + i];
    c.msix_capability = in[7];
    c.msix_table_size = in[8];
    c.msix_table_bar = in[9];
    c.msix_table_offset = in[10];
    c.msix_pba_bar = in[11];
    c.msix_pba_offset = in[12];
    return true;
  }
};
