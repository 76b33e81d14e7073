// Simulated devices of the hosted back-end: a console UART and a one-shot timer.
//
// A bare-metal driver reaches its device through I/O ports or MMIO; a hosted driver calls
// device_read / device_write, the hosted analogue of an `in`/`out` instruction. Each device
// raises an interrupt line as real hardware would, through the simulation's event queue, so a
// driver waits for it with an IrqHandler and a notification exactly as on hardware.
//
// The host program (not the simulated system) feeds console input and collects the output:
// input arrives at virtual times (a script) or "now" (an interactive stdin), and the output
// transcript also carries the kernel console, in the order both were written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ukernel/abi.hpp"

namespace ukernel::hosted {

// Device numbers: what a system description grants a hosted driver (device("uart", ...)).
enum class Device : word { kConsole = 0, kTimer = 1, kCount = 2 };

// Interrupt lines of the devices.
inline constexpr unsigned kConsoleIrqLine = 4;
inline constexpr unsigned kTimerIrqLine = 2;

// Console registers. Reading kData takes the next input byte (0 if none); writing it prints one
// byte. kStatus has kInputReady while input bytes are waiting, kInputClosed once no more will
// come (end of the script or of stdin). The line is raised whenever new input arrives.
enum class ConsoleRegister : word { kStatus = 0, kData = 1 };
inline constexpr word kInputReady = 1;
inline constexpr word kInputClosed = 2;

// Timer registers. kNow reads the virtual clock (ns). Writing kDeadline (absolute ns; 0 to
// disarm) raises the line once at that time, replacing any earlier deadline.
enum class TimerRegister : word { kNow = 0, kDeadline = 1 };

// --- the driver's side (server code) --------------------------------------------------------
// An unknown device or register reads 0 and ignores writes.
word device_read(Device device, word reg);
void device_write(Device device, word reg, word value);

// --- the host's side --------------------------------------------------------------------------
// Forgets all device state (input, output, deadline); call before each Simulation.
void reset_devices();
// Queues console input that starts to arrive at virtual time `at_ns`, or when the input queued
// before it has arrived, if later: paced like a 115200-baud serial line, one byte about every
// 87 us, each raising the line.
void console_input(std::string_view bytes, std::uint64_t at_ns);
// When the last byte queued so far arrives (0 if none was queued).
std::uint64_t console_input_done_ns();
// No input after `at_ns` (or after the last queued byte, if later).
void console_close_input(std::uint64_t at_ns);
// Everything the console printed, merged in order with the kernel console's debug lines.
const std::string& console_transcript();
// Also copy the transcript to stdout as it grows (the interactive system does).
void console_echo(bool on);

}  // namespace ukernel::hosted
