// The console UART as the console driver sees it, on the hosted back-end: the simulated device's
// registers (include/ukernel/hosted/devices.hpp), in the page the description grants the console
// ("uart": mmio(...)), mapped at kRegistersAddress. (On x86-64 the same class reads and writes the
// 16550's I/O ports.)
#pragma once

#include "system/runtime.hpp"
#include "ukernel/hosted/devices.hpp"

namespace system_example {

using ukernel::word;

class Uart {
 public:
  // Maps the granted registers; once per instance, before any other call.
  static void attach(Runtime& runtime) {
    auto window = runtime.map_mmio("uart", kRegistersAddress);
    if (!window.ok()) fail("console: cannot map the UART's registers");
    registers_ = window.value();
  }
  static bool input_ready() {
    return (registers_.read64(word(Register::kStatus)) & ukernel::hosted::kInputReady) != 0;
  }
  static char read() { return static_cast<char>(registers_.read64(word(Register::kData))); }
  static void write(char c) {
    registers_.write64(word(Register::kData), static_cast<unsigned char>(c));
  }

 private:
  using Register = ukernel::hosted::ConsoleRegister;
  static constexpr word kRegistersAddress = 0x30000000;
  static inline ukernel::Mmio registers_;
};

}  // namespace system_example
