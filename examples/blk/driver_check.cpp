// Instantiates the virtio-blk driver core, the transport and the virtqueue with the flags every
// server gets (no exceptions, no RTTI, -Wconversion), for a window with ukernel::Mmio's members:
// the driver source must build as server code, not only inside the host tests.
#include "blk/virtio_blk.hpp"

namespace {

struct Window {
  volatile ukernel::word* base;
  ukernel::word read(ukernel::word offset, unsigned) const { return base[offset / 8]; }
  void write(ukernel::word offset, unsigned, ukernel::word value) const {
    base[offset / 8] = value;
  }
};

}  // namespace

template class virtio_blk::VirtioBlk<Window>;
template class ukernel::virtio::PciTransport<Window>;
template class ukernel::virtio::SplitQueue<256>;
