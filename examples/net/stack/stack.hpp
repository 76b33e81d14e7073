// The TCP/IP stack: Ethernet, ARP, IPv4, ICMP echo, UDP and TCP in one object, for a server.
//
// How it works. The owner (the TCP/IP server, or a test) feeds every received Ethernet frame to
// input(), calls poll() when time passes, and makes socket calls; the stack sends frames through
// the LinkRef it was built with. Time is always passed in (milliseconds of a clock the caller
// owns, virtual in tests), so a run is a pure function of its inputs and the same inputs give the
// same packets. Nothing allocates: ARP, UDP and listener tables are fixed arrays inside Stack,
// and TCP connections come from the span the caller gives the constructor.
//
// Every received frame is decoded and checked completely before anything changes; a frame that
// fails a check is dropped and counted (counters()), never partly acted on. docs/network.md lists
// the limits and the counters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/arp_cache.hpp"
#include "stack/counters.hpp"
#include "stack/link.hpp"
#include "stack/net_error.hpp"
#include "stack/siphash.hpp"
#include "stack/tcp_connection.hpp"
#include "stack/wire_format.hpp"

namespace ukernel::net {

inline constexpr std::size_t kUdpSockets = 8;
inline constexpr std::size_t kUdpQueueLength = 4;  // datagrams waiting per UDP socket
inline constexpr std::size_t kUdpMaxPayload = kMtu - kIpv4Header - kUdpHeader;
inline constexpr std::size_t kTcpListeners = 8;
inline constexpr std::uint32_t kTcpMaxBacklog = 64;  // half-open plus unaccepted, per listener
inline constexpr std::size_t kEchoRepliesKept = 8;
inline constexpr std::uint32_t kTcpMinRtoMs = 1'000;  // RFC 6298 (2.4)
inline constexpr std::uint32_t kTcpMaxRtoMs = 60'000;
inline constexpr std::uint32_t kTcpMaxRetries = 10;      // then the connection times out
inline constexpr std::uint32_t kTcpMaxSynRetries = 4;    // SYN and SYN-ACK
inline constexpr std::uint64_t kTcpTimeWaitMs = 60'000;  // 2 MSL with MSL = 30 s
inline constexpr std::uint8_t kIpTtl = 64;

struct StackConfig {
  MacAddress mac{};
  Ipv4Address address = 0;
  Ipv4Address netmask = 0;
  Ipv4Address gateway = 0;  // 0: no route beyond the local subnet
  SipKey isn_key{};         // RFC 6528's secret: draw it from a random source at boot
};

// Handles: a slot index and the slot's generation, so a handle to a freed slot is refused.
struct UdpSocket {
  std::uint32_t id = 0;
};
struct TcpListener {
  std::uint32_t id = 0;
};
struct TcpSocket {
  std::uint32_t id = 0;
};

struct Datagram {
  std::size_t length = 0;  // bytes copied (a longer datagram is truncated to the buffer)
  Ipv4Address from = 0;
  std::uint16_t from_port = 0;
};

struct EchoReply {
  Ipv4Address from = 0;
  std::uint16_t identifier = 0;
  std::uint16_t sequence = 0;
};

class Stack {
 public:
  // connections: the TCP connection pool, owned by the caller and used only by this stack.
  Stack(const StackConfig& config, LinkRef link, std::span<TcpConnection> connections);

  // One received Ethernet frame (no FCS). Malformed frames are dropped and counted.
  void input(std::span<const std::byte> frame, std::uint64_t now_ms);
  // Run the timers due at now_ms: TCP retransmission, persist and TIME_WAIT, ARP retries and
  // expiry. Call it by next_deadline() at the latest.
  void poll(std::uint64_t now_ms);
  // The earliest time a timer is due (0: none is armed).
  [[nodiscard]] std::uint64_t next_deadline() const;

  // UDP. bind: kPortInUse, kNoResources (kUdpSockets bound), kInvalidArgument (port 0).
  [[nodiscard]] Result<UdpSocket> udp_bind(std::uint16_t port);
  // send_to: kBadSocket, kInvalidArgument (port 0 or more than kUdpMaxPayload bytes),
  // kWouldBlock (the next hop is unresolved and the ARP queue is full).
  [[nodiscard]] NetError udp_send_to(UdpSocket socket, Ipv4Address to, std::uint16_t port,
                                     std::span<const std::byte> data, std::uint64_t now_ms);
  // receive_from: kBadSocket, kWouldBlock (nothing queued).
  [[nodiscard]] Result<Datagram> udp_receive_from(UdpSocket socket, std::span<std::byte> buffer);
  [[nodiscard]] NetError udp_close(UdpSocket socket);

  // ICMP echo: send a request with `length` payload bytes; replies are kept (the last
  // kEchoRepliesKept) for take_echo_reply. kInvalidArgument: length over the MTU.
  [[nodiscard]] NetError ping(Ipv4Address to, std::uint16_t identifier, std::uint16_t sequence,
                              std::size_t length, std::uint64_t now_ms);
  [[nodiscard]] Result<EchoReply> take_echo_reply();

  // TCP. listen: kPortInUse, kNoResources, kInvalidArgument (port 0, backlog 0). The backlog is
  // capped at kTcpMaxBacklog and bounds half-open plus not-yet-accepted connections.
  [[nodiscard]] Result<TcpListener> tcp_listen(std::uint16_t port, std::uint32_t backlog);
  // accept: kBadSocket, kWouldBlock (no established connection waiting).
  [[nodiscard]] Result<TcpSocket> tcp_accept(TcpListener listener);
  [[nodiscard]] NetError tcp_close_listener(TcpListener listener);
  // connect: kNoResources (no free connection slot or port), kInvalidArgument (port 0 or
  // address 0). The connection is in SYN_SENT; tcp_state says when it is established.
  [[nodiscard]] Result<TcpSocket> tcp_connect(Ipv4Address to, std::uint16_t port,
                                              std::uint64_t now_ms);
  // send: copies what fits into the send buffer and returns the count. kBadSocket,
  // kNotConnected (not yet established), kClosing (our side is shut: FIN queued or sent),
  // kReset, kTimedOut or kRefused (the connection ended, and why), kWouldBlock (buffer full).
  [[nodiscard]] Result<std::size_t> tcp_send(TcpSocket socket, std::span<const std::byte> data,
                                             std::uint64_t now_ms);
  // receive: copies received in-order bytes. 0 bytes with kOk means the peer closed (end of
  // stream). kBadSocket, kWouldBlock, kReset, kTimedOut, kRefused, kNotConnected.
  [[nodiscard]] Result<std::size_t> tcp_receive(TcpSocket socket, std::span<std::byte> buffer,
                                                std::uint64_t now_ms);
  // close: a graceful close (FIN after the buffered data); the handle is invalid afterwards and
  // the slot is freed when the connection reaches CLOSED. kBadSocket.
  [[nodiscard]] NetError tcp_close(TcpSocket socket, std::uint64_t now_ms);
  // abort: send a reset and free the slot at once. kBadSocket.
  [[nodiscard]] NetError tcp_abort(TcpSocket socket);
  [[nodiscard]] Result<TcpState> tcp_state(TcpSocket socket) const;
  // Bytes queued for sending (sent but unacknowledged, plus unsent).
  [[nodiscard]] Result<std::size_t> tcp_unacknowledged(TcpSocket socket) const;

  // Sets the interface's address, netmask and gateway (a DHCP lease, dhcp.hpp); address 0 is
  // "none yet": the stack then sends from 0.0.0.0 and accepts only broadcast IP traffic, as a
  // DHCP client needs. Connections open when it changes keep their state and fail by their
  // timers if the old address is gone.
  void set_address(Ipv4Address address, Ipv4Address netmask, Ipv4Address gateway) {
    config_.address = address;
    config_.netmask = netmask;
    config_.gateway = gateway;
  }

  [[nodiscard]] const Counters& counters() const { return counters_; }
  [[nodiscard]] const StackConfig& config() const { return config_; }
  [[nodiscard]] const ArpCache& arp() const { return arp_; }
  [[nodiscard]] std::size_t tcp_connections_in_use() const;
  [[nodiscard]] const TcpConnection* tcp_connection(TcpSocket socket) const;

  // The stack's invariants (sequence numbers ordered, buffers in bounds, tables consistent);
  // a fuzzer calls it after every input. Returns the first broken one's description, or null.
  [[nodiscard]] const char* check_invariants() const;

 private:
  struct UdpEntry {
    bool used = false;
    std::uint16_t generation = 0;
    std::uint16_t port = 0;
    std::size_t head = 0, count = 0;
    struct Queued {
      Ipv4Address from = 0;
      std::uint16_t from_port = 0;
      std::size_t length = 0;
      std::array<std::byte, kUdpMaxPayload> data{};
    };
    std::array<Queued, kUdpQueueLength> queue{};
  };
  struct ListenerEntry {
    bool used = false;
    std::uint16_t generation = 0;
    std::uint16_t port = 0;
    std::uint32_t backlog = 0;
  };
  // A checked view of a received IPv4 packet.
  struct IpPacket {
    Ipv4Address source = 0, destination = 0;
    std::uint8_t protocol = 0;
    std::span<const std::byte> header;
    std::span<const std::byte> payload;
  };
  // A checked TCP segment.
  struct Segment {
    Ipv4Address source = 0;
    std::uint16_t source_port = 0, destination_port = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint16_t mss = 0;  // 0: no MSS option
    std::span<const std::byte> data;
    [[nodiscard]] std::uint32_t length() const;  // sequence space: data plus SYN and FIN
  };

  // Link and IP (stack.cpp).
  void arp_input(std::span<const std::byte> packet, std::uint64_t now_ms);
  void ip_input(std::span<const std::byte> packet, std::uint64_t now_ms);
  void icmp_input(const IpPacket& packet, std::uint64_t now_ms);
  void udp_input(const IpPacket& packet);
  void send_arp(std::uint16_t operation, const MacAddress& target_mac, Ipv4Address target_ip);
  void send_frame(const MacAddress& destination, std::uint16_t ether_type, std::size_t length);
  // Send the IPv4 payload already written at ip_payload() (length bytes); false if it could not
  // be sent or queued for ARP.
  bool ip_send(Ipv4Address destination, std::uint8_t protocol, std::size_t length,
               std::uint64_t now_ms);
  std::span<std::byte> ip_payload() {
    return std::span(tx_frame_).subspan(kEthernetHeader + kIpv4Header);
  }
  [[nodiscard]] bool is_local(Ipv4Address address) const;

  // TCP (tcp.cpp).
  void tcp_input(const IpPacket& packet, std::uint64_t now_ms);
  void tcp_input_listen(std::int32_t listener, const Segment& segment, std::uint64_t now_ms);
  void tcp_input_cookie(std::int32_t listener, const Segment& segment, std::uint64_t now_ms);
  void tcp_accept_syn(TcpConnection& c, const Segment& segment, std::uint64_t now_ms);
  bool tcp_make_room(std::int32_t listener);
  [[nodiscard]] std::uint32_t tcp_cookie(const Segment& segment, std::uint32_t client_isn,
                                         std::uint64_t period, std::uint32_t mss_index) const;
  void tcp_send_stateless(Ipv4Address to, std::uint16_t local_port, std::uint16_t remote_port,
                          std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                          std::uint16_t mss, std::uint64_t now_ms);
  void tcp_input_syn_sent(TcpConnection& c, const Segment& segment, std::uint64_t now_ms);
  void tcp_input_synchronized(TcpConnection& c, const Segment& segment, std::uint64_t now_ms);
  bool tcp_process_ack(TcpConnection& c, const Segment& segment, std::uint64_t now_ms);
  void tcp_process_data(TcpConnection& c, const Segment& segment);
  void tcp_output(TcpConnection& c, std::uint64_t now_ms);
  void tcp_send_segment(TcpConnection& c, std::uint32_t seq, std::uint8_t flags,
                        std::size_t data_offset, std::size_t length, std::uint64_t now_ms);
  void tcp_send_ack(TcpConnection& c, std::uint64_t now_ms);
  void tcp_send_reset(const Segment& to, std::uint64_t now_ms);
  void tcp_timers(TcpConnection& c, std::uint64_t now_ms);
  void tcp_retransmit_timeout(TcpConnection& c, std::uint64_t now_ms);
  void tcp_update_rtt(TcpConnection& c, std::uint32_t sample_ms);
  void tcp_enter_closed(TcpConnection& c, NetError why);
  void tcp_enter_time_wait(TcpConnection& c, std::uint64_t now_ms);
  void tcp_release_if_done(TcpConnection& c);
  void tcp_established(TcpConnection& c);
  [[nodiscard]] std::uint16_t tcp_receive_window(const TcpConnection& c) const;
  [[nodiscard]] std::uint32_t tcp_isn(Ipv4Address remote, std::uint16_t local_port,
                                      std::uint16_t remote_port, std::uint64_t now_ms) const;
  TcpConnection* tcp_find(Ipv4Address remote, std::uint16_t remote_port, std::uint16_t local_port);
  TcpConnection* tcp_allocate(std::int32_t for_listener);
  TcpConnection* tcp_lookup(TcpSocket socket);
  [[nodiscard]] const TcpConnection* tcp_lookup(TcpSocket socket) const;
  TcpSocket tcp_handle(const TcpConnection& c) const;
  bool tcp_port_in_use(std::uint16_t port) const;

  UdpEntry* udp_lookup(UdpSocket socket);

  StackConfig config_;
  LinkRef link_;
  std::span<TcpConnection> connections_;
  Counters counters_{};
  ArpCache arp_{};
  std::array<UdpEntry, kUdpSockets> udp_{};
  std::array<ListenerEntry, kTcpListeners> listeners_{};
  std::array<EchoReply, kEchoRepliesKept> echo_replies_{};
  std::size_t echo_head_ = 0, echo_count_ = 0;
  std::uint16_t next_ephemeral_port_ = 49152;
  std::uint16_t ip_identification_ = 0;
  std::uint64_t now_ms_ = 0;  // the last time input or poll was given
  std::array<std::byte, kMaxFrame> tx_frame_{};
};

}  // namespace ukernel::net
