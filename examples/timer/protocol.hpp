// The timer service's protocol: the time, and wake-ups delivered as notifications (IPC has no
// timeouts, so a client that wants to wait with a limit waits on its notification instead).
#pragma once

#include <cstdint>

#include "ukernel/rpc.hpp"

namespace timer {

namespace rpc = ukernel::rpc;

struct Protocol {
  // Nanoseconds since boot.
  using Now = rpc::Method<1, std::uint64_t(), rpc::Semantics::kIdempotent>;
  // Signals `notification` once, `delay_ns` from now; replaces the caller's previous wake-up
  // (one per client, told apart by badge). Returns the time now. Errors: kInvalidArgument (no
  // capability), kNotEnoughMemory (too many clients).
  using Wake =
      rpc::Method<2, std::uint64_t(rpc::Capability, std::uint64_t), rpc::Semantics::kIdempotent>;
  using Methods = rpc::Methods<Now, Wake>;
};

}  // namespace timer
