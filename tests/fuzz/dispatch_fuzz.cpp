// libFuzzer target: arbitrary messages into the RPC dispatcher. Every input must produce a
// reply that is either a success of the right shape or an error label, and no handler may see
// an argument outside its type's range.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <cstdio>

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

struct Target : rpc::Server<Target, Proto> {
  rpc::Result<std::int16_t> handle(Proto::Narrow, std::uint8_t a, std::int8_t b, bool c, Mode m) {
    if (std::uint8_t(m) >= std::uint8_t(Mode::kCount)) std::abort();  // must never arrive
    return std::int16_t(a + b + c);
  }
  rpc::Result<std::array<std::uint64_t, 20>> handle(Proto::Wide, std::array<std::uint32_t, 30> in) {
    std::array<std::uint64_t, 20> out{};
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = in[i] + in[i + 10];
    return out;
  }
  rpc::Result<void> handle(Proto::Cap, rpc::Capability cap, std::uint64_t) {
    if (cap.address < 100 || cap.address >= 100 + kMaxTransferCaps) std::abort();
    return {};
  }
  rpc::Result<void> handle(Proto::Nothing) { return Error::kNotFound; }
};

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
  Target target;
  target.set_capability_window(100);
  Message reply = target.dispatch(m);
  bool success = reply.label() == 0;
  bool error = reply.label() >= 1 && reply.label() <= word(Error::kIllegalOperation);
  if (!success && !error) std::abort();
  if (error && reply.info.length() != 0) std::abort();
  if (reply.info.length() > kMaxMessageWords) std::abort();
  if (success && label >= 1 && label <= 4) ++g_handled[label];
  return 0;
}

// Reports how often each method's handler ran, so a run that never reaches them is visible.
__attribute__((destructor)) static void report() {
  std::fprintf(stderr, "handled: narrow %zu, wide %zu, cap %zu, nothing(error) %zu\n", g_handled[1],
               g_handled[2], g_handled[3], g_handled[4]);
}
