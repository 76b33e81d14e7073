// The lwIP peer (lwip_peer.hpp): lwIP's netif on the simulated wire, its raw TCP and ICMP
// applications, and the interposed clock.
#include "net/lwip_peer.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/raw.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

namespace {

constexpr std::uint64_t kNsPerMs = 1'000'000;

// The clock lwIP reads. Between peers (bus == nullptr) it stands still; a new peer's bus may
// start at 0 again, so lwIP's time is base + the bus's, and never goes back.
ukernel::hosted::Bus* g_clock_bus = nullptr;
std::uint64_t g_clock_base_ms = 0;
std::uint64_t g_clock_last_ms = 0;
bool g_lwip_initialised = false;

std::uint64_t lwip_time_ms() {
  if (g_clock_bus != nullptr) g_clock_last_ms = g_clock_base_ms + g_clock_bus->now_ns() / kNsPerMs;
  return g_clock_last_ms;
}

ip4_addr_t to_ip4(ukernel::net::Ipv4Address address) {
  ip4_addr_t ip;
  IP4_ADDR(&ip, (address >> 24) & 0xff, (address >> 16) & 0xff, (address >> 8) & 0xff,
           address & 0xff);
  return ip;
}

ip_addr_t to_ip(ukernel::net::Ipv4Address address) {
  ip_addr_t ip;
  IP_ADDR4(&ip, (address >> 24) & 0xff, (address >> 16) & 0xff, (address >> 8) & 0xff,
           address & 0xff);
  return ip;
}

}  // namespace

// lwIP's clock: this definition in the executable interposes the library's own (CLOCK_MONOTONIC
// in Debian's unix port), which lwIP calls through its PLT. Linked with
// --export-dynamic-symbol=sys_now (tests/net/CMakeLists.txt).
extern "C" u32_t sys_now(void) {
  return static_cast<u32_t>(lwip_time_ms());
}

namespace ukernel::net::test {

struct LwipPeer::State {
  LwipPeer* peer = nullptr;
  netif network_interface{};
  tcp_pcb* listener = nullptr;
  tcp_pcb* connection = nullptr;  // ours until we close it or lwIP reports its end
  raw_pcb* icmp = nullptr;

  static err_t init_interface(netif* network_interface);
  static err_t link_output(netif* network_interface, pbuf* packet);
  static err_t accepted(void* arg, tcp_pcb* pcb, err_t error);
  static err_t connected(void* arg, tcp_pcb* pcb, err_t error);
  static err_t received(void* arg, tcp_pcb* pcb, pbuf* packet, err_t error);
  static void failed(void* arg, err_t error);
  static u8_t icmp_received(void* arg, raw_pcb* pcb, pbuf* packet, const ip_addr_t* from);
  static void probe(void* arg);

  void adopt(tcp_pcb* pcb) {
    connection = pcb;
    tcp_arg(pcb, this);
    tcp_recv(pcb, received);
    tcp_err(pcb, failed);
    peer->transfer_.connected = true;
  }
};

err_t LwipPeer::State::init_interface(netif* network_interface) {
  auto* state = static_cast<State*>(network_interface->state);
  network_interface->hwaddr_len = ETH_HWADDR_LEN;
  std::memcpy(network_interface->hwaddr, state->peer->config_mac_.data(), ETH_HWADDR_LEN);
  network_interface->mtu = 1500;
  network_interface->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  network_interface->name[0] = 'l';
  network_interface->name[1] = 'w';
  network_interface->output = etharp_output;
  network_interface->linkoutput = link_output;
  return ERR_OK;
}

err_t LwipPeer::State::link_output(netif* network_interface, pbuf* packet) {
  auto* state = static_cast<State*>(network_interface->state);
  std::vector<std::byte> frame(packet->tot_len);
  if (pbuf_copy_partial(packet, frame.data(), packet->tot_len, 0) != packet->tot_len)
    return ERR_BUF;
  LwipPeer& peer = *state->peer;
  if (!peer.wire_.send(peer.side_, frame)) {
    ++peer.frames_refused;
    return ERR_IF;
  }
  ++peer.frames_out;
  return ERR_OK;
}

err_t LwipPeer::State::accepted(void* arg, tcp_pcb* pcb, err_t error) {
  auto* state = static_cast<State*>(arg);
  if (error != ERR_OK || pcb == nullptr) return ERR_VAL;
  if (state->connection != nullptr || state->peer->transfer_.connected) {
    tcp_abort(pcb);  // one connection per peer
    return ERR_ABRT;
  }
  state->adopt(pcb);
  return ERR_OK;
}

err_t LwipPeer::State::connected(void* arg, tcp_pcb* pcb, err_t error) {
  auto* state = static_cast<State*>(arg);
  if (error != ERR_OK) return error;
  state->adopt(pcb);
  return ERR_OK;
}

err_t LwipPeer::State::received(void* arg, tcp_pcb* pcb, pbuf* packet, err_t error) {
  auto* state = static_cast<State*>(arg);
  Transfer& transfer = state->peer->transfer_;
  if (packet == nullptr) {  // the peer's FIN
    transfer.peer_closed = true;
    return ERR_OK;
  }
  if (error != ERR_OK) {
    pbuf_free(packet);
    return error;
  }
  const std::size_t at = transfer.in.size();
  transfer.in.resize(at + packet->tot_len);
  pbuf_copy_partial(packet, transfer.in.data() + at, packet->tot_len, 0);
  tcp_recved(pcb, packet->tot_len);
  pbuf_free(packet);
  return ERR_OK;
}

void LwipPeer::State::failed(void* arg, err_t error) {
  auto* state = static_cast<State*>(arg);
  state->connection = nullptr;  // lwIP freed it
  state->peer->transfer_.error = error;
}

u8_t LwipPeer::State::icmp_received(void* arg, raw_pcb*, pbuf* packet, const ip_addr_t* from) {
  auto* state = static_cast<State*>(arg);
  // A raw IPv4 pcb sees the packet from its IP header on.
  std::byte header[60 + 8];
  const u16_t copied = pbuf_copy_partial(packet, header, sizeof header, 0);
  if (copied < 20) return 0;
  const std::size_t ip_header = (std::to_integer<std::size_t>(header[0]) & 0xf) * 4;
  if (copied < ip_header + 8 || header[ip_header] != std::byte{0}) return 0;  // not a reply
  const auto get16 = [&](std::size_t at) {
    return static_cast<std::uint16_t>(std::to_integer<unsigned>(header[at]) << 8 |
                                      std::to_integer<unsigned>(header[at + 1]));
  };
  EchoReply reply;
  reply.from = lwip_ntohl(ip_2_ip4(from)->addr);
  reply.identifier = get16(ip_header + 4);
  reply.sequence = get16(ip_header + 6);
  reply.length = packet->tot_len - ip_header - 8;
  state->peer->echo_replies.push_back(reply);
  pbuf_free(packet);
  return 1;  // eaten
}

void LwipPeer::State::probe(void* arg) {
  auto* state = static_cast<State*>(arg);
  state->peer->probe_fired_ns = state->peer->bus_.now_ns();
}

LwipPeer::LwipPeer(hosted::NetWire& wire, int side, hosted::Bus& bus, const Config& config,
                   unsigned seed)
    : wire_(wire), side_(side), bus_(bus), config_mac_(config.mac), state_(new State) {
  g_clock_base_ms = g_clock_last_ms;
  g_clock_bus = &bus;
  g_clock_base_ms -= std::min(g_clock_base_ms, bus.now_ns() / kNsPerMs);
  std::srand(seed);
  if (!g_lwip_initialised) {
    lwip_init();  // pools, the cyclic timers; no tcpip thread
    g_lwip_initialised = true;
  }
  state_->peer = this;
  const ip4_addr_t address = to_ip4(config.address), netmask = to_ip4(config.netmask),
                   gateway = to_ip4(0);
  netif_add(&state_->network_interface, &address, &netmask, &gateway, state_.get(),
            State::init_interface, ethernet_input);
  netif_set_up(&state_->network_interface);
  netif_set_link_up(&state_->network_interface);
  state_->icmp = raw_new(IP_PROTO_ICMP);
  raw_recv(state_->icmp, State::icmp_received, state_.get());
  wire_.attach(side_, this);
}

LwipPeer::~LwipPeer() {
  wire_.attach(side_, nullptr);
  // Everything lwIP still holds, so that the next peer starts clean.
  while (tcp_active_pcbs != nullptr)
    tcp_abort(tcp_active_pcbs);
  while (tcp_tw_pcbs != nullptr)
    tcp_abort(tcp_tw_pcbs);
  if (state_->listener != nullptr) tcp_close(state_->listener);
  raw_remove(state_->icmp);
  sys_untimeout(State::probe, state_.get());
  netif_set_down(&state_->network_interface);
  netif_remove(&state_->network_interface);
  (void)lwip_time_ms();
  g_clock_bus = nullptr;
}

void LwipPeer::receive(std::span<const std::byte> frame) {
  ++frames_in;
  // PBUF_RAM, one allocation: Debian's build hands out PBUF_POOL buffers of 616 bytes whose
  // length says 1514 (ASan catches pbuf_take writing past them).
  pbuf* packet = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(frame.size()), PBUF_RAM);
  if (packet == nullptr) return;
  pbuf_take(packet, frame.data(), static_cast<u16_t>(frame.size()));
  if (state_->network_interface.input(packet, &state_->network_interface) != ERR_OK)
    pbuf_free(packet);
}

void LwipPeer::poll() {
  sys_check_timeouts();
}

std::uint64_t LwipPeer::next_deadline_ns() const {
  const u32_t sleep = sys_timeouts_sleeptime();
  if (sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE) return 0;
  // lwIP counts whole milliseconds; its "now" is the bus's time rounded down to one.
  return (bus_.now_ns() / kNsPerMs + sleep) * kNsPerMs;
}

void LwipPeer::start_probe_timer(std::uint32_t ms) {
  probe_fired_ns = 0;
  sys_timeout(ms, State::probe, state_.get());
}

bool LwipPeer::listen(std::uint16_t port) {
  if (state_->listener != nullptr) return false;
  tcp_pcb* pcb = tcp_new();
  if (pcb == nullptr) return false;
  if (tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
    tcp_close(pcb);
    return false;
  }
  tcp_pcb* listener = tcp_listen_with_backlog(pcb, 4);
  if (listener == nullptr) {
    tcp_close(pcb);
    return false;
  }
  state_->listener = listener;
  tcp_arg(listener, state_.get());
  tcp_accept(listener, State::accepted);
  return true;
}

bool LwipPeer::connect(Ipv4Address to, std::uint16_t port) {
  tcp_pcb* pcb = tcp_new();
  if (pcb == nullptr) return false;
  tcp_arg(pcb, state_.get());
  const ip_addr_t address = to_ip(to);
  if (tcp_connect(pcb, &address, port, State::connected) != ERR_OK) {
    tcp_close(pcb);  // still CLOSED: freed without callbacks
    return false;
  }
  tcp_err(pcb, State::failed);
  return true;
}

void LwipPeer::pump() {
  tcp_pcb* pcb = state_->connection;
  Transfer& t = transfer_;
  if (pcb == nullptr || t.closed) return;
  bool wrote = false;
  while (t.sent < t.out.size()) {
    const std::size_t room = tcp_sndbuf(pcb);
    if (room == 0) break;
    const auto length =
        static_cast<u16_t>(std::min({room, t.out.size() - t.sent, std::size_t{0xffff}}));
    if (tcp_write(pcb, t.out.data() + t.sent, length, TCP_WRITE_FLAG_COPY) != ERR_OK) break;
    t.sent += length;
    wrote = true;
  }
  if (wrote) tcp_output(pcb);
  // Close only when everything expected arrived: lwIP answers data after a close with a reset.
  if (t.sent == t.out.size() && t.in.size() >= t.in_length) {
    if (tcp_close(pcb) == ERR_OK) {
      t.closed = true;
      state_->connection = nullptr;
    }
  }
}

bool LwipPeer::connection_released() const {
  return tcp_active_pcbs == nullptr && tcp_tw_pcbs == nullptr;
}

bool LwipPeer::ping(Ipv4Address to, std::uint16_t identifier, std::uint16_t sequence,
                    std::size_t length) {
  const std::size_t total = 8 + length;
  if (total > 1480) return false;
  pbuf* packet = pbuf_alloc(PBUF_IP, static_cast<u16_t>(total), PBUF_RAM);
  if (packet == nullptr) return false;
  auto* bytes = static_cast<std::uint8_t*>(packet->payload);
  std::memset(bytes, 0, total);
  bytes[0] = 8;  // echo request
  bytes[4] = static_cast<std::uint8_t>(identifier >> 8);
  bytes[5] = static_cast<std::uint8_t>(identifier);
  bytes[6] = static_cast<std::uint8_t>(sequence >> 8);
  bytes[7] = static_cast<std::uint8_t>(sequence);
  for (std::size_t i = 0; i < length; ++i)
    bytes[8 + i] = static_cast<std::uint8_t>(i * 7 + 1);
  const u16_t checksum = inet_chksum(bytes, static_cast<u16_t>(total));
  std::memcpy(bytes + 2, &checksum, 2);  // inet_chksum's result is in network order already
  const ip_addr_t address = to_ip(to);
  const err_t sent = raw_sendto(state_->icmp, packet, &address);
  pbuf_free(packet);
  return sent == ERR_OK;
}

bool LwipPeer::arp_lookup(Ipv4Address address, MacAddress& mac) const {
  const ip4_addr_t ip = to_ip4(address);
  eth_addr* found_mac = nullptr;
  const ip4_addr_t* found_ip = nullptr;
  if (etharp_find_addr(&state_->network_interface, &ip, &found_mac, &found_ip) < 0) return false;
  std::memcpy(mac.data(), found_mac->addr, mac.size());
  return true;
}

}  // namespace ukernel::net::test
