// The one error type of the TCP/IP stack's calls, and the Result that carries a value or one.
#pragma once

#include <cstdint>

namespace ukernel::net {

enum class NetError : std::uint8_t {
  kOk,
  kBadSocket,        // not a live socket of this stack (never opened, closed, or stale)
  kInvalidArgument,  // port 0, an empty buffer where one is needed, a datagram over the MTU
  kPortInUse,        // another socket or listener holds the port
  kNoResources,      // every slot of the pool this call needs is in use (limits: docs/network.md)
  kWouldBlock,       // nothing to receive or accept now, or no buffer space to send into
  kNotConnected,     // a stream call on a connection not yet (or no longer) established
  kClosing,          // send after close, or on a connection whose sending side is shut
  kReset,            // the peer reset the connection
  kTimedOut,         // retransmissions ran out (the peer vanished)
  kRefused,          // the peer answered a connect with a reset
};

template <typename T>
struct Result {
  T value{};
  NetError error = NetError::kOk;
  [[nodiscard]] bool ok() const { return error == NetError::kOk; }
};

}  // namespace ukernel::net
