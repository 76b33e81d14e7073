// The hosted example system's disk (ukernel-system --disk IMG): an ECAM host bridge at
// kEcamAddress with one modern virtio-blk function (00:01.0) backed by the image file, its
// BARs routed to the machine's device window as the PCI server assigns them. Host side.
#pragma once

#include <memory>
#include <string>

#include "ukernel/hosted/ecam.hpp"
#include "ukernel/hosted/virtio_blk_model.hpp"
#include "ukernel/hosted/virtio_pci.hpp"

namespace system_example {

class HostedDisk {
 public:
  // Opens `path` read-write (a whole number of 512-byte sectors is used). Empty error() on
  // success.
  explicit HostedDisk(const std::string& path,
                      const ukernel::hosted::VirtioBlkModel::Options& options = {});
  ~HostedDisk();
  HostedDisk(const HostedDisk&) = delete;
  HostedDisk& operator=(const HostedDisk&) = delete;

  const std::string& error() const { return error_; }
  // Attaches the bridge to the current Simulation's device window (after constructing it).
  [[nodiscard]] bool attach();

  ukernel::hosted::VirtioBlkModel& model() { return *model_; }
  ukernel::hosted::VirtioPciFunction& function() { return *function_; }

 private:
  int fd_ = -1;
  bool attached_ = false;
  std::string error_;
  ukernel::hosted::EcamHostBridge bridge_;
  std::unique_ptr<ukernel::hosted::VirtioBlkModel> model_;
  std::unique_ptr<ukernel::hosted::VirtioPciFunction> function_;
};

}  // namespace system_example
