// libFuzzer target: arbitrary frames into the TCP/IP stack's input path (docs/network.md).
//
// Each input is a sequence of records: one byte choosing the stack (bit 0) and how far the clock
// moves before the frame (bits 1-7, in units of 64 ms), two bytes of length, then the frame.
// Two stacks start with an established connection between them, a listener and a UDP socket,
// so that frames reach every state; after each frame both stacks run their timers and the
// stack's invariants must hold. The fuzzer also finds crashes, leaks and undefined behaviour
// (ASan and UBSan).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "net/wire.hpp"

using namespace ukernel::net;
using namespace ukernel::net::test;

namespace {

void require_invariants(const Stack& stack) {
  if (const char* broken = stack.check_invariants()) {
    std::fprintf(stderr, "invariant broken: %s\n", broken);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  TwoStacks net(1, {}, 4, 4);
  auto listener = net.b.tcp_listen(80, 2);
  auto udp = net.b.udp_bind(53);
  auto client = net.a.tcp_connect(kAddressB, 80, 0);
  if (!listener.ok() || !udp.ok() || !client.ok()) std::abort();
  net.run_until([&] { return net.b.tcp_accept(listener.value).ok(); }, 1000);
  const Bytes hello = pattern(3000, 1);
  (void)net.a.tcp_send(client.value, hello, net.now);

  std::size_t at = 0;
  while (at + 3 <= size) {
    const std::uint8_t control = data[at];
    const std::size_t length =
        std::min<std::size_t>((std::size_t{data[at + 1]} << 8) | data[at + 2], size - at - 3);
    const auto* frame = reinterpret_cast<const std::byte*>(data + at + 3);
    at += 3 + length;
    net.now += static_cast<std::uint64_t>(control >> 1) * 64;
    Stack& target = (control & 1) != 0 ? net.b : net.a;
    target.input(std::span(frame, length), net.now);
    net.a.poll(net.now);
    net.b.poll(net.now);
    require_invariants(net.a);
    require_invariants(net.b);
  }
  return 0;
}
