// The TCP figure of issue 10: bulk transfer between two instances of the stack
// (examples/net/stack) over the hosted simulated wire (ukernel/hosted/net_wire.hpp), on a test
// bus's virtual clock. Stack A connects to B's listener and sends 64 MiB; B reads and
// checks every byte. Nothing waits on real time: the figure is how fast the two stacks and the
// wire move data on this host's CPU (segmenting, checksums both ways, ACK processing, the wire's
// copies and event queue), not a link speed.
//
// Usage: net_bench [MiB] (64 by default; scripts/bench passes none).
//
// Figure, one line on stdout ("NAME VALUE UNIT"), the best of kRepetitions runs of the release
// build (scripts/bench): hosted.tcp.throughput_mib_s. The program never waits (virtual time), so
// its CPU time is its cost; that, not the wall clock, is measured, because on a shared machine
// the wall clock also counts the other processes. A run whose data does not match, or that does
// not finish, fails the program.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <span>

#include "stack/stack.hpp"
#include "ukernel/hosted/net_wire.hpp"
#include "virtio/test_bus.hpp"

using namespace ukernel;
using namespace ukernel::net;

namespace {

std::size_t g_transfer_bytes = std::size_t{64} << 20;  // argv[1] in MiB, for a quick check
constexpr int kRepetitions = 3;
constexpr std::uint64_t kNsPerMs = 1'000'000;
constexpr std::uint16_t kPort = 5001;

std::byte pattern_byte(std::size_t i) {
  return static_cast<std::byte>((i * 131 + (i >> 11)) & 0xff);
}

StackConfig config(int side) {
  StackConfig c;
  c.mac = {0x52, 0x54, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(side + 1)};
  c.address = ipv4(10, 0, 0, static_cast<std::uint8_t>(side + 1));
  c.netmask = ipv4(255, 255, 255, 0);
  c.isn_key[0] = static_cast<std::uint8_t>(side + 1);
  return c;
}

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// One transfer; returns the seconds it took, or a negative number if it failed.
double run_once() {
  virtio_test::TestBus bus(4096);
  hosted::NetWire wire(bus, 1);
  hosted::WirePeer end_a(wire, 0), end_b(wire, 1);
  auto pool_a = std::make_unique<TcpConnection[]>(2);
  auto pool_b = std::make_unique<TcpConnection[]>(2);
  Stack a(config(0), LinkRef(end_a), std::span(pool_a.get(), 2));
  Stack b(config(1), LinkRef(end_b), std::span(pool_b.get(), 2));
  const auto now_ms = [&] { return bus.now_ns() / kNsPerMs; };
  end_a.on_receive = [&](std::span<const std::byte> frame) { a.input(frame, now_ms()); };
  end_b.on_receive = [&](std::span<const std::byte> frame) { b.input(frame, now_ms()); };

  auto listener = b.tcp_listen(kPort, 1);
  auto client = a.tcp_connect(config(1).address, kPort, now_ms());
  if (!listener.ok() || !client.ok()) return -1;
  Result<TcpSocket> server{{}, NetError::kWouldBlock};
  std::array<std::byte, 16 * 1024> chunk{}, received{};
  std::size_t sent = 0, checked = 0;

  const double start = cpu_seconds();
  for (std::uint64_t steps = 0; checked < g_transfer_bytes; ++steps) {
    if (steps > 100'000'000 || now_ms() > 3'600'000) return -1;
    if (!server.ok()) server = b.tcp_accept(listener.value);
    while (sent < g_transfer_bytes) {
      const std::size_t length = std::min(chunk.size(), g_transfer_bytes - sent);
      for (std::size_t i = 0; i < length; ++i)
        chunk[i] = pattern_byte(sent + i);
      auto r = a.tcp_send(client.value, std::span(chunk).first(length), now_ms());
      if (!r.ok() && r.error != NetError::kWouldBlock && r.error != NetError::kNotConnected)
        return -1;
      if (!r.ok() || r.value == 0) break;
      sent += r.value;
    }
    while (server.ok()) {
      auto r = b.tcp_receive(server.value, received, now_ms());
      if (!r.ok() && r.error != NetError::kWouldBlock) return -1;
      if (!r.ok() || r.value == 0) break;
      for (std::size_t i = 0; i < r.value; ++i)
        if (received[i] != pattern_byte(checked + i)) return -1;
      checked += r.value;
    }
    // The next event: a frame arriving or a stack's timer.
    std::uint64_t next = bus.next_event_ns();
    for (const Stack* s : {&a, &b}) {
      const std::uint64_t due = s->next_deadline() * kNsPerMs;
      if (due != 0 && (next == 0 || due < next)) next = due;
    }
    if (next == 0) next = bus.now_ns() + kNsPerMs;
    bus.run_until(std::max(next, bus.now_ns()));
    a.poll(now_ms());
    b.poll(now_ms());
  }
  return cpu_seconds() - start;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    const long mib = std::strtol(argv[1], nullptr, 10);
    if (mib <= 0 || mib > 4096) {
      std::fprintf(stderr, "usage: net_bench [MiB, 1 to 4096; 64 by default]\n");
      return 2;
    }
    g_transfer_bytes = static_cast<std::size_t>(mib) << 20;
  }
  double best = 0;
  for (int i = 0; i < kRepetitions; ++i) {
    const double seconds = run_once();
    if (seconds <= 0) {
      std::fprintf(stderr, "net_bench: the transfer failed (data mismatch or no progress)\n");
      return 1;
    }
    if (best == 0 || seconds < best) best = seconds;
  }
  std::printf("hosted.tcp.throughput_mib_s %.1f MiB/s\n",
              static_cast<double>(g_transfer_bytes >> 20) / best);
  return 0;
}
