// The ECAM host bridge (see include/ukernel/hosted/ecam.hpp).
#include "ukernel/hosted/ecam.hpp"

namespace ukernel::hosted {

void EcamHostBridge::add_function(unsigned bus, unsigned device, unsigned function,
                                  PciFunction& model) {
  const word at = (word{bus} << 20) | (word{device & 31} << 15) | (word{function & 7} << 12);
  functions_[at] = &model;
}

PciFunction* EcamHostBridge::find(word offset) const {
  if (offset >= window_bytes()) return nullptr;
  const auto it = functions_.find(offset & ~word{PciFunction::kConfigBytes - 1});
  return it == functions_.end() ? nullptr : it->second;
}

word EcamHostBridge::read(word offset, unsigned width) {
  const word all_ones = width >= 8 ? ~word{0} : (word{1} << (8 * width)) - 1;
  PciFunction* function = find(offset);
  if (function == nullptr) return all_ones;
  const word inside = offset & (PciFunction::kConfigBytes - 1);
  // Configuration accesses are at most 32 bits wide; a 64-bit access is two of them.
  if (width == 8)
    return function->config_read(inside, 4) | (function->config_read(inside + 4, 4) << 32);
  return function->config_read(inside, width);
}

void EcamHostBridge::write(word offset, unsigned width, word value) {
  PciFunction* function = find(offset);
  if (function == nullptr) return;
  const word inside = offset & (PciFunction::kConfigBytes - 1);
  const std::vector<DecodedBar> before = function->decoded_bars();
  if (width == 8) {
    function->config_write(inside, 4, value & 0xffffffff);
    function->config_write(inside + 4, 4, value >> 32);
  } else {
    function->config_write(inside, width, value);
  }
  if (!router_) return;
  const std::vector<DecodedBar> after = function->decoded_bars();
  const auto same = [](const DecodedBar& a, const DecodedBar& b) {
    return a.index == b.index && a.base == b.base && a.size == b.size;
  };
  for (const DecodedBar& old_bar : before) {
    bool kept = false;
    for (const DecodedBar& new_bar : after)
      kept = kept || same(old_bar, new_bar);
    if (!kept) router_(old_bar, false);
  }
  for (const DecodedBar& new_bar : after) {
    bool existed = false;
    for (const DecodedBar& old_bar : before)
      existed = existed || same(old_bar, new_bar);
    if (!existed) router_(new_bar, true);
  }
}

}  // namespace ukernel::hosted
