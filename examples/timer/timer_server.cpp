// The timer service: the time, and one-shot wake-ups delivered as notifications. It keeps one
// deadline per client (clients are told apart by badge) and programs the timer device for the
// earliest; the device's interrupt wakes it to signal whoever is due.
//
// Restart loses the pending wake-ups; a client whose wake-up may have been lost asks again
// (the supervisor's ticker does so when the timer reports ready).
#include "clock.hpp"
#include "system/runtime.hpp"
#include "timer/protocol.hpp"

using namespace system_example;

namespace {

constexpr word kIrqSlot = grant_slot(kTimerIndex, "timer-irq");
constexpr word kIrqBit = irq_bit(kIrqSlot - kFirstGrantSlot);

class TimerServer : public rpc::Server<TimerServer, timer::Protocol> {
 public:
  explicit TimerServer(word first_client_slot) : first_slot_(first_client_slot) {}

  rpc::Result<std::uint64_t> handle(timer::Protocol::Now) { return Clock::now_ns(); }

  rpc::Result<std::uint64_t> handle(timer::Protocol::Wake, rpc::Capability notification,
                                    std::uint64_t delay_ns) {
    word client = badge();
    if (client >= kServerCount) return Error::kNotEnoughMemory;
    word slot = first_slot_ + client;
    (void)ukernel::cnode_delete(kSelfCNodeSlot, slot);
    if (Error e = ukernel::cnode_move(kSelfCNodeSlot, slot, kSelfCNodeSlot, notification.address);
        e != Error::kOk)
      return e;
    std::uint64_t now = Clock::now_ns();
    deadlines_[client] = now + delay_ns;
    program();
    return now;
  }

  // Signals every client that is due, then programs the next deadline.
  void fire() {
    std::uint64_t now = Clock::now_ns();
    for (word client = 0; client < kServerCount; ++client) {
      if (deadlines_[client] != 0 && deadlines_[client] <= now) {
        deadlines_[client] = 0;
        (void)ukernel::signal(first_slot_ + client);
      }
    }
    program();
  }

 private:
  void program() {
    std::uint64_t next = 0;
    for (std::uint64_t d : deadlines_) {
      if (d != 0 && (next == 0 || d < next)) next = d;
    }
    Clock::set_deadline(next);
  }

  word first_slot_;
  std::uint64_t deadlines_[kServerCount] = {};
};

}  // namespace

extern "C" void ukernel_image_main(word index) {
  Runtime runtime(index);
  Clock::attach(runtime);
  word window = runtime.capability_window();
  TimerServer server(runtime.capability_window(kServerCount));
  Clock::set_deadline(0);
  (void)ukernel::irq_ack(kIrqSlot);
  runtime.announce();
  runtime.serve(server, window, [&](word bits) {
    if ((bits & kIrqBit) != 0) {
      // Acknowledge before programming the next deadline: on an edge-triggered line (the PC's
      // PIT) a deadline that passes while the line is masked would be lost.
      (void)ukernel::irq_ack(kIrqSlot);
      server.fire();
    }
  });
}
