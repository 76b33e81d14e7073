// The control protocol every server of the example system answers besides its own: a ping
// (the supervisor restarts a server that stops answering) and a deliberate crash for tests.
#pragma once

#include "layout.hpp"
#include "ukernel/rpc.hpp"

namespace system_example {

namespace rpc = ukernel::rpc;

struct Control {
  // Answers with the number of pings served by this instance.
  using Ping = rpc::Method<0x100, word(), rpc::Semantics::kIdempotent>;
  // Faults with a null-pointer dereference in the server's own code. Accepted only from the
  // shell and the supervisor (badge 0); others get kInsufficientRights.
  using Crash = rpc::Method<0x101, void()>;
  // Stops answering anything, for good: the supervisor's ping watchdog must notice. Accepted
  // as Crash is.
  using Hang = rpc::Method<0x102, void()>;
  using Methods = rpc::Methods<Ping, Crash, Hang>;

  static constexpr bool owns(word label) {
    return label == Ping::kId || label == Crash::kId || label == Hang::kId;
  }
};

// A real null-pointer dereference. The pointer is read from memory (the compiler cannot turn
// the store into a trap instruction) and UBSan's null check is off here, so the fault is the
// hardware's: FaultKind::kMemoryAccess at address 0.
inline int* volatile g_null_pointer = nullptr;
[[gnu::noinline, gnu::no_sanitize("undefined")]] inline void crash_now() {
  *g_null_pointer = 1;
}

class ControlServer : public rpc::Server<ControlServer, Control> {
 public:
  rpc::Result<word> handle(Control::Ping) { return ++pings_; }
  rpc::Result<void> handle(Control::Crash) {
    if (!trusted()) return ukernel::Error::kInsufficientRights;
    crash_now();
    return {};
  }
  rpc::Result<void> handle(Control::Hang) {
    if (!trusted()) return ukernel::Error::kInsufficientRights;
    for (;;)
      (void)ukernel::wait(kNotificationSlot);  // takes every signal, answers nothing
  }

 private:
  bool trusted() const { return badge() == kShellIndex || badge() == kSupervisorIndex; }
  word pings_ = 0;
};

}  // namespace system_example
