// Real clients through libslirp: the stack gets its address from slirp's DHCP server, and a
// small HTTP responder on the stack's TCP API (test code; the example system's http server is
// another piece) answers curl and ab on the host through the forwarded 127.0.0.1 port. Every
// wait is bounded in real time, and every client process is killed if it overstays.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "net/slirp_rig.hpp"

extern char** environ;

using namespace ukernel::net;
using namespace ukernel::net::test;

namespace {

using Bytes = std::vector<std::byte>;

Bytes pattern_bytes(std::size_t length, std::uint32_t seed) {
  Bytes data(length);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : data) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::byte>(x >> 24);
  }
  return data;
}

// GET and HEAD of two files, 404 for anything else, keep-alive as HTTP/1.1 and HTTP/1.0 ask.
class HttpResponder {
 public:
  HttpResponder(Stack& stack, std::uint64_t now_ms) : stack_(stack) {
    auto listener = stack.tcp_listen(80, 32);
    REQUIRE(listener.ok());
    listener_ = listener.value;
    (void)now_ms;
    files_.push_back({"/1m", pattern_bytes(1 << 20, 1)});
    files_.push_back({"/1k", pattern_bytes(1 << 10, 2)});
  }
  const Bytes& file(std::size_t i) const { return files_[i].second; }

  void pump(std::uint64_t now) {
    for (;;) {
      auto accepted = stack_.tcp_accept(listener_);
      if (!accepted.ok()) break;
      connections_.push_back({accepted.value});
    }
    for (Connection& c : connections_)
      serve(c, now);
    std::erase_if(connections_, [](const Connection& c) { return c.done; });
  }

  std::uint64_t responses = 0, not_found = 0, bad_requests = 0, failures = 0;

 private:
  struct Connection {
    TcpSocket socket;
    std::string request{};
    std::string head{};
    const Bytes* body = nullptr;
    std::size_t sent = 0;  // of head + body
    bool responding = false, keep_alive = false, done = false;
  };

  void finish(Connection& c, std::uint64_t now) {
    (void)stack_.tcp_close(c.socket, now);
    c.done = true;
  }

  void serve(Connection& c, std::uint64_t now) {
    std::array<std::byte, 2048> buffer{};
    while (!c.responding) {
      auto got = stack_.tcp_receive(c.socket, buffer, now);
      if (!got.ok()) {
        if (got.error != NetError::kWouldBlock) {
          ++failures;
          finish(c, now);
        }
        return;
      }
      if (got.value == 0) return finish(c, now);  // the client closed
      c.request.append(reinterpret_cast<const char*>(buffer.data()), got.value);
      if (c.request.size() > 8192) {
        ++bad_requests;
        return finish(c, now);
      }
      if (c.request.find("\r\n\r\n") != std::string::npos) start_response(c);
    }
    while (c.sent < c.head.size() + (c.body ? c.body->size() : 0)) {
      std::span<const std::byte> out;
      if (c.sent < c.head.size()) {
        out = std::as_bytes(std::span(c.head)).subspan(c.sent);
      } else {
        out = std::span(*c.body).subspan(c.sent - c.head.size());
      }
      auto put = stack_.tcp_send(c.socket, out, now);
      if (!put.ok()) {
        if (put.error != NetError::kWouldBlock) {
          ++failures;
          finish(c, now);
        }
        return;
      }
      c.sent += put.value;
    }
    ++responses;
    if (!c.keep_alive) return finish(c, now);
    c.responding = false;
    c.sent = 0;
    c.body = nullptr;
    if (c.request.find("\r\n\r\n") != std::string::npos) start_response(c);  // pipelined
  }

  void start_response(Connection& c) {
    const std::size_t end = c.request.find("\r\n\r\n") + 4;
    const std::string request = c.request.substr(0, end);
    c.request.erase(0, end);
    std::istringstream line(request.substr(0, request.find("\r\n")));
    std::string method, path, version;
    line >> method >> path >> version;
    std::string lower;
    for (char ch : request)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    c.keep_alive = version == "HTTP/1.1"
                       ? lower.find("connection: close") == std::string::npos
                       : lower.find("connection: keep-alive") != std::string::npos;
    std::string status = "200 OK";
    const Bytes* body = nullptr;
    if ((method != "GET" && method != "HEAD") || version.rfind("HTTP/1.", 0) != 0) {
      status = "400 Bad Request";
      c.keep_alive = false;
      ++bad_requests;
    } else {
      for (const auto& [name, bytes] : files_)
        if (name == path) body = &bytes;
      if (body == nullptr) {
        status = "404 Not Found";
        ++not_found;
      }
    }
    const std::size_t length = body != nullptr ? body->size() : 0;
    c.head = "HTTP/1.1 " + status + "\r\nContent-Type: application/octet-stream\r\n" +
             "Content-Length: " + std::to_string(length) + "\r\n" +
             (c.keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n") + "\r\n";
    c.body = method == "HEAD" ? nullptr : body;
    c.sent = 0;
    c.responding = true;
  }

  Stack& stack_;
  TcpListener listener_{};
  std::vector<std::pair<std::string, Bytes>> files_;
  std::vector<Connection> connections_;
};

// Runs a host program with stdout and stderr into `output`, stepping the rig until it exits or
// limit_ms passes (then it is killed). Returns its exit status, or -1 (did not finish).
template <typename Rig>
int run_client(Rig& rig, HttpResponder& http, std::vector<std::string> arguments,
               const std::string& output, std::uint64_t limit_ms) {
  std::vector<char*> argv;
  for (std::string& argument : arguments)
    argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    FAIL_CHECK("cannot run " << arguments[0] << " (scripts/deps.txt installs it)");
    return -1;
  }
  int status = 0;
  bool exited = rig.run_until(
      [&] {
        http.pump(rig.now_ms());
        return waitpid(pid, &status, WNOHANG) == pid;
      },
      limit_ms);
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string temp_path(const char* name) {
  return "/tmp/ukernel-slirp-" + std::to_string(getpid()) + "-" + name;
}

// A rig with an address from slirp's DHCP server and the responder listening.
void bring_up(SlirpRig& rig) {
  INFO(rig.error());
  REQUIRE(rig.ok());
  REQUIRE(rig.dhcp->start(rig.now_ms()) == NetError::kOk);
  const bool bound = rig.run_until([&] { return rig.dhcp->bound(); }, 10'000);
  const auto& slirp = rig.slirp().stats();
  const auto& dhcp = rig.dhcp->counters();
  INFO("slirp: to network " << slirp.frames_to_network << ", from network "
                            << slirp.frames_from_network << ", dropped " << slirp.frames_dropped
                            << ", guest errors " << slirp.guest_errors << " ("
                            << rig.slirp().last_guest_error() << ")");
  INFO("model: tx " << rig.model().stats().tx_frames << ", tx errors "
                    << rig.model().stats().tx_errors << ", rx " << rig.model().stats().rx_frames
                    << ", rx no buffer " << rig.model().stats().rx_dropped_no_buffer);
  INFO("dhcp: discovers " << dhcp.discovers_sent << ", requests " << dhcp.requests_sent
                          << ", offers " << dhcp.offers_received << ", send failed "
                          << dhcp.send_failed << ", stack udp received "
                          << rig.stack->counters().udp_received << ", frames received "
                          << rig.stack->counters().frames_received << ", not for us "
                          << rig.stack->counters().ip_dropped_not_for_us << "/"
                          << rig.stack->counters().eth_dropped_not_for_us << ", udp checksum "
                          << rig.stack->counters().udp_dropped_checksum << ", no socket "
                          << rig.stack->counters().udp_dropped_no_socket << ", bad source "
                          << rig.stack->counters().ip_dropped_bad_source << ", dhcp drops "
                          << dhcp.dropped_hardware << dhcp.dropped_xid << dhcp.dropped_bad_offer
                          << dhcp.dropped_options_length << dhcp.dropped_unexpected);
  REQUIRE(bound);
  CHECK(rig.device_faults == 0);
}

}  // namespace

TEST_CASE("slirp: DHCP from slirp's own server gives QEMU's user network", "[net][slirp]") {
  // Restricted, slirp leaves out the router and DNS options (there is nothing beyond the host
  // to route to); unrestricted, as QEMU's default, it gives both.
  const bool restricted = GENERATE(true, false);
  INFO("restricted: " << restricted);
  SlirpRig rig(restricted);
  bring_up(rig);
  const DhcpLease& lease = rig.dhcp->lease();
  CHECK(lease.address == ipv4(10, 0, 2, 15));
  CHECK(lease.netmask == ipv4(255, 255, 255, 0));
  CHECK(lease.router == (restricted ? 0 : ipv4(10, 0, 2, 2)));
  CHECK(lease.dns == (restricted ? 0 : ipv4(10, 0, 2, 3)));
  CHECK(lease.server == ipv4(10, 0, 2, 2));
  CHECK(lease.lease_seconds >= 3600);
  CHECK(rig.stack->config().address == ipv4(10, 0, 2, 15));
  CHECK(rig.dhcp->counters().dropped_unexpected == 0);

  // The gateway answers a ping (slirp answers ICMP echo to its own address).
  REQUIRE(rig.stack->ping(ipv4(10, 0, 2, 2), 9, 1, 56, rig.now_ms()) == NetError::kOk);
  Result<EchoReply> reply{{}, NetError::kWouldBlock};
  REQUIRE(rig.run_until(
      [&] {
        reply = rig.stack->take_echo_reply();
        return reply.ok();
      },
      5'000));
  CHECK(reply.value.from == ipv4(10, 0, 2, 2));
  CHECK(reply.value.sequence == 1);
}

TEST_CASE("slirp: curl fetches 1 MiB byte-exactly through the forwarded port", "[net][slirp]") {
  SlirpRig rig;
  bring_up(rig);
  HttpResponder http(*rig.stack, rig.now_ms());
  const std::string url = "http://127.0.0.1:" + std::to_string(rig.host_port());
  const std::string body = temp_path("body");
  const std::string log = temp_path("curl.log");

  for (int round = 0; round < 2; ++round) {  // twice: a second connection after the first
    const int status = run_client(rig, http,
                                  {"curl", "--silent", "--show-error", "--fail", "--max-time", "60",
                                   "--output", body, url + "/1m"},
                                  log, 90'000);
    INFO("curl: " << read_text(log));
    REQUIRE(status == 0);
    const std::string got = read_text(body);
    REQUIRE(got.size() == http.file(0).size());
    CHECK(std::memcmp(got.data(), http.file(0).data(), got.size()) == 0);
  }
  CHECK(http.responses == 2);

  // A path that is not there is a 404, which curl --fail reports (exit status 22).
  CHECK(run_client(rig, http, {"curl", "--silent", "--fail", "--max-time", "20", url + "/none"},
                   log, 30'000) == 22);
  CHECK(http.not_found == 1);
  CHECK(http.failures == 0);
  CHECK(rig.stack->counters().tcp_dropped_checksum == 0);
  std::remove(body.c_str());
  std::remove(log.c_str());
}

TEST_CASE("slirp: ab -k -n 200 -c 8 has no failed and no non-2xx responses", "[net][slirp]") {
  SlirpRig rig;
  bring_up(rig);
  HttpResponder http(*rig.stack, rig.now_ms());
  const std::string log = temp_path("ab.log");
  const int status = run_client(rig, http,
                                {"ab", "-k", "-n", "200", "-c", "8", "-s", "30",
                                 "http://127.0.0.1:" + std::to_string(rig.host_port()) + "/1k"},
                                log, 120'000);
  const std::string report = read_text(log);
  INFO("ab: " << report);
  REQUIRE(status == 0);
  CHECK(report.find("Complete requests:      200") != std::string::npos);
  CHECK(report.find("Failed requests:        0") != std::string::npos);
  CHECK(report.find("Non-2xx responses") == std::string::npos);  // printed only when non-zero
  CHECK(report.find("Keep-Alive requests:    200") != std::string::npos);
  CHECK(http.responses == 200);
  CHECK(http.failures == 0);
  std::remove(log.c_str());
}

TEST_CASE("slirp: bad configurations and frames are refused with a reason", "[net][slirp]") {
  using ukernel::hosted::SlirpAttachment;
  std::string error;
  SlirpAttachment::Options outside;
  outside.gateway = ipv4(10, 0, 3, 2);
  CHECK(SlirpAttachment::create(outside, &error) == nullptr);
  CHECK(error == "slirp: the gateway, DNS and DHCP addresses must be inside the network");

  SlirpAttachment::Options zero_port;
  zero_port.forwards = {{free_local_port(), 0}};
  CHECK(SlirpAttachment::create(zero_port, &error) == nullptr);
  CHECK(error == "slirp: a forward's guest port is 0");

  // A host port that is taken: the first attachment holds it.
  SlirpAttachment::Options forward;
  forward.forwards = {{free_local_port(), 80}};
  auto first = SlirpAttachment::create(forward, &error);
  REQUIRE(first != nullptr);
  CHECK(SlirpAttachment::create(forward, &error) == nullptr);
  CHECK(error == "slirp: cannot forward 127.0.0.1:" +
                     std::to_string(forward.forwards[0].host_port) + " (the port is in use?)");

  CHECK_FALSE(first->send(Bytes(13)));
  CHECK_FALSE(first->send(Bytes(1515)));
  CHECK(first->stats().frames_refused == 2);
  CHECK(first->stats().frames_to_network == 0);
}

namespace {

// A network namespace of the test's own, deleted (with the TAP interface in it) at the end.
struct Namespace {
  std::string name;
  bool made = false;
  explicit Namespace(std::string n) : name(std::move(n)) {
    made = std::system(("ip netns add " + name).c_str()) == 0;
  }
  ~Namespace() {
    if (made) (void)std::system(("ip netns del " + name).c_str());
  }
  bool run(const std::string& command) const {
    return std::system(("ip -n " + name + " " + command).c_str()) == 0;
  }
};

}  // namespace

TEST_CASE("tap: Linux's own TCP: curl and ping from a namespace of the test's own", "[net][tap]") {
  if (geteuid() != 0) {
    WARN("skipped: creating a TAP device and a network namespace needs root");
    return;
  }
  using ukernel::hosted::TapAttachment;
  const std::string suffix = std::to_string(getpid());
  const std::string tap_name = "uktap" + suffix;
  std::string error;
  auto tap = TapAttachment::create(tap_name, &error);
  INFO(error);
  REQUIRE(tap != nullptr);
  AttachedRig<TapAttachment> rig(std::move(tap), error);
  REQUIRE(rig.ok());
  constexpr Ipv4Address kLinux = ipv4(10, 0, 9, 1), kStack = ipv4(10, 0, 9, 2);
  rig.stack->set_address(kStack, ipv4(255, 255, 255, 0), 0);

  // Every address the test uses is inside the namespace it made: Linux's end of the TAP is
  // 10.0.9.1 there, and nothing is routed anywhere else.
  Namespace ns("ukernel-tap-" + suffix);
  REQUIRE(ns.made);
  REQUIRE(std::system(("ip link set " + tap_name + " netns " + ns.name).c_str()) == 0);
  REQUIRE(ns.run("addr add 10.0.9.1/24 dev " + tap_name));
  REQUIRE(ns.run("link set " + tap_name + " up"));
  REQUIRE(ns.run("link set lo up"));

  HttpResponder http(*rig.stack, rig.now_ms());
  const std::string log = temp_path("tap.log");
  const std::string body = temp_path("tap.body");
  const int pinged = run_client(
      rig, http,
      {"ip", "netns", "exec", ns.name, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.0.9.2"}, log,
      30'000);
  INFO("ping: " << read_text(log));
  CHECK(pinged == 0);
  CHECK(rig.stack->counters().icmp_echo_replies_sent >= 3);

  const int fetched =
      run_client(rig, http,
                 {"ip", "netns", "exec", ns.name, "curl", "--silent", "--show-error", "--fail",
                  "--max-time", "60", "--output", body, "http://10.0.9.2/1m"},
                 log, 90'000);
  INFO("curl: " << read_text(log));
  REQUIRE(fetched == 0);
  const std::string got = read_text(body);
  REQUIRE(got.size() == http.file(0).size());
  CHECK(std::memcmp(got.data(), http.file(0).data(), got.size()) == 0);
  CHECK(http.failures == 0);
  CHECK(rig.stack->counters().tcp_dropped_checksum == 0);
  CHECK(rig.attachment().stats().frames_refused == 0);
  (void)kLinux;
  std::remove(body.c_str());
  std::remove(log.c_str());
}

TEST_CASE("tap: bad interface names are refused with a reason", "[net][tap]") {
  using ukernel::hosted::TapAttachment;
  std::string error;
  CHECK(TapAttachment::create("", &error) == nullptr);
  CHECK(error == "tap: an interface name is 1 to 15 characters");
  CHECK(TapAttachment::create("a-name-too-long-", &error) == nullptr);
  CHECK(error == "tap: an interface name is 1 to 15 characters");
  if (geteuid() != 0) return;  // the kernel's own refusal needs a TAP device to clash with
  const std::string name = "uktapb" + std::to_string(getpid() % 100000);
  auto first = TapAttachment::create(name, &error);
  REQUIRE(first != nullptr);
  CHECK_FALSE(first->send(Bytes(13)));
  CHECK(first->stats().frames_refused == 1);
  CHECK(TapAttachment::create(name, &error) == nullptr);
  CHECK(error.rfind("tap: cannot create " + name + ": ", 0) == 0);
}
