// The IPC benchmark of the bare-metal back-ends: a root task that calls an echo server in a
// second address space and measures, from the client, the guest instructions per round trip.
//
// How it measures: QEMU runs with -icount shift=0, so virtual time (and the cycle counter of
// arch_kit.hpp: the TSC, or AArch64's virtual counter) advances with executed instructions. The
// ticks-per-instruction ratio is calibrated with a loop of known length (two instructions per
// iteration, the difference of two lengths cancels the loop's set-up). A figure is the cheapest
// of kBatches batches of kRounds round trips (the counter read before the first call, after the
// last return), so a batch with a timer interrupt in it does not count; it includes the client's
// system-call stub and loop. Each line: "bench: NAME N insns".
#include "arch_kit.hpp"
#include "log.hpp"
#include "root_kit.hpp"

namespace ukernel {
namespace {

constexpr word kServerEndpoint = 1;      // in the server's CNode
constexpr word kServerNotification = 2;  // in the server's CNode
constexpr word kServerPriority = 255;
// Below the servers, so that a signal to the waiter switches to it at once.
constexpr word kRootPriority = 254;
constexpr word kServerStackTop = arch::kRootStackTop;
constexpr unsigned kRounds = 64;
constexpr unsigned kBatches = 40;

user::RootKit root;

// Answers each request with the same label and words (the words past the registers are already
// in its IPC buffer, where the kernel put the request's).
void server_main(word) {
  Message m = recv(kServerEndpoint);
  for (;;)
    m = reply_recv(kServerEndpoint, m);
}

// Waits on the notification the root task signals; each signal wakes it (it has the higher
// priority), and its next wait hands the CPU back.
void waiter_main(word) {
  for (;;)
    (void)wait(kServerNotification);
}

// Counter ticks for a loop of 2 * iterations instructions (plus a constant).
word loop_ticks(word iterations) {
  word start = user::cycle_count();
  user::count_down(iterations);
  return user::cycle_count() - start;
}

// Counter ticks per 1024 instructions.
word ticks_per_1024_instructions() {
  constexpr word kShort = 10000, kLong = 30000;
  word best_short = ~word{0}, best_long = ~word{0};
  for (int i = 0; i < 5; ++i) {
    word s = loop_ticks(kShort), l = loop_ticks(kLong);
    if (s < best_short) best_short = s;
    if (l < best_long) best_long = l;
  }
  return (best_long - best_short) * 1024 / (2 * (kLong - kShort));
}

// The cheapest batch of kRounds repetitions of `op`, in counter ticks per repetition * 1024.
template <class Op>
word measure(Op op, bool& ok) {
  word best = ~word{0};
  for (unsigned b = 0; b < kBatches; ++b) {
    word start = user::cycle_count();
    for (unsigned i = 0; i < kRounds; ++i)
      ok = op() && ok;
    word ticks = user::cycle_count() - start;
    if (ticks < best) best = ticks;
  }
  return best * 1024 / kRounds;
}

void report(std::string_view name, word ticks_x1024, word ratio_x1024) {
  user::Line line;
  line << "bench: " << name << " " << (ticks_x1024 + ratio_x1024 / 2) / ratio_x1024 << " insns";
  line.end();
}

}  // namespace
}  // namespace ukernel

extern "C" ukernel::word user_main(ukernel::word boot_info_address) {
  using namespace ukernel;
  root.init(boot_info_address);
  word endpoint = root.make(ObjectType::kEndpoint);
  word notification = root.make(ObjectType::kNotification);
  word space = root.make_code_space();
  word cnode = root.make(ObjectType::kCNode, 2);
  word signaller = notification ? root.mint(notification, Rights::kWrite, 1) : 0;
  word ipc = space ? root.map_fresh_frame(space, arch::kUserIpcBuffer) : 0;
  constexpr word kWaiterStackTop = kServerStackTop - 0x100000;
  if (endpoint == 0 || notification == 0 || signaller == 0 || space == 0 || cnode == 0 ||
      ipc == 0 || root.map_fresh_frame(space, kServerStackTop - user::kPage) == 0 ||
      root.map_fresh_frame(space, kWaiterStackTop - user::kPage) == 0 ||
      cnode_copy(cnode, kServerEndpoint, kRootCNodeSlot, endpoint, Rights::kRead) != Error::kOk ||
      cnode_copy(cnode, kServerNotification, kRootCNodeSlot, notification, Rights::kRead) !=
          Error::kOk ||
      root.start_thread(server_main, 0, cnode, space, ipc, 0, kServerPriority, kServerStackTop) ==
          0 ||
      root.start_thread(waiter_main, 0, cnode, space, 0, 0, kServerPriority, kWaiterStackTop) ==
          0 ||
      thread_set_priority(kRootThreadSlot, kRootPriority) != Error::kOk) {
    (void)debug_write("bench: set-up failed\n");
    return 1;
  }

  word ratio = ticks_per_1024_instructions();
  user::Line calibration;
  calibration << "bench: calibration " << ratio << " counter ticks per 1024 instructions";
  calibration.end();

  bool ok = true;
  // 4 words each way (the figure the issue defines), and an empty message (seL4's anchor).
  Message four(MessageInfo(1, 4));
  for (std::size_t i = 0; i < 4; ++i)
    four.words[i] = i + 1;
  word ipc_ticks = measure(
      [&] {
        Message r = call(endpoint, four);
        return r.ok() && r.info.length() == 4 && r.words[3] == 4;
      },
      ok);
  const Message empty(MessageInfo(1, 0));
  word empty_ticks = measure([&] { return call(endpoint, empty).ok(); }, ok);
  Message ten(MessageInfo(1, 10));
  for (std::size_t i = 0; i < 10; ++i)
    set_message_word(ten, i, i);
  word ipc10_ticks = measure(
      [&] {
        Message r = call(endpoint, ten);
        return r.ok() && r.info.length() == 10;
      },
      ok);
  word syscall_ticks = measure([&] { return poll(notification).ok(); }, ok);
  // A signal that wakes a waiting thread of higher priority, and its wait that hands back.
  word signal_ticks = measure([&] { return signal(signaller) == Error::kOk; }, ok);
  if (!ok) {
    (void)debug_write("bench: a call failed\n");
    return 1;
  }
  report("ipc_roundtrip_insns", ipc_ticks, ratio);
  report("ipc_roundtrip_empty_insns", empty_ticks, ratio);
  report("syscall_roundtrip_insns", syscall_ticks, ratio);
  report("ipc_roundtrip_10w_insns", ipc10_ticks, ratio);
  report("notification_signal_wait_insns", signal_ticks, ratio);
  return 0;
}
