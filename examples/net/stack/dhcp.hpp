// A DHCP client (RFC 2131, options RFC 2132) on the stack's UDP sockets: it gets the stack an
// address, netmask, router and DNS server from a server such as QEMU's or libslirp's.
//
// How it works. start() binds UDP port 68 and broadcasts a DISCOVER; poll() reads the replies,
// and moves INIT -> SELECTING (DISCOVER sent, the first acceptable OFFER taken) -> REQUESTING
// (REQUEST for that offer broadcast) -> BOUND (ACK: the lease is applied with
// Stack::set_address). At T1 (the server's option 58, else half the lease) it asks the same
// server again by unicast (RENEWING), at T2 (option 59, else 7/8 of the lease) any server by
// broadcast (REBINDING); an ACK extends the lease, a NAK or the lease's end takes the address
// away and starts over. Requests go out again after 4, 8, 16, 32 and then every 64 seconds
// (RFC 2131 4.1, without the random second); a REQUEST unanswered four times starts over.
// Every request sets the BROADCAST flag, so a server answers before the client has an address.
//
// Every reply is checked completely before anything changes (parse_dhcp_reply, a pure
// function): a packet that fails a check is dropped and counted in DhcpCounters under its one
// reason, never partly acted on. The option overload (option 52) is not supported: options in
// the sname and file fields are ignored. Nothing allocates; time is passed in as with Stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/net_error.hpp"
#include "stack/stack.hpp"
#include "stack/wire_format.hpp"

namespace ukernel::net {

inline constexpr std::uint16_t kDhcpServerPort = 67;
inline constexpr std::uint16_t kDhcpClientPort = 68;
inline constexpr std::size_t kDhcpFixedBytes = 236;  // op .. file, before the magic cookie
inline constexpr std::uint32_t kDhcpMagicCookie = 0x63825363;
inline constexpr std::uint32_t kDhcpFirstRetryMs = 4'000;
inline constexpr std::uint32_t kDhcpMaxRetryMs = 64'000;
inline constexpr unsigned kDhcpRequestAttempts = 4;       // then back to DISCOVER
inline constexpr std::uint32_t kDhcpMinLeaseSeconds = 8;  // shorter leases are raised to this

enum class DhcpMessageType : std::uint8_t {
  kDiscover = 1,
  kOffer = 2,
  kRequest = 3,
  kDecline = 4,
  kAck = 5,
  kNak = 6,
  kRelease = 7,
};

// Why a received DHCP packet was dropped; each has a counter.
enum class DhcpDrop : std::uint8_t {
  kNone,           // accepted
  kTruncated,      // shorter than the fixed part and the magic cookie
  kNotReply,       // op is not BOOTREPLY (2)
  kHardware,       // not Ethernet (htype 1, hlen 6), or chaddr is not our MAC
  kXid,            // not the transaction we are in
  kNoCookie,       // the magic cookie is missing
  kOptionsLength,  // an option runs past the packet, has an impossible length, or no end
  kNoMessageType,  // option 53 missing
  kUnexpected,     // a well-formed message the current state does not expect
  kBadOffer,       // yiaddr 0, broadcast, multicast or loopback; or no server identifier
};

// A reply that passed parse_dhcp_reply. Addresses in host order; 0 when the option was absent.
struct DhcpReply {
  DhcpMessageType type = DhcpMessageType::kOffer;
  Ipv4Address your_address = 0;      // yiaddr
  Ipv4Address server = 0;            // option 54
  Ipv4Address netmask = 0;           // option 1
  Ipv4Address router = 0;            // option 3, the first
  Ipv4Address dns = 0;               // option 6, the first
  std::uint32_t lease_seconds = 0;   // option 51 (0xffffffff: infinite)
  std::uint32_t renew_seconds = 0;   // option 58 (T1)
  std::uint32_t rebind_seconds = 0;  // option 59 (T2)
};

// Checks a UDP payload sent to port 68 as a reply to transaction `xid` for `mac`. kNone and
// *out filled, or the reason it is dropped (*out untouched). OFFER and ACK must carry a usable
// yiaddr and a server identifier (kBadOffer); other message types are kUnexpected, NAK aside.
[[nodiscard]] DhcpDrop parse_dhcp_reply(std::span<const std::byte> packet, std::uint32_t xid,
                                        const MacAddress& mac, DhcpReply* out);

struct DhcpCounters {
  std::uint64_t discovers_sent = 0;
  std::uint64_t requests_sent = 0;
  std::uint64_t offers_received = 0;  // accepted
  std::uint64_t acks_received = 0;
  std::uint64_t naks_received = 0;
  std::uint64_t leases_expired = 0;
  std::uint64_t send_failed = 0;  // the stack refused to send (counted, retried by the timer)
  std::uint64_t dropped_truncated = 0;
  std::uint64_t dropped_not_reply = 0;
  std::uint64_t dropped_hardware = 0;
  std::uint64_t dropped_xid = 0;
  std::uint64_t dropped_no_cookie = 0;
  std::uint64_t dropped_options_length = 0;
  std::uint64_t dropped_no_message_type = 0;
  std::uint64_t dropped_unexpected = 0;
  std::uint64_t dropped_bad_offer = 0;
};

enum class DhcpState : std::uint8_t {
  kStopped,     // start() not called
  kSelecting,   // DISCOVER sent, waiting for an OFFER
  kRequesting,  // REQUEST sent for an offer, waiting for the ACK
  kBound,
  kRenewing,   // past T1: unicast REQUEST to the server that gave the lease
  kRebinding,  // past T2: broadcast REQUEST
};

struct DhcpLease {
  Ipv4Address address = 0;
  Ipv4Address netmask = 0;
  Ipv4Address router = 0;
  Ipv4Address dns = 0;
  Ipv4Address server = 0;
  std::uint32_t lease_seconds = 0;
  std::uint64_t obtained_ms = 0;  // when the ACK came
};

class DhcpClient {
 public:
  // xid_seed: where transaction identifiers start (draw it from a random source at boot, so
  // two clients on one network do not collide; tests fix it).
  DhcpClient(Stack& stack, std::uint64_t xid_seed);

  // Binds UDP port 68 and sends the first DISCOVER. kPortInUse or kNoResources from the
  // stack's udp_bind; kInvalidArgument if already started.
  [[nodiscard]] NetError start(std::uint64_t now_ms);
  // Reads every queued reply and runs the timers due at now_ms; call it after the stack's
  // input, and by next_deadline() at the latest.
  void poll(std::uint64_t now_ms);
  // The earliest time poll() has something to do (0: stopped).
  [[nodiscard]] std::uint64_t next_deadline() const { return deadline_ms_; }

  [[nodiscard]] DhcpState state() const { return state_; }
  [[nodiscard]] bool bound() const {
    return state_ == DhcpState::kBound || state_ == DhcpState::kRenewing ||
           state_ == DhcpState::kRebinding;
  }
  [[nodiscard]] const DhcpLease& lease() const { return lease_; }
  [[nodiscard]] const DhcpCounters& counters() const { return counters_; }
  [[nodiscard]] std::uint32_t xid() const { return xid_; }

 private:
  void handle(std::span<const std::byte> packet, std::uint64_t now_ms);
  void count_drop(DhcpDrop drop);
  void discover(std::uint64_t now_ms);
  void send(DhcpMessageType type, std::uint64_t now_ms);
  void retry_later(std::uint64_t now_ms);
  void bind(const DhcpReply& ack, std::uint64_t now_ms);
  void lose_lease();
  void new_transaction();

  Stack& stack_;
  UdpSocket socket_{};
  DhcpState state_ = DhcpState::kStopped;
  std::uint64_t random_;
  std::uint32_t xid_ = 0;
  DhcpReply offer_{};  // the offer being requested
  DhcpLease lease_{};
  std::uint64_t renew_ms_ = 0, rebind_ms_ = 0, expire_ms_ = 0;
  std::uint64_t deadline_ms_ = 0;
  std::uint32_t retry_ms_ = kDhcpFirstRetryMs;
  unsigned attempts_ = 0;  // REQUESTs sent in this state
  DhcpCounters counters_{};
};

}  // namespace ukernel::net
