// Simulated devices of the hosted back-end (a console UART and a one-shot timer), and its
// device window: the physical address map, attaching device models, the machine's Bus.
//
// A bare-metal driver reaches its device through I/O ports or MMIO. A hosted driver reaches a
// device model attached to the device window (below) the same way, through a device frame and
// ukernel::Mmio: the console and the timer are MMIO models at kConsoleAddress and kTimerAddress,
// attached by every Simulation, so only a thread that holds a frame of their page (the example
// system grants it with mmio(...)) can touch them; anything else faults with kMemoryAccess. Each
// device raises an interrupt line as real hardware would, through the simulation's event queue,
// so a driver waits for it with an IrqHandler and a notification exactly as on hardware.
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

class MmioDevice;  // ukernel/hosted/bus.hpp
class Bus;

// --- the hosted machine's physical address map ---------------------------------------------
// RAM starts at 0x100000 (arch::Machine::kPhysicalBase) and must end below the device window.
// A thread reaches a model attached in the device window only through a device frame mapped in
// its space (ukernel/mmio.hpp); the frames come from the device untyped of kDeviceRegions.
inline constexpr word kDeviceWindowBase = 0xc000'0000;
inline constexpr word kDeviceWindowBytes = 0x2000'0000;  // 512 MiB: one device untyped block
// The fixed platform devices, one page each (kPageBytes).
inline constexpr word kPageBytes = 0x1000;
inline constexpr word kConsoleAddress = 0xc000'0000;
inline constexpr word kTimerAddress = 0xc000'1000;
// Free for device models' register windows (PCI BARs and the like).
inline constexpr word kDeviceBarBase = 0xc100'0000;
inline constexpr word kDeviceBarBytes = 0x0f00'0000;
// A PCIe ECAM window (buses 0-255, 1 MiB each), at the top of the device window.
inline constexpr word kEcamAddress = 0xd000'0000;
inline constexpr word kEcamBytes = 0x1000'0000;
// What BootInfo lists as device untyped, one entry (or more aligned blocks) each, after the RAM:
// each fixed device's page on its own, so that its frame is the block's first, then the BAR area
// and the ECAM window (a driver carves frames from the start of a block, in order).
struct DeviceRegion {
  word base;
  word bytes;
};
inline constexpr DeviceRegion kDeviceRegions[] = {
    {kConsoleAddress, 0x1000},
    {kTimerAddress, 0x1000},
    {kDeviceBarBase, kDeviceBarBytes},
    {kEcamAddress, kEcamBytes},
};

// The MSI doorbell (as on x86): a model's Bus::msi write of data = line to this address raises
// that interrupt line. Not memory, and outside the device window.
inline constexpr word kMsiAddress = 0xfee0'0000;

// --- device models on the machine's bus (host side) -----------------------------------------
// Attaches `device` to the physical range [base, base + bytes) of the device window; false (and
// nothing changes) if the range is empty, not inside the window, or overlaps another attached
// model. Attachments belong to the current Simulation: attach after constructing it.
[[nodiscard]] bool attach_device(word base, word bytes, MmioDevice& device);
// Detaches the model attached at `base`; false if none is.
bool detach_device(word base);
// The machine's Bus, through which models reach RAM (DMA), the virtual clock and the interrupt
// controller. Its events are the current Simulation's.
Bus& machine_bus();
// How many MSI writes the bus dropped (a wrong address or a line that does not exist), each
// also logged on stderr.
std::uint64_t dropped_msis();

// Interrupt lines of the devices.
inline constexpr unsigned kConsoleIrqLine = 4;
inline constexpr unsigned kTimerIrqLine = 2;

// Console registers: offsets in its page, 8 bytes each, read and written whole (any other access
// reads all ones and is ignored). Reading kData takes the next input byte (0 if none); writing it
// prints one byte. kStatus has kInputReady while input bytes are waiting, kInputClosed once no
// more will come (end of the script or of stdin). The line is raised whenever new input arrives.
enum class ConsoleRegister : word { kStatus = 0, kData = 8 };
inline constexpr word kInputReady = 1;
inline constexpr word kInputClosed = 2;

// Timer registers, in its page, as the console's. kNow reads the virtual clock (ns). Writing
// kDeadline (absolute ns; 0 to disarm) raises the line once at that time, replacing any earlier
// deadline.
enum class TimerRegister : word { kNow = 0, kDeadline = 8 };

// --- the host's side --------------------------------------------------------------------------
// Attaches the console and timer models at their pages; every Simulation does so when it is
// constructed (false if something already sits there).
[[nodiscard]] bool attach_platform_devices();
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
