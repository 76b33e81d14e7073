// Test kit for TCP between the two stacks of a TwoStacks: open a connection, and move data
// both ways with the application's usual loop (send what fits, read what arrived, close when
// done).
#pragma once

#include <catch2/catch.hpp>

#include "net/wire.hpp"

namespace ukernel::net::test {

inline constexpr std::uint16_t kServerPort = 80;

struct Connection {
  TcpSocket client;  // on A
  TcpSocket server;  // on B
};

// Connect A to B's listener and accept; REQUIREs success within limit_ms of virtual time.
inline Connection open_connection(TwoStacks& net, TcpListener listener,
                                  std::uint64_t limit_ms = 60'000) {
  auto client = net.a.tcp_connect(kAddressB, kServerPort, net.now);
  REQUIRE(client.ok());
  Result<TcpSocket> server{{}, NetError::kWouldBlock};
  REQUIRE(net.run_until(
      [&] {
        if (!server.ok()) server = net.b.tcp_accept(listener);
        return server.ok() && net.a.tcp_state(client.value).value == TcpState::kEstablished;
      },
      limit_ms));
  return {client.value, server.ok() ? server.value : TcpSocket{}};
}

// One side's part of an exchange: send `out`, expect `in_length` bytes, close when both done.
struct Endpoint {
  Stack* stack;
  TcpSocket socket;
  Bytes out;
  std::size_t in_length = 0;
  std::size_t sent = 0;
  Bytes in{};
  bool closed = false;
  NetError failure = NetError::kOk;

  void pump(std::uint64_t now) {
    if (closed || failure != NetError::kOk) return;
    while (sent < out.size()) {
      auto r = stack->tcp_send(socket, std::span(out).subspan(sent), now);
      if (!r.ok()) {
        if (r.error != NetError::kWouldBlock) failure = r.error;
        break;
      }
      sent += r.value;
    }
    std::array<std::byte, 4096> buffer{};
    for (;;) {
      auto r = stack->tcp_receive(socket, buffer, now);
      if (!r.ok()) {
        if (r.error != NetError::kWouldBlock) failure = r.error;
        break;
      }
      if (r.value == 0) break;  // end of stream
      in.insert(in.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(r.value));
    }
    if (sent == out.size() && in.size() >= in_length) {
      REQUIRE(stack->tcp_close(socket, now) == NetError::kOk);
      closed = true;
    }
  }
};

// Run the exchange until both sides closed and every connection slot is free again (TIME_WAIT
// included); returns whether it finished within limit_ms.
inline bool exchange(TwoStacks& net, Endpoint& client, Endpoint& server, std::uint64_t limit_ms) {
  return net.run_until(
      [&] {
        client.pump(net.now);
        server.pump(net.now);
        return client.closed && server.closed && net.a.tcp_connections_in_use() == 0 &&
               net.b.tcp_connections_in_use() == 0;
      },
      limit_ms);
}

}  // namespace ukernel::net::test
