// Untyped memory and retype: the only way kernel objects come into being.
//
// An untyped capability covers 2^size_bits bytes of physical memory and a watermark. Retype
// carves objects at the watermark (each aligned to its size) and puts their capabilities into
// empty slots as children of the untyped capability. Once every child is gone (revoke), the
// watermark resets and the memory is used afresh. A server can only create objects from the
// untyped memory it was given, so no server can exhaust kernel memory for the others.
//
// Device untyped (Cap::device, from BootConfig::device_regions) covers a device's registers
// rather than RAM: it retypes only into frames, which are never zeroed and map uncached.
// Frames of RAM may be made with FrameAttributes: kDma (their bus address can be asked for) and
// kUncached (mapped uncached).
#pragma once

#include "core/cap.hpp"

namespace ukernel::core {

// Size in bytes of an object of `type`; 0 if the type cannot be retyped or size_bits is out of
// range for it.
word object_size(ObjectType type, unsigned size_bits);

Error invoke_untyped(Slot& untyped, word label, Thread& caller);

// Makes one object of `type` at `paddr` (zeroed) and returns its capability. An untyped or frame
// of device memory (`device`) is not touched, and its capability carries the flag; a frame
// carries its `attributes` (DMA, uncached).
Cap create_object(ObjectType type, word paddr, unsigned size_bits, bool device = false,
                  FrameAttributes attributes = FrameAttributes::kNone);

}  // namespace ukernel::core
