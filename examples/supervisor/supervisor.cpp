// The supervisor; see supervisor.hpp and docs/example-system.md (the restart protocol).
#include "supervisor/supervisor.hpp"

#include <atomic>

#include "pci/rpc.hpp"
#include "supervisor/protocol.hpp"
#include "supervisor/restart_policy.hpp"
#include "system/control.hpp"
#include "timer/protocol.hpp"
#include "ukernel/log.hpp"
#include "ukernel/names.hpp"

namespace supervisor {

using namespace system_example;
using ukernel::Message;
using ukernel::MessageInfo;

namespace {

constexpr std::uint64_t kTickNs = 10'000'000;  // 10 ms
constexpr unsigned kPingEveryTicks = 10;       // ping every server every 100 ms
constexpr std::uint64_t kPingTimeoutNs = Platform::kPingTimeoutNs;  // why: platform.hpp
constexpr word kTickerPriority = 250;  // the helpers share a priority (see system.hpp)
constexpr word kWorkerPriority = 250;
constexpr std::size_t kNobody = ~std::size_t{0};
// Bits of the supervisor's and its helpers' notifications.
constexpr word kTickBit = 1;
constexpr word kWakeBit = 2;

const char* fault_name(ukernel::FaultKind kind) {
  switch (kind) {
    case ukernel::FaultKind::kCapability:
      return "bad capability address";
    case ukernel::FaultKind::kInvalidSyscall:
      return "invalid system call";
    case ukernel::FaultKind::kMemoryAccess:
      return "memory access";
    case ukernel::FaultKind::kArithmetic:
      return "arithmetic fault";
    case ukernel::FaultKind::kIllegalInstruction:
      return "illegal instruction";
    case ukernel::FaultKind::kProtection:
      return "protection fault";
    case ukernel::FaultKind::kBreakpoint:
      return "breakpoint";
    case ukernel::FaultKind::kAbort:
      return "abort";
  }
  return "unknown fault";
}

// What the supervisor and its two helper threads share (they run in the root task).
struct Shared {
  Boot* boot = nullptr;
  std::atomic<State> states[kServerCount] = {};
  std::atomic<std::uint64_t> now_ns{0};  // as of the last tick
  std::atomic<std::size_t> pinging{kNobody};
  std::atomic<std::uint64_t> ping_since_ns{0};
  std::atomic<bool> ping_round{false};
  std::atomic<bool> register_again{false};
  std::atomic<std::size_t> crash_request{kNobody};
  word ticker_notification = 0;  // the ticker waits on it (kTimerBit: tick; kWakeBit: retry)
  word ticker_timer_wake = 0;    // badged kTimerBit, handed to the timer service
  word wake_ticker = 0;          // badged kWakeBit
  word worker_notification = 0;
  word wake_worker = 0;
  word worker_scratch = 0;  // an empty slot the worker copies capabilities through
  word tick = 0;            // the supervisor's notification, badged kTickBit
} g;

// --- the helper threads ----------------------------------------------------------------------

// Asks the timer service for a wake-up every tick and passes it on. When the timer is down it
// waits until the supervisor says a new one is ready.
void ticker(word) {
  for (;;) {
    rpc::Client<timer::Protocol> timer(g.boot->caps(kTimerIndex).endpoint);
    auto now = timer.call<timer::Protocol::Wake>(rpc::Capability{g.ticker_timer_wake}, kTickNs);
    Message bits = ukernel::wait(g.ticker_notification);
    if (now.ok() && (bits.badge & kTimerBit) != 0) {
      g.now_ns = now.value() + kTickNs;
      (void)ukernel::signal(g.tick);
    }
  }
}

void register_everyone_again() {
  for (std::size_t i = 0; i < kServerCount; ++i) {
    if (i == kNamesIndex || kSystem.servers[i].root || g.states[i] != State::kRunning) continue;
    const ServerCaps& c = g.boot->caps(i);
    (void)ukernel::cnode_copy(ukernel::kRootCNodeSlot, g.worker_scratch, ukernel::kRootCNodeSlot,
                              c.endpoint, Rights::kAll);
    rpc::Client<ukernel::names::Protocol> names(c.names);
    auto registered = names.call<ukernel::names::Protocol::Register>(
        ukernel::names::Name(kSystem.servers[i].name), rpc::Capability{g.worker_scratch});
    if (!registered.ok())
      ukernel::log("supervisor: cannot register {} again (error {})", kSystem.servers[i].name,
                   word(registered.error()));
    (void)ukernel::cnode_delete(ukernel::kRootCNodeSlot, g.worker_scratch);
  }
}

// Makes the calls into servers, which may block: pings, the crash hook, registering again.
void worker(word) {
  for (;;) {
    (void)ukernel::wait(g.worker_notification);
    if (g.register_again.exchange(false)) register_everyone_again();
    if (std::size_t target = g.crash_request.exchange(kNobody); target != kNobody) {
      rpc::Client<Control> server(g.boot->caps(target).endpoint);
      (void)server.call<Control::Crash>();
    }
    if (g.ping_round.exchange(false)) {
      for (std::size_t i = 0; i < kServerCount; ++i) {
        if (kSystem.servers[i].root || g.states[i] != State::kRunning) continue;
        g.ping_since_ns = g.now_ns.load();
        g.pinging = i;
        rpc::Client<Control> server(g.boot->caps(i).endpoint);
        (void)server.call<Control::Ping>();
        g.pinging = kNobody;
      }
    }
  }
}

// --- the supervisor itself -----------------------------------------------------------------

class Supervisor : public rpc::Server<Supervisor, Protocol> {
 public:
  explicit Supervisor(Boot& boot) : boot_(boot) {}

  [[noreturn]] void loop() {
    Message request = ukernel::recv(boot_.supervisor_endpoint());
    for (;;) {
      bool answer = false;
      Message reply;
      if (request.label() == ukernel::kFaultLabel) {
        on_failure(request.badge, Failure{ukernel::FaultKind(request.words[0]), request.words[1],
                                          request.words[2]});
      } else if (request.label() == ukernel::kNotificationLabel) {
        if ((request.badge & kTickBit) != 0) on_tick();
      } else if (request.label() == Protocol::WaitUp::kId && !up_) {
        if (request.badge < kServerCount &&
            ukernel::cnode_save_reply(ukernel::kRootCNodeSlot, waiting_[request.badge]) ==
                Error::kOk)
          waiting_for_up_[request.badge] = true;
      } else {
        reply = dispatch(request);
        answer = true;
      }
      request = answer ? ukernel::reply_recv(boot_.supervisor_endpoint(), reply)
                       : ukernel::recv(boot_.supervisor_endpoint());
    }
  }

  void prepare() {
    for (word& slot : waiting_)
      slot = boot_.slot();
    for (std::size_t i = 0; i < kServerCount; ++i)
      g.states[i] = kSystem.servers[i].root ? State::kRunning : State::kStarting;
  }

  // --- the protocol ---
  rpc::Result<void> handle(Protocol::Ready) {
    std::size_t i = badge();
    if (i >= kServerCount) return Error::kInvalidArgument;
    g.states[i] = State::kRunning;
    ready_[i] = true;
    if (i == kNamesIndex && history_[i].restarts() > 0) {
      g.register_again = true;
      (void)ukernel::signal(g.wake_worker);
    }
    if (i == kTimerIndex) {
      (void)ukernel::signal(g.wake_ticker);
      // A restarted timer service has forgotten every wake-up: tell its clients to look at the
      // clock and ask again.
      for (std::size_t s = 0; s < kServerCount && history_[i].restarts() > 0; ++s) {
        if (!kSystem.servers[s].root && g.states[s] == State::kRunning)
          (void)ukernel::signal(boot_.caps(s).timer_wake);
      }
    }
    if (!up_) check_up();
    return {};
  }
  rpc::Result<void> handle(Protocol::WaitUp) { return {}; }  // up already (see loop)
  rpc::Result<std::array<word, 2>> handle(Protocol::Status, word index) {
    if (index >= kServerCount) return Error::kInvalidArgument;
    return std::array<word, 2>{word(g.states[index].load()), history_[index].restarts()};
  }
  rpc::Result<void> handle(Protocol::Kill, word index) {
    if (badge() != kShellIndex) return Error::kInsufficientRights;
    if (index >= kServerCount || kSystem.servers[index].root) return Error::kInvalidArgument;
    ukernel::log("supervisor: {} stopped at the shell's request", kSystem.servers[index].name);
    stop(index, State::kStopped);
    return {};
  }
  rpc::Result<void> handle(Protocol::Crash, word index) {
    if (badge() != kShellIndex) return Error::kInsufficientRights;
    if (index >= kServerCount || kSystem.servers[index].root) return Error::kInvalidArgument;
    g.crash_request = index;
    (void)ukernel::signal(g.wake_worker);
    return {};
  }
  rpc::Result<void> handle(Protocol::PowerOff) {
    if (badge() != kShellIndex) return Error::kInsufficientRights;
    if (!Platform::can_power_off(boot_.power_off_ports())) return Error::kIllegalOperation;
    ukernel::log("system: power off");
    return Platform::power_off(boot_.power_off_ports());
  }

  rpc::Result<std::array<word, 9>> handle(Protocol::PciHost) {
    if (badge() != boot_.pci_server()) return Error::kInsufficientRights;
    const ukernel::BootInfo::PciHost& p = boot_.pci();
    return std::array<word, 9>{p.ecam_paddr,   p.ecam_size,   p.bus_first,
                               p.bus_last,     p.mmio_paddr,  p.mmio_size,
                               p.mmio64_paddr, p.mmio64_size, p.firmware_assigned};
  }

 private:
  // Before a driver with a PCI function is restarted or stopped: its function's bus mastering
  // goes off, so the device stops writing memory the driver no longer controls. A PCI server
  // that is not running cannot be asked (it turns bus mastering off for every function when it
  // starts again; docs/example-system.md).
  void stop_bus_master(std::size_t index) {
    std::size_t pci = boot_.pci_server();
    if (pci == kServerCount || pci == index || !has_pci_grant(index)) return;
    if (g.states[pci] != State::kRunning) {
      ukernel::log("supervisor: pci is down; {}'s device keeps bus mastering until it restarts",
                   kSystem.servers[index].name);
      return;
    }
    rpc::Client<pci::Protocol> server(boot_.caps(pci).endpoint);
    auto stopped = server.call<pci::Protocol::StopBusMaster>(word(index));
    if (!stopped.ok() && stopped.error() != Error::kNotFound)
      ukernel::log("supervisor: pci cannot stop {}'s bus mastering (error {})",
                   kSystem.servers[index].name, word(stopped.error()));
  }
  static bool has_pci_grant(std::size_t index) {
    const sysdesc::Server& server = kSystem.servers[index];
    for (std::size_t grant = 0; grant < server.grant_count(); ++grant) {
      if (server.grants[grant].kind == sysdesc::GrantKind::kPci) return true;
    }
    return false;
  }

  void check_up() {
    for (std::size_t i = 0; i < kServerCount; ++i) {
      if (!kSystem.servers[i].root && !ready_[i]) return;
    }
    up_ = true;
    ukernel::log("system up: {} servers", kServerCount);
    for (std::size_t i = 0; i < kServerCount; ++i) {
      if (!waiting_for_up_[i]) continue;
      waiting_for_up_[i] = false;
      (void)ukernel::send(waiting_[i], Message(MessageInfo(0, 0)));
      (void)ukernel::cnode_delete(ukernel::kRootCNodeSlot, waiting_[i]);
    }
  }

  // Server `index` faulted or stopped answering: restart it (now or after its backoff), or
  // mark it failed. Logs one line.
  struct Failure {
    ukernel::FaultKind kind = ukernel::FaultKind(0);  // 0: stopped answering pings
    word address = 0;
    word ip = 0;
  };

  void on_failure(word index, Failure failure) {
    if (index >= kServerCount || kSystem.servers[index].root) return;
    State state = g.states[index];
    if (state != State::kRunning && state != State::kStarting) return;  // already handled
    std::string_view name = kSystem.servers[index].name;
    stop_bus_master(index);  // at once: a restart may wait for its backoff
    char text[96];
    std::size_t n =
        failure.kind == ukernel::FaultKind(0)
            ? ukernel::arch::format_to_buffer(text, sizeof text, "stopped answering pings")
            : ukernel::arch::format_to_buffer(text, sizeof text, "faulted: {} at {:#x} (ip {:#x})",
                                              fault_name(failure.kind), failure.address,
                                              failure.ip);
    std::string_view what(text, n < sizeof text ? n : sizeof text);
    auto delay = history_[index].on_failure(g.now_ns, policy_);
    if (!delay) {
      ukernel::log("supervisor: {} {}; {} restarts in {} s: failed", name, what,
                   policy_.max_restarts, policy_.window_ns / 1'000'000'000);
      stop(index, State::kFailed);
      return;
    }
    // The timer cannot wait for itself: it restarts at once.
    if (index == kTimerIndex) *delay = 0;
    ukernel::log("supervisor: {} {}; restart {} in {} ms", name, what, history_[index].restarts(),
                 *delay / 1'000'000);
    g.states[index] = State::kRestarting;
    restart_at_[index] = g.now_ns + *delay;
    if (*delay == 0) restart(index);
  }

  // The restart protocol: stop it, cut every client off (revoke), a new endpoint, empty slots,
  // a fresh image. The name service keeps its endpoint (every server holds it); its table is
  // refilled by the worker once it is ready.
  void restart(std::size_t index) {
    const ServerCaps& c = boot_.caps(index);
    (void)ukernel::thread_suspend(c.thread);
    stop_bus_master(index);
    if (index != kNamesIndex) {
      if (Error e = boot_.renew_endpoint(index); e != Error::kOk) {
        ukernel::log("supervisor: cannot renew the endpoint of {} (error {})",
                     kSystem.servers[index].name, word(e));
        stop(index, State::kFailed);
        return;
      }
    }
    boot_.clear_free_slots(index);
    ready_[index] = false;
    g.states[index] = State::kStarting;
    if (!boot_.start(index)) stop(index, State::kFailed);
  }

  // For good: every client is cut off, and deleting the thread cancels its pending calls.
  void stop(std::size_t index, State state) {
    const ServerCaps& c = boot_.caps(index);
    g.states[index] = state;
    (void)ukernel::thread_suspend(c.thread);
    stop_bus_master(index);
    (void)ukernel::cnode_revoke(ukernel::kRootCNodeSlot, c.endpoint);
    (void)ukernel::cnode_delete(ukernel::kRootCNodeSlot, c.endpoint);
    (void)ukernel::cnode_delete(ukernel::kRootCNodeSlot, c.thread);
  }

  void on_tick() {
    std::uint64_t now = g.now_ns;
    for (std::size_t i = 0; i < kServerCount; ++i) {
      if (g.states[i] == State::kRestarting && restart_at_[i] <= now) restart(i);
    }
    std::size_t pinged = g.pinging;
    if (pinged != kNobody && g.states[pinged] == State::kRunning &&
        now >= g.ping_since_ns + kPingTimeoutNs) {  // (a restarted clock may be a little behind)
      on_failure(pinged, Failure{});
    }
    if (++ticks_ % kPingEveryTicks == 0) {
      g.ping_round = true;
      (void)ukernel::signal(g.wake_worker);
    }
  }

  Boot& boot_;
  RestartPolicy policy_;
  RestartHistory history_[kServerCount];
  std::uint64_t restart_at_[kServerCount] = {};
  bool ready_[kServerCount] = {};
  bool waiting_for_up_[kServerCount] = {};
  word waiting_[kServerCount] = {};
  bool up_ = false;
  std::uint64_t ticks_ = 0;
};

}  // namespace

void run(word boot_info, ImageLoader loader) {
  Boot boot(boot_info, loader);
  g.boot = &boot;
  if (!boot.make_all()) {
    ukernel::log("system: boot failed");
    return;
  }
  word notification = boot.make(ObjectType::kNotification);
  g.tick = boot.mint(notification, Rights::kWrite, kTickBit);
  g.ticker_notification = boot.make(ObjectType::kNotification);
  g.ticker_timer_wake = boot.mint(g.ticker_notification, Rights::kWrite, kTimerBit);
  g.wake_ticker = boot.mint(g.ticker_notification, Rights::kWrite, kWakeBit);
  g.worker_notification = boot.make(ObjectType::kNotification);
  g.wake_worker = boot.mint(g.worker_notification, Rights::kWrite, kWakeBit);
  g.worker_scratch = boot.slot();
  if (ukernel::thread_bind_notification(ukernel::kRootThreadSlot, notification) != Error::kOk) {
    ukernel::log("system: boot failed: cannot bind the supervisor's notification");
    return;
  }
  Supervisor supervisor(boot);
  supervisor.prepare();
  // The name service first: everyone else registers with it.
  bool started = boot.start(kNamesIndex);
  for (std::size_t i = 0; started && i < kServerCount; ++i) {
    if (i != kNamesIndex && !kSystem.servers[i].root) started = boot.start(i);
  }
  if (!started) {
    ukernel::log("system: boot failed");
    return;
  }
  if (boot.spawn(reinterpret_cast<word>(&ticker), 0, kTickerPriority) == 0 ||
      boot.spawn(reinterpret_cast<word>(&worker), 0, kWorkerPriority) == 0) {
    ukernel::log("system: boot failed: cannot start the supervisor's helper threads");
    return;
  }
  supervisor.loop();
}

}  // namespace supervisor
