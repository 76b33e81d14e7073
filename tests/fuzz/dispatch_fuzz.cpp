// libFuzzer target: arbitrary messages into the RPC dispatcher. Every input must produce a
// reply that is either a success of the right shape or an error label, and no handler may see
// an argument outside its type's range.
//
// The oracle is written independently of rpc.hpp: from the raw request the fuzzer works out
// whether it is well-formed (right label, length and capability count; every word within its
// argument's range), and then requires exactly that outcome: a well-formed request runs its
// handler and gets a success of the method's result length; any other gets an error label with
// no words, and runs no handler. Each handler compares what it received with the raw words.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ukernel/rpc.hpp"

using namespace ukernel;

namespace {

enum class Mode : std::uint8_t { kA, kB, kC, kCount };

struct Proto {
  using Narrow = rpc::Method<1, std::int16_t(std::uint8_t, std::int8_t, bool, Mode)>;
  using Wide = rpc::Method<2, std::array<std::uint64_t, 20>(std::array<std::uint32_t, 30>)>;
  using Cap = rpc::Method<3, void(rpc::Capability, std::uint64_t)>;
  using Nothing = rpc::Method<4, void()>;
  using Methods = rpc::Methods<Narrow, Wide, Cap, Nothing>;
};

constexpr word kCapabilityWindow = 100;

// The request being dispatched, and which handler ran for it.
const Message* g_request = nullptr;
word g_ran = 0;

word raw(std::size_t i) {
  return message_word(*g_request, i);
}

// Aborts (a libFuzzer crash) when a promise is broken.
void require(bool holds) {
  if (!holds) std::abort();
}

struct Target : rpc::Server<Target, Proto> {
  rpc::Result<std::int16_t> handle(Proto::Narrow, std::uint8_t a, std::int8_t b, bool c, Mode m) {
    g_ran = 1;
    require(std::uint8_t(m) < std::uint8_t(Mode::kCount));
    require(word(a) == raw(0) && std::int64_t(b) == std::int64_t(raw(1)) && word(c) == raw(2) &&
            word(m) == raw(3));
    return std::int16_t(a + b + c);
  }
  rpc::Result<std::array<std::uint64_t, 20>> handle(Proto::Wide, std::array<std::uint32_t, 30> in) {
    g_ran = 2;
    std::array<std::uint64_t, 20> out{};
    for (std::size_t i = 0; i < in.size(); ++i)
      require(word(in[i]) == raw(i));
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = std::uint64_t(in[i]) + in[i + 10];
    return out;
  }
  rpc::Result<void> handle(Proto::Cap, rpc::Capability cap, std::uint64_t value) {
    g_ran = 3;
    require(cap.address == kCapabilityWindow);  // the first (only) slot of the window
    require(value == raw(0));
    return {};
  }
  rpc::Result<void> handle(Proto::Nothing) {
    g_ran = 4;
    return Error::kNotFound;
  }
};

// What the request must produce, worked out from its raw words.
struct Expected {
  bool well_formed = false;  // runs the handler
  std::size_t result_words = 0;
};

Expected expected_for(const Message& m) {
  bool clean = !m.info.caps_dropped() && !m.info.truncated();
  auto shape = [&](std::size_t words, std::size_t caps) {
    return clean && m.info.length() == words && m.info.caps() == caps;
  };
  switch (m.label()) {
    case 1: {
      auto b = std::int64_t(raw(1));
      bool in_range =
          raw(0) <= 0xff && b >= -128 && b <= 127 && raw(2) <= 1 && raw(3) < word(Mode::kCount);
      return {shape(4, 0) && in_range, 1};
    }
    case 2: {
      bool in_range = true;
      for (std::size_t i = 0; i < 30; ++i)
        in_range = in_range && raw(i) <= 0xffffffff;
      return {shape(30, 0) && in_range, 20};
    }
    case 3:
      return {shape(1, 1), 0};
    case 4:
      return {shape(0, 0), 0};
    default:
      return {false, 0};
  }
}

}  // namespace

std::size_t g_handled[5] = {};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Byte 0: label (0..7, so the methods are often hit), 1: length (0..127), 2: capability count
  // and flags; then the words.
  if (size < 3) return 0;
  word label = data[0] % 8;
  std::size_t length = data[1] % 128;
  word info = (label << 12) | (word(data[2] >> 3) << 7) | (word(data[2] & 3) << 10) | length;
  data += 3, size -= 3;
  Message m{MessageInfo(info)};
  m.badge = 1;
  IpcBuffer* buffer = arch::user_ipc_buffer();
  for (std::size_t i = 0; i < kMaxMessageWords; ++i) {
    word w = 0;
    std::size_t n = size < 8 ? size : 8;
    std::memcpy(&w, data, n);
    data += n, size -= n;
    if (i < kMessageRegisters) {
      m.words[i] = w;
    } else {
      buffer->msg[i] = w;
    }
  }
  g_request = &m;
  g_ran = 0;
  Expected expected = expected_for(m);
  Target target;
  target.set_capability_window(kCapabilityWindow);
  Message reply = target.dispatch(m);
  bool success = reply.label() == 0;
  bool error = reply.label() >= 1 && reply.label() <= word(Error::kIllegalOperation);
  require(success || error);
  require(reply.info.length() <= kMaxMessageWords && reply.info.caps() == 0);
  // A handler runs exactly for a well-formed request, and only its own.
  require(g_ran == (expected.well_formed ? label : 0));
  if (error) require(reply.info.length() == 0);
  if (success) require(expected.well_formed && reply.info.length() == expected.result_words);
  // A well-formed request fails only where its handler says so (Nothing returns kNotFound).
  if (expected.well_formed) require(success == (label != 4));
  if (expected.well_formed) ++g_handled[label];
  // Narrow's result is the sum of its arguments, as a word.
  if (success && label == 1)
    require(std::int64_t(reply.words[0]) ==
            std::int64_t(raw(0)) + std::int64_t(raw(1)) + std::int64_t(raw(2)));
  return 0;
}

// Reports how often each method's handler ran, so a run that never reaches them is visible.
__attribute__((destructor)) static void report() {
  std::fprintf(stderr, "handled: narrow %zu, wide %zu, cap %zu, nothing (its error) %zu\n",
               g_handled[1], g_handled[2], g_handled[3], g_handled[4]);
}
