// The stack against an independent TCP/IP implementation: Debian's lwIP (lwip_peer.hpp) on the
// other end of the simulated wire, both on the test bus's virtual clock. ARP and ICMP echo both
// ways; lwIP connecting to our listener and our stack connecting to lwIP's, 1 MiB each way;
// the same over a wire with seeded loss, duplication and reordering, which repeats exactly.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "net/lwip_peer.hpp"
#include "net/tcp_harness.hpp"
#include "virtio/test_bus.hpp"

using namespace ukernel;
using namespace ukernel::net;
using namespace ukernel::net::test;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr std::uint16_t kLwipPort = 8080;

// Our stack (A) on end 0 of the wire, lwIP (as B: kAddressB, kMacB) on end 1.
class LwipRig {
 public:
  static constexpr std::uint64_t kNsPerMs = 1'000'000;
  static constexpr std::uint64_t kMaxSteps = 10'000'000;  // a stuck clock fails, never hangs

  explicit LwipRig(std::uint64_t seed = 1, hosted::WireFaults faults = {})
      : bus_(4096),
        wire(bus_, seed, faults),
        ours(wire, 0),
        pool_(std::make_unique<TcpConnection[]>(8)),
        a(config_for(0), LinkRef(ours), std::span(pool_.get(), 8)),
        lwip(wire, 1, bus_, {kMacB, kAddressB, ipv4(255, 255, 255, 0)},
             static_cast<unsigned>(seed)) {
    ours.on_receive = [this](std::span<const std::byte> frame) { a.input(frame, now_ms()); };
  }

  std::uint64_t now_ms() const { return bus_.now_ns() / kNsPerMs; }
  std::uint64_t now_ns() const { return bus_.now_ns(); }

  // Advance to the next event: a frame arriving, a timer of our stack or of lwIP.
  void step() {
    std::uint64_t next = 0;
    const auto consider = [&](std::uint64_t t) {
      if (t != 0 && (next == 0 || t < next)) next = t;
    };
    consider(bus_.next_event_ns());
    consider(a.next_deadline() * kNsPerMs);
    consider(lwip.next_deadline_ns());
    if (next == 0) next = bus_.now_ns() + kNsPerMs;
    bus_.run_until(std::max(next, bus_.now_ns()));
    a.poll(now_ms());
    lwip.poll();
    ++steps;
  }
  bool run_until(const std::function<bool()>& done, std::uint64_t limit_ms) {
    const std::uint64_t end = now_ms() + limit_ms;
    while (!done()) {
      if (now_ms() >= end || steps >= kMaxSteps) return false;
      step();
    }
    return true;
  }

 private:
  virtio_test::TestBus bus_;

 public:
  hosted::NetWire wire;
  hosted::WirePeer ours;

 private:
  std::unique_ptr<TcpConnection[]> pool_;

 public:
  Stack a;
  LwipPeer lwip;
  std::uint64_t steps = 0;
};

// Both directions of one connection, our end `ours_end` and lwIP's transfer, until both sides
// closed and our slot is free again (TIME_WAIT included).
bool run_exchange(LwipRig& rig, Endpoint& ours_end, std::uint64_t limit_ms) {
  return rig.run_until(
      [&] {
        ours_end.pump(rig.now_ms());
        rig.lwip.pump();
        const auto& t = rig.lwip.transfer();
        return ours_end.closed && t.closed && t.peer_closed && rig.a.tcp_connections_in_use() == 0;
      },
      limit_ms);
}

void check_clean(const Stack& stack) {
  const Counters& c = stack.counters();
  CHECK(c.eth_dropped_short == 0);
  CHECK(c.ip_dropped_checksum == 0);
  CHECK(c.tcp_dropped_checksum == 0);
  CHECK(c.tcp_dropped_options == 0);
  CHECK(c.tcp_dropped_invalid == 0);
  CHECK(c.tcp_dropped_bad_ack == 0);
  CHECK(c.tcp_resets_received == 0);
  CHECK(c.tcp_resets_sent == 0);
  CHECK(stack.check_invariants() == nullptr);
}

// lwIP connects to our listener; `size` bytes each way. Returns our stack's socket's end.
Endpoint lwip_to_ours(LwipRig& rig, std::size_t size, std::uint64_t limit_ms) {
  auto listener = rig.a.tcp_listen(kServerPort, 4);
  REQUIRE(listener.ok());
  rig.lwip.transfer().out = pattern(size, 11);
  rig.lwip.transfer().in_length = size;
  REQUIRE(rig.lwip.connect(kAddressA, kServerPort));
  Result<TcpSocket> accepted{{}, NetError::kWouldBlock};
  REQUIRE(rig.run_until(
      [&] {
        accepted = rig.a.tcp_accept(listener.value);
        return accepted.ok();
      },
      10'000));
  Endpoint end{&rig.a, accepted.value, pattern(size, 12), size};
  REQUIRE(run_exchange(rig, end, limit_ms));
  return end;
}

}  // namespace

TEST_CASE("lwIP's timers run on the virtual clock", "[net][lwip]") {
  LwipRig rig;
  rig.lwip.start_probe_timer(500);
  const std::uint64_t start = rig.now_ns();
  REQUIRE(rig.run_until([&] { return rig.lwip.probe_fired_ns != 0; }, 2'000));
  // Exactly 500 virtual milliseconds later, though far less real time passed.
  CHECK(rig.lwip.probe_fired_ns - start == 500 * LwipRig::kNsPerMs);
}

TEST_CASE("ARP and ICMP echo between our stack and lwIP", "[net][lwip]") {
  LwipRig rig;
  // Our stack pings lwIP: ARP first (lwIP answers), then the echo.
  REQUIRE(rig.a.ping(kAddressB, 0x4242, 1, 56, rig.now_ms()) == NetError::kOk);
  Result<EchoReply> reply{{}, NetError::kWouldBlock};
  REQUIRE(rig.run_until(
      [&] {
        reply = rig.a.take_echo_reply();
        return reply.ok();
      },
      5'000));
  CHECK(reply.value.from == kAddressB);
  CHECK(reply.value.identifier == 0x4242);
  CHECK(reply.value.sequence == 1);
  CHECK(rig.a.counters().arp_requests_sent == 1);
  CHECK(rig.a.counters().icmp_echo_replies_received == 1);
  const auto learned = rig.a.arp().lookup(kAddressB, rig.now_ms());
  REQUIRE(learned.has_value());
  CHECK(*learned == kMacB);
  // lwIP learned our MAC from our request.
  MacAddress mac{};
  REQUIRE(rig.lwip.arp_lookup(kAddressA, mac));
  CHECK(mac == kMacA);

  // lwIP pings our stack, several sizes.
  for (std::uint16_t sequence = 1; sequence <= 3; ++sequence)
    REQUIRE(rig.lwip.ping(kAddressA, 0x1717, sequence, 100u * sequence));
  REQUIRE(rig.run_until([&] { return rig.lwip.echo_replies.size() == 3; }, 5'000));
  for (std::uint16_t sequence = 1; sequence <= 3; ++sequence) {
    const auto& r = rig.lwip.echo_replies[sequence - 1u];
    CHECK(r.from == kAddressA);
    CHECK(r.identifier == 0x1717);
    CHECK(r.sequence == sequence);
    CHECK(r.length == 100u * sequence);
  }
  CHECK(rig.a.counters().icmp_echo_requests_received == 3);
  CHECK(rig.a.counters().icmp_echo_replies_sent == 3);
  CHECK(rig.a.counters().icmp_dropped_malformed == 0);
  // The peer refuses an echo that would not fit the MTU unfragmented.
  CHECK_FALSE(rig.lwip.ping(kAddressA, 1, 1, 1500));
  check_clean(rig.a);
}

TEST_CASE("lwIP connects to our listener: 1 MiB each way, byte-exact", "[net][lwip]") {
  LwipRig rig;
  const Endpoint end = lwip_to_ours(rig, kMiB, 300'000);
  const auto& t = rig.lwip.transfer();
  CHECK(end.failure == NetError::kOk);
  CHECK(t.error == 0);
  CHECK(end.in.size() == kMiB);
  CHECK(end.in == t.out);
  CHECK(t.in.size() == kMiB);
  CHECK(t.in == end.out);
  CHECK(rig.a.counters().tcp_connections_opened == 1);
  CHECK(rig.a.counters().tcp_retransmit_timeouts == 0);
  // lwIP's side ends cleanly too (LAST_ACK, or its TIME_WAIT of 2 x 60 s).
  REQUIRE(rig.run_until([&] { return rig.lwip.connection_released(); }, 300'000));
  CHECK(rig.wire.stats().refused == 0);
  CHECK(rig.lwip.frames_refused == 0);
  check_clean(rig.a);
}

TEST_CASE("our stack connects to an lwIP listener: 1 MiB each way, byte-exact", "[net][lwip]") {
  LwipRig rig;
  REQUIRE(rig.lwip.listen(kLwipPort));
  CHECK_FALSE(rig.lwip.listen(kLwipPort));  // one listener per peer
  rig.lwip.transfer().out = pattern(kMiB, 21);
  rig.lwip.transfer().in_length = kMiB;
  auto client = rig.a.tcp_connect(kAddressB, kLwipPort, rig.now_ms());
  REQUIRE(client.ok());
  // lwIP accepts when our ACK of its SYN-ACK arrives, a wire latency after we are established.
  REQUIRE(rig.run_until(
      [&] {
        return rig.a.tcp_state(client.value).value == TcpState::kEstablished &&
               rig.lwip.transfer().connected;
      },
      10'000));
  // lwIP's MSS option (1460, Debian's TCP_MSS) was taken.
  CHECK(rig.a.tcp_connection(client.value)->mss == 1460);
  Endpoint end{&rig.a, client.value, pattern(kMiB, 22), kMiB};
  REQUIRE(run_exchange(rig, end, 300'000));
  const auto& t = rig.lwip.transfer();
  CHECK(end.failure == NetError::kOk);
  CHECK(t.error == 0);
  CHECK(end.in == t.out);
  CHECK(t.in == end.out);
  check_clean(rig.a);
}

TEST_CASE("our stack refused by lwIP: a closed port answers with a reset", "[net][lwip]") {
  LwipRig rig;
  auto client = rig.a.tcp_connect(kAddressB, 9, rig.now_ms());
  REQUIRE(client.ok());
  REQUIRE(rig.run_until([&] { return rig.a.tcp_state(client.value).value == TcpState::kClosed; },
                        10'000));
  std::array<std::byte, 16> buffer{};
  CHECK(rig.a.tcp_receive(client.value, buffer, rig.now_ms()).error == NetError::kRefused);
  CHECK(rig.a.counters().tcp_resets_received == 1);
}

namespace {

struct LossyOutcome {
  std::uint64_t trace = 0, lost = 0, duplicated = 0, retransmitted = 0, timeouts = 0,
                fast_retransmits = 0, out_of_order = 0, finished_ms = 0;
  bool exact = false;
};

// 1 MiB each way, lwIP connecting to us, over a wire that loses 3%, duplicates 1% and reorders
// 5% of frames (seeded).
LossyOutcome lossy_run(std::uint64_t seed) {
  LwipRig rig(seed, {.loss_percent = 3, .duplicate_percent = 1, .reorder_percent = 5});
  const Endpoint end = lwip_to_ours(rig, kMiB, 1'200'000);
  const auto& t = rig.lwip.transfer();
  const Counters& c = rig.a.counters();
  LossyOutcome o;
  o.exact = end.failure == NetError::kOk && t.error == 0 && end.in == t.out && t.in == end.out;
  o.trace = rig.wire.trace();
  o.lost = rig.wire.stats().lost;
  o.duplicated = rig.wire.stats().duplicated;
  o.retransmitted = c.tcp_retransmitted_segments;
  o.timeouts = c.tcp_retransmit_timeouts;
  o.fast_retransmits = c.tcp_fast_retransmits;
  o.out_of_order = c.tcp_out_of_order_kept;
  o.finished_ms = rig.now_ms();
  CHECK(rig.a.check_invariants() == nullptr);
  return o;
}

// lwIP is one per process and keeps counters (its ISN generator, its port allocator) across
// peers, so runs that must repeat exactly each run in a child forked from the same state.
LossyOutcome lossy_run_in_child(std::uint64_t seed) {
  int pipe_ends[2];
  REQUIRE(pipe(pipe_ends) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(pipe_ends[0]);
    int code = 2;  // a failed REQUIRE in the child: its report is on stderr
    try {
      const LossyOutcome o = lossy_run(seed);
      code = write(pipe_ends[1], &o, sizeof o) == static_cast<ssize_t>(sizeof o) ? 0 : 1;
    } catch (...) {
    }
    _exit(code);
  }
  close(pipe_ends[1]);
  LossyOutcome o;
  const ssize_t got = read(pipe_ends[0], &o, sizeof o);
  close(pipe_ends[0]);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(got == static_cast<ssize_t>(sizeof o));
  return o;
}

}  // namespace

TEST_CASE("lwIP over a lossy, reordering wire: byte-exact, retransmitted, repeatable",
          "[net][lwip]") {
  const LossyOutcome first = lossy_run_in_child(7);
  WARN("lost " << first.lost << ", retransmitted " << first.retransmitted << ", timeouts "
               << first.timeouts << ", fast " << first.fast_retransmits << ", finished at "
               << first.finished_ms << " ms");
  CHECK(first.exact);
  CHECK(first.lost > 0);
  CHECK(first.duplicated > 0);
  CHECK(first.retransmitted > 0);
  CHECK(first.timeouts + first.fast_retransmits > 0);
  CHECK(first.out_of_order > 0);
  // The same seed, the same frames: lwIP included, nothing depends on real time.
  const LossyOutcome second = lossy_run_in_child(7);
  CHECK(second.trace == first.trace);
  CHECK(second.retransmitted == first.retransmitted);
  CHECK(second.finished_ms == first.finished_ms);
  const LossyOutcome other = lossy_run_in_child(8);
  CHECK(other.exact);
  CHECK(other.trace != first.trace);
}
