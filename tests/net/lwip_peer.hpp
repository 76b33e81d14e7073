// An independent TCP/IP implementation on the simulated wire: Debian's lwIP (liblwip-dev 2.1.3)
// as a test peer for the stack, on the test's virtual clock.
//
// How this works. Debian builds lwIP for the Hurd's socket server: NO_SYS=0 with core locking,
// and its timers normally run in lwIP's own tcpip thread on CLOCK_MONOTONIC. This peer never
// starts that thread. It calls lwip_init() and then drives lwIP the way a NO_SYS main loop does,
// from the test's thread only: received frames go straight to ethernet_input, lwIP's raw TCP and
// raw IP APIs are called directly (the core-locking check passes while no tcpip thread exists),
// and sys_check_timeouts() runs lwIP's timers. The clock lwIP reads, sys_now(), is interposed:
// lwip_peer.cpp defines it in the test executable, the library calls it through its PLT, and it
// returns the bus's virtual time. lwIP's other input is LWIP_RAND() = rand(), which the peer
// seeds. So a run is a function of its seeds: no thread, no real time.
//
// lwIP is a process-wide singleton, so at most one LwipPeer exists at a time; the destructor
// aborts every connection lwIP still holds (TIME_WAIT included) and removes the interface, so
// the next peer starts clean. The virtual clock lwIP sees only moves forward across peers.
//
// Simulation code on the host side; lwIP's headers stay in lwip_peer.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "stack/wire_format.hpp"
#include "ukernel/hosted/bus.hpp"
#include "ukernel/hosted/net_wire.hpp"

namespace ukernel::net::test {

class LwipPeer final : public hosted::WireEndpoint {
 public:
  struct Config {
    MacAddress mac{};
    Ipv4Address address = 0;
    Ipv4Address netmask = 0;
  };

  // One TCP connection's application: sends `out`, reads until `in_length` bytes arrived, then
  // closes. lwIP's own error (its err_t, a negative number) ends it.
  struct Transfer {
    std::vector<std::byte> out;
    std::size_t in_length = 0;
    std::size_t sent = 0;  // handed to tcp_write
    std::vector<std::byte> in;
    bool connected = false;
    bool peer_closed = false;  // lwIP delivered the peer's FIN
    bool closed = false;       // we called tcp_close
    int error = 0;             // from lwIP's error callback (ERR_RST, ERR_ABRT, ...)
  };

  struct EchoReply {
    Ipv4Address from = 0;
    std::uint16_t identifier = 0;
    std::uint16_t sequence = 0;
    std::size_t length = 0;
  };

  // Attaches to end `side` of `wire`; lwIP's clock is `bus`'s. `seed` seeds LWIP_RAND().
  LwipPeer(hosted::NetWire& wire, int side, hosted::Bus& bus, const Config& config, unsigned seed);
  ~LwipPeer();
  LwipPeer(const LwipPeer&) = delete;
  LwipPeer& operator=(const LwipPeer&) = delete;

  // A frame from the wire, into lwIP.
  void receive(std::span<const std::byte> frame) override;
  // Runs lwIP's timers due now.
  void poll();
  // When lwIP's next timer is due, in the bus's nanoseconds (0: none armed).
  [[nodiscard]] std::uint64_t next_deadline_ns() const;
  // Arms an lwIP timeout (sys_timeout) `ms` from now; probe_fired_ns is the bus time it ran at
  // (0 until then). It fires at exactly that virtual time only if lwIP reads the virtual clock.
  void start_probe_timer(std::uint32_t ms);
  std::uint64_t probe_fired_ns = 0;

  // TCP, one connection at a time (transfer()). listen: accepts the first connection to `port`;
  // false if lwIP refuses the port or this peer already listens. connect: false if lwIP refuses
  // (no route, no memory); the connection's end shows in transfer().
  [[nodiscard]] bool listen(std::uint16_t port);
  [[nodiscard]] bool connect(Ipv4Address to, std::uint16_t port);
  // Writes what fits, acknowledges what was read, closes when the transfer is complete.
  void pump();
  Transfer& transfer() { return transfer_; }
  // lwIP's connection is gone from every list (closed, TIME_WAIT over, or aborted).
  [[nodiscard]] bool connection_released() const;

  // ICMP echo from lwIP (through a raw IP pcb); replies land in echo_replies.
  [[nodiscard]] bool ping(Ipv4Address to, std::uint16_t identifier, std::uint16_t sequence,
                          std::size_t length);
  std::vector<EchoReply> echo_replies;

  // lwIP's ARP table entry for `address`, if it has one.
  [[nodiscard]] bool arp_lookup(Ipv4Address address, MacAddress& mac) const;

  std::uint64_t frames_in = 0, frames_out = 0, frames_refused = 0;

 private:
  struct State;  // lwIP's structures (lwip_peer.cpp)
  friend struct State;

  hosted::NetWire& wire_;
  int side_;
  hosted::Bus& bus_;
  MacAddress config_mac_;
  std::unique_ptr<State> state_;
  Transfer transfer_;
};

}  // namespace ukernel::net::test
