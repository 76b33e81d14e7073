// A PCI Express host bridge with an ECAM window (host side).
//
// The ECAM window maps every function's 4 KiB configuration space at
// (bus << 20) | (device << 15) | (function << 12) (PCI Express Base 4.0, 7.2.2). A slot with
// no function reads as all ones (vendor 0xffff: "nothing here") and ignores writes, as on
// hardware. After each configuration write the bridge compares what the function decodes
// (memory-space bit and assigned BARs) with before and calls the router to detach the ranges
// that went away and attach the new ones: the machine routes them to the function's register
// models (its attach API is the machine's), a test routes them itself.
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "ukernel/abi.hpp"
#include "ukernel/hosted/bus.hpp"
#include "ukernel/hosted/pci_function.hpp"

namespace ukernel::hosted {

class EcamHostBridge final : public MmioDevice {
 public:
  static constexpr word kBytesPerBus = word{1} << 20;

  // `attach` true: route [bar.base, bar.base + bar.size) to bar.device; false: stop routing it.
  using Router = std::function<void(const DecodedBar& bar, bool attach)>;

  explicit EcamHostBridge(unsigned buses = 1) : buses_(buses) {}

  // `function` outlives the bridge. Bus < buses, device < 32, function < 8.
  void add_function(unsigned bus, unsigned device, unsigned function, PciFunction& model);
  void set_router(Router router) { router_ = std::move(router); }
  word window_bytes() const { return kBytesPerBus * buses_; }

  word read(word offset, unsigned width) override;
  void write(word offset, unsigned width, word value) override;

 private:
  PciFunction* find(word offset) const;

  unsigned buses_;
  std::map<word, PciFunction*> functions_;  // by ECAM offset of the function's space
  Router router_;
};

}  // namespace ukernel::hosted
