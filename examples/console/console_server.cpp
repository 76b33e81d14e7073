// The console driver: prints what clients queue in the shared output ring on the UART, and moves
// typed input into the shell's input ring, signalling the shell.
//
// Restart: the rings live in a region the system owns, so a fresh console finds them as its
// predecessor left them and prints whatever was still queued: output is never lost. Input the
// UART delivered while no console ran may be lost (the log says so when a console restarts).
#include "console/protocol.hpp"
#include "system/runtime.hpp"
#include "uart.hpp"

using namespace system_example;

// Only the planted image's build defines it (examples/system/CMakeLists.txt); every other build
// of this file, on every back-end, gets the console without the bug.
#ifndef UKERNEL_PLANTED_RACE
#define UKERNEL_PLANTED_RACE 0
#endif

namespace {

// The planted race (docs/fuzzing.md): 0 in the console the system runs. Only the separate image
// planted/system_console.so, which `ukernel-dst --planted` loads to show that the fault campaign
// finds, shrinks and replays a restart race, is compiled with 1.
constexpr bool kPlantedRace = UKERNEL_PLANTED_RACE != 0;
constexpr std::size_t kPlantedCommitBytes = 256;

constexpr word kIrqSlot = grant_slot(kConsoleIndex, "uart-irq");
constexpr word kIrqBit = irq_bit(kIrqSlot - kFirstGrantSlot);
constexpr word kInputReadySlot = grant_slot(kConsoleIndex, "input-ready");
constexpr word kRingsAddress = grant(kConsoleIndex, "rings").first;

class ConsoleServer : public rpc::Server<ConsoleServer, console::Protocol> {
 public:
  explicit ConsoleServer(console::Rings& rings) : rings_(rings) {}

  rpc::Result<void> handle(console::Protocol::Flush) {
    drain();
    return {};
  }

  void drain() {
    char c;
    if constexpr (kPlantedRace) {
      // THE PLANTED BUG: bytes are printed from the ring in place, and their slots are given
      // back (the shared index the shell reads is written) only once 256 bytes have been printed.
      // The printed-but-not-given-back count lives in this instance only, so a console
      // restarted in between prints those bytes again: the acknowledgment of printed output is
      // lost with the instance that printed it. The console above (pop, then write) has no
      // such window.
      while (rings_.out.peek(printed_, c) == ukernel::RingStatus::kOk) {
        Uart::write(c);
        ++printed_;
      }
      if (printed_ >= kPlantedCommitBytes &&
          rings_.out.discard(printed_) == ukernel::RingStatus::kOk)
        printed_ = 0;
    } else {
      while (rings_.out.pop(c) == ukernel::RingStatus::kOk)
        Uart::write(c);
    }
    if (rings_.out.corrupt() && !reported_corrupt_) {
      log("console: the output ring's indices are corrupt; output stops");
      reported_corrupt_ = true;
    }
  }

  // Moves what the UART has into the input ring and tells the shell.
  void read_input() {
    bool any = false;
    while (Uart::input_ready()) {
      char c = Uart::read();
      if (rings_.in.push(c) != ukernel::RingStatus::kOk) ++dropped_;
      any = true;
    }
    if (any) (void)ukernel::signal(kInputReadySlot);
    if (dropped_ != 0) {
      log("console: input ring full, {} bytes dropped", dropped_);
      dropped_ = 0;
    }
  }

 private:
  console::ConsoleSide rings_;
  word dropped_ = 0;
  bool reported_corrupt_ = false;
  std::size_t printed_ = 0;  // the planted race: printed, slots not yet given back
};

// The rings, made by the first console to start.
console::Rings& attach_rings(bool& restarted) {
  auto* rings = static_cast<console::Rings*>(
      ukernel::arch::user_pointer(kRingsAddress, sizeof(console::Rings)));
  if (rings == nullptr) fail("console: the rings region is not mapped");
  restarted = rings->ready();
  if (!restarted) {
    console::OutputRing::create(rings->output);
    console::InputRing::create(rings->input);
    rings->magic.store(console::Rings::kMagic, std::memory_order_release);
  }
  return *rings;
}

}  // namespace

extern "C" void ukernel_image_main(word index) {
  Runtime runtime(index);
  Uart::attach(runtime);
  bool restarted = false;
  ConsoleServer server(attach_rings(restarted));
  if (restarted) log("console: restarted; input typed while it was down may be lost");
  server.drain();  // what the previous instance did not print
  // Acknowledge before reading, here and below: on an edge-triggered line (a PC's ISA
  // interrupts) an edge while the line is masked is lost, and input arriving after the last read
  // would wait for good. The line may still be masked from the previous instance.
  (void)ukernel::irq_ack(kIrqSlot);
  server.read_input();
  runtime.announce();
  runtime.serve(server, 0, [&](word bits) {
    if ((bits & kIrqBit) != 0) {
      (void)ukernel::irq_ack(kIrqSlot);
      server.read_input();
    }
  });
}
