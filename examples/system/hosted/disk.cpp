// The hosted example system's disk; see disk.hpp.
#include "disk.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ukernel/hosted/devices.hpp"

namespace system_example {

using ukernel::word;
namespace hosted = ukernel::hosted;

HostedDisk::HostedDisk(const std::string& path, const hosted::VirtioBlkModel::Options& options) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  struct stat st {};
  if (fd_ < 0 || fstat(fd_, &st) != 0) {
    error_ = "cannot open disk image " + path + ": " + std::strerror(errno);
    return;
  }
  if (st.st_size < 512) {
    error_ = "disk image " + path + " is smaller than one sector";
    return;
  }
  model_ = std::make_unique<hosted::VirtioBlkModel>(fd_, word(st.st_size) / 512, options);
  function_ = std::make_unique<hosted::VirtioPciFunction>(hosted::machine_bus(), *model_,
                                                          hosted::VirtioPciFunction::Options{});
  bridge_.add_function(0, 1, 0, function_->pci());
  bridge_.set_router([](const hosted::DecodedBar& bar, bool attach) {
    if (attach) {
      if (!hosted::attach_device(bar.base, bar.size, *bar.device))
        std::fprintf(stderr, "disk: cannot route BAR %u at %#lx\n", bar.index,
                     static_cast<unsigned long>(bar.base));
    } else {
      (void)hosted::detach_device(bar.base);
    }
  });
}

HostedDisk::~HostedDisk() {
  if (attached_) {
    for (const hosted::DecodedBar& bar : function_->pci().decoded_bars())
      (void)hosted::detach_device(bar.base);
    (void)hosted::detach_device(hosted::kEcamAddress);
  }
  if (fd_ >= 0) ::close(fd_);
}

bool HostedDisk::attach() {
  attached_ = error_.empty() &&
              hosted::attach_device(hosted::kEcamAddress, bridge_.window_bytes(), bridge_);
  return attached_;
}

}  // namespace system_example
