// The libslirp attachment (see include/ukernel/hosted/slirp_attachment.hpp).
#include "ukernel/hosted/slirp_attachment.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <time.h>

#include <algorithm>
#include <cstring>

namespace ukernel::hosted {

// A timer slirp asked for (only IPv6 router advertisements use one in 4.7; IPv6 is off, but
// slirp may still create it).
struct SlirpAttachment::Timer {
  SlirpTimerId id;
  void* callback_opaque;
  std::int64_t expire_ms = -1;  // -1: not armed
};

struct SlirpCallbacks {
  static SlirpAttachment& self(void* opaque) { return *static_cast<SlirpAttachment*>(opaque); }

  static ssize_t send_packet(const void* buffer, std::size_t length, void* opaque) {
    self(opaque).queue_for_device(std::span(static_cast<const std::byte*>(buffer), length));
    return static_cast<ssize_t>(length);
  }
  static void guest_error(const char* message, void* opaque) {
    ++self(opaque).stats_.guest_errors;
    self(opaque).last_guest_error_ = message;
  }
  static std::int64_t clock_get_ns(void*) {
    return static_cast<std::int64_t>(SlirpAttachment::now_ns());
  }
  static void* timer_new_opaque(SlirpTimerId id, void* callback_opaque, void* opaque) {
    auto timer =
        std::make_unique<SlirpAttachment::Timer>(SlirpAttachment::Timer{id, callback_opaque});
    void* handle = timer.get();
    self(opaque).timers_.push_back(std::move(timer));
    return handle;
  }
  static void timer_free(void* timer, void* opaque) {
    auto& timers = self(opaque).timers_;
    std::erase_if(timers, [timer](const auto& t) { return t.get() == timer; });
  }
  static void timer_mod(void* timer, std::int64_t expire_ms, void*) {
    static_cast<SlirpAttachment::Timer*>(timer)->expire_ms = expire_ms;
  }
  static void register_poll_fd(int, void*) {}  // poll() asks slirp for its fds every time
  static void unregister_poll_fd(int, void*) {}
  static void notify(void*) {}  // the next poll() sees what became possible
  static int add_poll(int fd, int events, void* opaque) {
    short wanted = 0;
    if ((events & SLIRP_POLL_IN) != 0) wanted |= POLLIN;
    if ((events & SLIRP_POLL_OUT) != 0) wanted |= POLLOUT;
    if ((events & SLIRP_POLL_PRI) != 0) wanted |= POLLPRI;
    auto& fds = self(opaque).poll_fds_;
    fds.push_back(pollfd{fd, wanted, 0});
    return static_cast<int>(fds.size() - 1);
  }
  static int get_revents(int index, void* opaque) {
    const auto& fds = self(opaque).poll_fds_;
    if (index < 0 || static_cast<std::size_t>(index) >= fds.size()) return 0;
    const short got = fds[static_cast<std::size_t>(index)].revents;
    int events = 0;
    if ((got & POLLIN) != 0) events |= SLIRP_POLL_IN;
    if ((got & POLLOUT) != 0) events |= SLIRP_POLL_OUT;
    if ((got & POLLPRI) != 0) events |= SLIRP_POLL_PRI;
    if ((got & POLLERR) != 0) events |= SLIRP_POLL_ERR;
    if ((got & POLLHUP) != 0) events |= SLIRP_POLL_HUP;
    return events;
  }
};

namespace {

in_addr address(std::uint32_t host_order) {
  in_addr a{};
  a.s_addr = htonl(host_order);
  return a;
}

const SlirpCb kCallbacks = {
    .send_packet = SlirpCallbacks::send_packet,
    .guest_error = SlirpCallbacks::guest_error,
    .clock_get_ns = SlirpCallbacks::clock_get_ns,
    .timer_new = nullptr,  // timer_new_opaque (version 4) instead
    .timer_free = SlirpCallbacks::timer_free,
    .timer_mod = SlirpCallbacks::timer_mod,
    .register_poll_fd = SlirpCallbacks::register_poll_fd,
    .unregister_poll_fd = SlirpCallbacks::unregister_poll_fd,
    .notify = SlirpCallbacks::notify,
    .init_completed = nullptr,
    .timer_new_opaque = SlirpCallbacks::timer_new_opaque,
};

}  // namespace

SlirpAttachment::SlirpAttachment(const Options& options) : options_(options) {}

std::unique_ptr<SlirpAttachment> SlirpAttachment::create(const Options& options,
                                                         std::string* error) {
  const auto fail = [error](std::string why) {
    if (error != nullptr) *error = std::move(why);
    return nullptr;
  };
  const std::uint32_t network = options.network & options.netmask;
  for (std::uint32_t host : {options.gateway, options.dns, options.dhcp_start})
    if ((host & options.netmask) != network)
      return fail("slirp: the gateway, DNS and DHCP addresses must be inside the network");
  std::unique_ptr<SlirpAttachment> self(new SlirpAttachment(options));

  SlirpConfig config{};
  config.version = 4;  // the highest libslirp 4.7 takes
  config.restricted = options.restricted ? 1 : 0;
  config.in_enabled = true;
  config.vnetwork = address(network);
  config.vnetmask = address(options.netmask);
  config.vhost = address(options.gateway);
  config.in6_enabled = false;
  config.vdhcp_start = address(options.dhcp_start);
  config.vnameserver = address(options.dns);
  config.if_mtu = 1500;
  config.if_mru = 1500;
  config.disable_host_loopback = false;  // forwards connect from 127.0.0.1
  config.enable_emu = false;
  config.disable_dns = true;  // nothing resolves names for the guest: no traffic beyond the host
  config.disable_dhcp = !options.dhcp;
  self->slirp_ = slirp_new(&config, &kCallbacks, self.get());
  if (self->slirp_ == nullptr) return fail("slirp: slirp_new refused the configuration");

  for (const Forward& forward : options.forwards) {
    if (forward.guest_port == 0) return fail("slirp: a forward's guest port is 0");
    if (slirp_add_hostfwd(self->slirp_, 0, address(0x7f000001), forward.host_port,
                          address(options.dhcp_start), forward.guest_port) != 0)
      return fail("slirp: cannot forward 127.0.0.1:" + std::to_string(forward.host_port) +
                  " (the port is in use?)");
  }
  return self;
}

SlirpAttachment::~SlirpAttachment() {
  if (slirp_ != nullptr) slirp_cleanup(slirp_);
}

std::uint64_t SlirpAttachment::now_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(now.tv_nsec);
}

bool SlirpAttachment::send(std::span<const std::byte> frame) {
  if (frame.size() < NetWire::kMinFrameBytes || frame.size() > NetWire::kMaxFrameBytes) {
    ++stats_.frames_refused;
    return false;
  }
  ++stats_.frames_to_network;
  slirp_input(slirp_, reinterpret_cast<const std::uint8_t*>(frame.data()),
              static_cast<int>(frame.size()));
  return true;
}

void SlirpAttachment::queue_for_device(std::span<const std::byte> frame) {
  if (endpoint_ == nullptr || to_device_.size() >= options_.max_queued_frames) {
    ++stats_.frames_dropped;  // as a card without buffers drops: TCP retransmits
    return;
  }
  to_device_.emplace_back(frame.begin(), frame.end());
}

void SlirpAttachment::run_timers() {
  const auto now_ms = static_cast<std::int64_t>(now_ns() / 1'000'000);
  for (std::size_t i = 0; i < timers_.size(); ++i) {
    Timer& timer = *timers_[i];
    if (timer.expire_ms < 0 || timer.expire_ms > now_ms) continue;
    timer.expire_ms = -1;
    slirp_handle_timer(slirp_, timer.id, timer.callback_opaque);  // may re-arm it
  }
}

void SlirpAttachment::poll(int timeout_ms) {
  std::uint32_t timeout = static_cast<std::uint32_t>(std::max(timeout_ms, 0));
  if (!to_device_.empty()) timeout = 0;
  const auto now_ms = static_cast<std::int64_t>(now_ns() / 1'000'000);
  for (const auto& timer : timers_)
    if (timer->expire_ms >= 0)
      timeout = std::min(timeout, static_cast<std::uint32_t>(
                                      std::max<std::int64_t>(timer->expire_ms - now_ms, 0)));
  poll_fds_.clear();
  slirp_pollfds_fill(slirp_, &timeout, SlirpCallbacks::add_poll, this);
  const int ready = ::poll(poll_fds_.data(), poll_fds_.size(), static_cast<int>(timeout));
  slirp_pollfds_poll(slirp_, ready < 0 ? 1 : 0, SlirpCallbacks::get_revents, this);
  run_timers();
}

std::size_t SlirpAttachment::deliver(std::size_t max_frames) {
  std::size_t handed = 0;
  while (handed < max_frames && !to_device_.empty()) {
    const std::vector<std::byte> frame = std::move(to_device_.front());
    to_device_.pop_front();
    if (endpoint_ == nullptr) {
      ++stats_.frames_dropped;
      continue;
    }
    ++stats_.frames_from_network;
    ++handed;
    endpoint_->receive(frame);
  }
  return handed;
}

}  // namespace ukernel::hosted
