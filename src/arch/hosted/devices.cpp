// The hosted console UART and timer (see include/ukernel/hosted/devices.hpp): two MMIO models,
// attached at kConsoleAddress and kTimerAddress by every Simulation, so a driver reaches them only
// through a device frame of their page (its grant), as on hardware.
//
// Both raise their interrupt lines through the simulation's event queue (the same queue
// Simulation::raise_irq feeds), so pending input or a programmed deadline is an event the idle
// path jumps to: a run never ends while either is still to come.
//
// Console input is paced like a serial line at 115200 baud: queued text goes out one byte every
// kInputByteNs, each byte raising the line when it arrives, and text queued while earlier text is
// still on the wire follows it. A driver therefore sees input at a rate it can keep up with, as on
// hardware, instead of a whole paste at once (which overflowed the console's input ring).
#include "ukernel/hosted/devices.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>

#include "state.hpp"
#include "ukernel/hosted/bus.hpp"

namespace ukernel::hosted {

namespace {

// 115200 baud, 10 bits a byte (start, 8 data, stop).
constexpr std::uint64_t kInputByteNs = 86'806;

struct Input {
  std::uint64_t at_ns;  // when bytes[0] arrives; byte i at at_ns + i * kInputByteNs
  std::string bytes;
};

struct Devices {
  std::deque<Input> input;         // in time order
  std::size_t input_offset = 0;    // bytes of input.front() already read
  std::uint64_t wire_free_ns = 0;  // when the last queued byte has arrived
  std::uint64_t closed_at_ns = ~std::uint64_t{0};
  std::string transcript;
  std::size_t kernel_console_seen = 0;
  bool echo = false;
  std::uint64_t deadline_ns = 0;
};

Devices g_devices;

// Inserts an interrupt event in time order (events at the same time keep their order).
void raise_at(unsigned line, std::uint64_t at_ns) {
  arch::schedule_event(arch::hosted(), at_ns, line);
}

void append(std::string_view text) {
  g_devices.transcript.append(text);
  if (g_devices.echo) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
}

// Moves what the kernel console gained since the last look into the transcript, so debug lines
// and console output stay in the order they were written.
void merge_kernel_console() {
  const std::string& kernel = arch::hosted().console;
  if (kernel.size() < g_devices.kernel_console_seen) g_devices.kernel_console_seen = 0;
  if (kernel.size() == g_devices.kernel_console_seen) return;
  append(std::string_view(kernel).substr(g_devices.kernel_console_seen));
  g_devices.kernel_console_seen = kernel.size();
}

bool input_ready(std::uint64_t now) {
  if (g_devices.input.empty()) return false;
  const Input& front = g_devices.input.front();
  return front.at_ns + g_devices.input_offset * kInputByteNs <= now;
}

word console_read(word offset) {
  std::uint64_t now = arch::hosted().now_ns;
  switch (ConsoleRegister(offset)) {
    case ConsoleRegister::kStatus:
      return (input_ready(now) ? kInputReady : 0) |
             (g_devices.input.empty() && now >= g_devices.closed_at_ns ? kInputClosed : 0);
    case ConsoleRegister::kData: {
      if (!input_ready(now)) return 0;
      Input& front = g_devices.input.front();
      auto byte = static_cast<unsigned char>(front.bytes[g_devices.input_offset++]);
      if (g_devices.input_offset == front.bytes.size()) {
        g_devices.input.pop_front();
        g_devices.input_offset = 0;
      }
      return byte;
    }
  }
  return 0;
}

void timer_arm(std::uint64_t deadline_ns) {
  arch::HostedState& s = arch::hosted();
  std::erase_if(s.events, [](const arch::Event& e) { return e.line == kTimerIrqLine; });
  g_devices.deadline_ns = deadline_ns;
  if (deadline_ns != 0) raise_at(kTimerIrqLine, deadline_ns > s.now_ns ? deadline_ns : s.now_ns);
}

word all_ones(unsigned width) {
  return width == 8 ? ~word{0} : (word{1} << (8 * width)) - 1;
}

// Each model has two registers of 8 bytes, read and written whole, as the drivers do; any other
// access is one the device does not decode: all ones, writes ignored (bus.hpp).
constexpr word kRegisterBytes = 8;
constexpr word kRegisterCount = 2;

bool whole_register(word offset, unsigned width) {
  return width == kRegisterBytes && offset % kRegisterBytes == 0 &&
         offset / kRegisterBytes < kRegisterCount;
}

class ConsoleModel final : public MmioDevice {
 public:
  word read(word offset, unsigned width) override {
    return whole_register(offset, width) ? console_read(offset) : all_ones(width);
  }
  void write(word offset, unsigned width, word value) override {
    if (!whole_register(offset, width) || ConsoleRegister(offset) != ConsoleRegister::kData) return;
    merge_kernel_console();
    char c = static_cast<char>(value);
    append(std::string_view(&c, 1));
  }
};

class TimerModel final : public MmioDevice {
 public:
  word read(word offset, unsigned width) override {
    if (!whole_register(offset, width)) return all_ones(width);
    return TimerRegister(offset) == TimerRegister::kNow ? arch::hosted().now_ns
                                                        : g_devices.deadline_ns;
  }
  void write(word offset, unsigned width, word value) override {
    if (whole_register(offset, width) && TimerRegister(offset) == TimerRegister::kDeadline)
      timer_arm(value);
  }
};

ConsoleModel g_console_model;
TimerModel g_timer_model;

}  // namespace

bool attach_platform_devices() {
  return attach_device(kConsoleAddress, kPageBytes, g_console_model) &&
         attach_device(kTimerAddress, kPageBytes, g_timer_model);
}

void reset_devices() {
  bool echo = g_devices.echo;
  g_devices = Devices{};
  g_devices.echo = echo;
}

void console_input(std::string_view bytes, std::uint64_t at_ns) {
  if (bytes.empty()) return;
  std::uint64_t start = std::max({at_ns, arch::hosted().now_ns, g_devices.wire_free_ns});
  g_devices.input.push_back(Input{start, std::string(bytes)});
  for (std::size_t i = 0; i < bytes.size(); ++i)
    raise_at(kConsoleIrqLine, start + i * kInputByteNs);
  g_devices.wire_free_ns = start + bytes.size() * kInputByteNs;
}

std::uint64_t console_input_done_ns() {
  return g_devices.wire_free_ns;
}

void console_close_input(std::uint64_t at_ns) {
  g_devices.closed_at_ns = std::max(at_ns, g_devices.wire_free_ns);
  raise_at(kConsoleIrqLine, g_devices.closed_at_ns);
}

const std::string& console_transcript() {
  merge_kernel_console();
  return g_devices.transcript;
}

void console_echo(bool on) {
  g_devices.echo = on;
}

}  // namespace ukernel::hosted
