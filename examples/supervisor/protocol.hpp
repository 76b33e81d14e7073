// The supervisor's protocol: what servers and the shell ask the supervisor. A server's badge
// (its index in the description) tells the supervisor who is asking.
#pragma once

#include <array>

#include "ukernel/rpc.hpp"

namespace supervisor {

namespace rpc = ukernel::rpc;
using ukernel::word;

enum class State : word { kStarting, kRunning, kRestarting, kFailed, kStopped, kCount };

constexpr const char* state_name(State s) {
  switch (s) {
    case State::kStarting:
      return "starting";
    case State::kRunning:
      return "running";
    case State::kRestarting:
      return "restarting";
    case State::kFailed:
      return "failed";
    case State::kStopped:
      return "stopped";
    case State::kCount:
      break;
  }
  return "?";
}

struct Protocol {
  // The caller has registered its name and serves requests.
  using Ready = rpc::Method<1, void()>;
  // Returns once every server is ready (at once if the system is already up).
  using WaitUp = rpc::Method<2, void(), rpc::Semantics::kIdempotent>;
  // Server `index`: {State, restart count}. Errors: kInvalidArgument (no such server).
  using Status = rpc::Method<3, std::array<word, 2>(word), rpc::Semantics::kIdempotent>;
  // Stops server `index` for good (shell only). Errors: kInsufficientRights (not the shell),
  // kInvalidArgument (no such server, or the supervisor itself).
  using Kill = rpc::Method<4, void(word)>;
  // The test hook: the supervisor makes server `index` crash (used for the shell, which cannot
  // send itself a request). Shell only; errors as Kill.
  using Crash = rpc::Method<5, void(word)>;
  // Ends the system (on x86-64: QEMU exits with status 33); does not return where it works.
  // Shell only. Errors: kInsufficientRights (not the shell), kIllegalOperation (the back-end
  // has no power-off device: a hosted run ends when its input does).
  using PowerOff = rpc::Method<6, void()>;
  // The PCI host bridge (BootInfo::pci): {ecam_paddr, ecam_size, bus_first, bus_last,
  // mmio_paddr, mmio_size, mmio64_paddr, mmio64_size, firmware_assigned}. Only for the server
  // holding the kPciHost grant (others: kInsufficientRights).
  using PciHost = rpc::Method<7, std::array<word, 9>(), rpc::Semantics::kIdempotent>;
  using Methods = rpc::Methods<Ready, WaitUp, Status, Kill, Crash, PowerOff, PciHost>;
};

}  // namespace supervisor
