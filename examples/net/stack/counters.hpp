// The stack's counters: every packet it receives ends in exactly one of them (delivered, or
// dropped for one named reason), so a test can say which check caught a malformed packet and a
// `net` shell command can show where traffic goes. docs/network.md lists them.
#pragma once

#include <cstdint>

namespace ukernel::net {

struct Counters {
  // Ethernet
  std::uint64_t frames_received = 0;
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_send_failed = 0;      // the link refused a frame
  std::uint64_t eth_dropped_short = 0;       // shorter than an Ethernet header
  std::uint64_t eth_dropped_not_for_us = 0;  // destination neither our MAC nor broadcast
  std::uint64_t eth_dropped_ethertype = 0;   // neither IPv4 nor ARP
  // ARP (RFC 826)
  std::uint64_t arp_dropped_malformed = 0;  // short, not Ethernet/IPv4, bad lengths or operation
  std::uint64_t arp_requests_sent = 0;
  std::uint64_t arp_replies_sent = 0;
  std::uint64_t arp_entries_expired = 0;
  std::uint64_t arp_queue_dropped = 0;  // a packet awaiting resolution dropped (queue full,
                                        // or the next hop never answered)
  // IPv4 (RFC 791)
  std::uint64_t ip_received = 0;               // headers that passed every check
  std::uint64_t ip_dropped_short = 0;          // shorter than 20 bytes
  std::uint64_t ip_dropped_version = 0;        // version not 4
  std::uint64_t ip_dropped_header_length = 0;  // IHL < 5 or past the packet
  std::uint64_t ip_dropped_total_length = 0;   // total length < IHL or past the frame
  std::uint64_t ip_dropped_checksum = 0;
  std::uint64_t ip_dropped_options = 0;     // an option list that does not parse
  std::uint64_t ip_dropped_fragment = 0;    // MF set or a non-zero offset: no reassembly
  std::uint64_t ip_dropped_not_for_us = 0;  // destination not ours nor broadcast
  std::uint64_t ip_dropped_bad_source = 0;  // broadcast, multicast, zero or our own source
  std::uint64_t ip_dropped_protocol = 0;    // not ICMP, UDP or TCP
  // ICMP (RFC 792)
  std::uint64_t icmp_dropped_malformed = 0;  // short or a bad checksum
  std::uint64_t icmp_echo_requests_received = 0;
  std::uint64_t icmp_echo_replies_sent = 0;
  std::uint64_t icmp_echo_replies_received = 0;
  std::uint64_t icmp_other_ignored = 0;  // well-formed types this stack does not act on
  // UDP (RFC 768)
  std::uint64_t udp_received = 0;
  std::uint64_t udp_dropped_short = 0;
  std::uint64_t udp_dropped_length = 0;  // UDP length < 8 or past the IP payload
  std::uint64_t udp_dropped_checksum = 0;
  std::uint64_t udp_dropped_no_socket = 0;
  std::uint64_t udp_dropped_queue_full = 0;
  // TCP (RFC 9293)
  std::uint64_t tcp_segments_received = 0;  // passed the header checks
  std::uint64_t tcp_segments_sent = 0;
  std::uint64_t tcp_dropped_short = 0;
  std::uint64_t tcp_dropped_offset = 0;  // data offset < 5 or past the segment
  std::uint64_t tcp_dropped_checksum = 0;
  std::uint64_t tcp_dropped_options = 0;        // an option list that does not parse
  std::uint64_t tcp_dropped_bad_address = 0;    // port 0
  std::uint64_t tcp_dropped_no_connection = 0;  // answered with a reset
  std::uint64_t tcp_dropped_out_of_window = 0;  // answered with an ACK (RFC 9293 3.10.7.4)
  std::uint64_t tcp_dropped_bad_ack = 0;        // acknowledges what was never sent
  std::uint64_t tcp_dropped_invalid = 0;        // flags impossible in the connection's state
  std::uint64_t tcp_duplicate_bytes = 0;        // data already received (trimmed)
  std::uint64_t tcp_out_of_order_kept = 0;      // segments stored ahead of rcv_nxt
  std::uint64_t tcp_syn_queue_evicted = 0;      // half-open connections replaced by new SYNs
  std::uint64_t tcp_syn_dropped = 0;            // SYNs with no slot and nothing to evict
  std::uint64_t tcp_syn_cookies_sent = 0;       // SYN-ACKs sent statelessly (backlog full)
  std::uint64_t tcp_syn_cookies_accepted = 0;   // connections made from a valid cookie
  std::uint64_t tcp_connections_opened = 0;     // reached ESTABLISHED
  std::uint64_t tcp_resets_sent = 0;
  std::uint64_t tcp_resets_received = 0;
  std::uint64_t tcp_retransmit_timeouts = 0;
  std::uint64_t tcp_fast_retransmits = 0;
  std::uint64_t tcp_retransmitted_segments = 0;
  std::uint64_t tcp_persist_probes = 0;
  std::uint64_t tcp_connections_timed_out = 0;
};

}  // namespace ukernel::net
