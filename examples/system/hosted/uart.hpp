// The console UART as the console driver sees it, on the hosted back-end: the simulated
// device's registers. (On x86-64 the same class reads and writes the 16550's I/O ports.)
#pragma once

#include "ukernel/hosted/devices.hpp"

namespace system_example {

using ukernel::word;

class Uart {
 public:
  static bool input_ready() { return (status() & ukernel::hosted::kInputReady) != 0; }
  static char read() {
    return static_cast<char>(
        ukernel::hosted::device_read(kDevice, word(ukernel::hosted::ConsoleRegister::kData)));
  }
  static void write(char c) {
    ukernel::hosted::device_write(kDevice, word(ukernel::hosted::ConsoleRegister::kData),
                                  static_cast<unsigned char>(c));
  }

 private:
  static constexpr auto kDevice = ukernel::hosted::Device::kConsole;
  static word status() {
    return ukernel::hosted::device_read(kDevice, word(ukernel::hosted::ConsoleRegister::kStatus));
  }
};

}  // namespace system_example
