// Typed RPC: round trips of every supported argument type at the edges, capabilities as
// arguments, and thousands of random malformed messages that must all get error replies.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

#include "support/root_kit.hpp"
#include "ukernel/rpc.hpp"

using namespace ukernel;

namespace {

enum class Colour : std::uint8_t { kRed, kGreen, kBlue, kCount };
using Big = std::array<std::uint64_t, 64>;

struct Edge {
  using Empty = rpc::Method<1, void()>;
  using Mixed =
      rpc::Method<2, std::int64_t(std::int8_t, std::uint16_t, bool, Colour, std::int64_t)>;
  using Largest = rpc::Method<3, Big(Big)>;
  using TakeCap = rpc::Method<4, std::uint64_t(rpc::Capability)>;
  using Methods = rpc::Methods<Empty, Mixed, Largest, TakeCap>;
};

struct EdgeServer : rpc::Server<EdgeServer, Edge> {
  rpc::Result<void> handle(Edge::Empty) { return {}; }
  rpc::Result<std::int64_t> handle(Edge::Mixed, std::int8_t a, std::uint16_t b, bool c, Colour d,
                                   std::int64_t e) {
    return std::int64_t(a) + std::int64_t(b) + (c ? 1000 : 0) + 10000 * std::int64_t(d) + e;
  }
  rpc::Result<Big> handle(Edge::Largest, Big in) {
    for (auto& v : in)
      v = ~v;
    return in;
  }
  rpc::Result<std::uint64_t> handle(Edge::TakeCap, rpc::Capability cap) {
    // Prove the capability arrived: signal the notification through it.
    return signal(cap.address) == Error::kOk ? cap.address : 0;
  }
};

word g_endpoint = 0;
word g_window = 0;

void edge_server(word) {
  EdgeServer server;
  server.set_capability_window(g_window);
  (void)server.serve(g_endpoint);
}

struct Observed {
  bool empty_ok = false;
  rpc::Result<std::int64_t> mixed = Error::kIllegalOperation;
  bool largest_ok = false;
  rpc::Result<std::uint64_t> cap = Error::kIllegalOperation;
  word bits = 0;
  int random_sent = 0;
  int random_ok = 0;
  int random_error_replies = 0;
  int random_other = 0;
  bool alive_after = false;
} g;

void root(word info) {
  test::RootKit kit(info);
  g_endpoint = kit.make(ObjectType::kEndpoint);
  g_window = kit.slot();
  for (std::size_t i = 1; i < kMaxTransferCaps; ++i)
    (void)kit.slot();
  kit.spawn(edge_server, 0, 100);
  word client_ep = kit.mint(g_endpoint, Rights::kAll, 5);
  rpc::Client<Edge> client(client_ep);

  g.empty_ok = client.call<Edge::Empty>().ok();
  g.mixed = client.call<Edge::Mixed>(std::int8_t{-128}, std::uint16_t{65535}, true, Colour::kBlue,
                                     std::numeric_limits<std::int64_t>::min() / 2);
  Big big;
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = i * 0x0101010101010101ull;
  auto largest = client.call<Edge::Largest>(big);
  g.largest_ok = largest.ok();
  for (std::size_t i = 0; g.largest_ok && i < big.size(); ++i) {
    g.largest_ok = largest.value()[i] == ~big[i];
  }
  word ntfn = kit.make(ObjectType::kNotification);
  word badged = kit.mint(ntfn, Rights::kAll, 0x40);
  g.cap = client.call<Edge::TakeCap>(rpc::Capability{badged});
  g.bits = poll(ntfn).badge;

  // Random messages: labels, lengths, words and capabilities from a seeded generator.
  std::uint64_t x = 12345;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 3000; ++i) {
    word label = next() % 8;
    std::size_t length = next() % (kMaxMessageWords + 1);
    std::size_t caps = next() % 2 ? 0 : next() % (kMaxTransferCaps + 1);
    for (std::size_t c = 0; c < caps; ++c)
      arch::user_ipc_buffer()->caps[c] = badged;
    Message m(MessageInfo(label, length, caps));
    for (std::size_t w = 0; w < length; ++w) {
      word v = next();
      set_message_word(m, w, next() % 3 == 0 ? v % 4 : v);
    }
    Message r = call(client_ep, m);
    ++g.random_sent;
    if (r.status != Error::kOk) {
      ++g.random_other;
    } else if (r.label() == 0) {
      ++g.random_ok;
    } else {
      ++g.random_error_replies;
    }
    // Drop any capability the server did not consume, so the window stays free.
    for (std::size_t c = 0; c < kMaxTransferCaps; ++c) {
      (void)cnode_delete(kRootCNodeSlot, g_window + c);
    }
  }
  g.alive_after = client.call<Edge::Empty>().ok();
}

}  // namespace

TEST_CASE("rpc: argument types at their edges, the largest message, capabilities") {
  g = Observed{};
  hosted::Simulation sim;
  sim.run(root);
  CHECK(g.empty_ok);
  REQUIRE(g.mixed.ok());
  CHECK(g.mixed.value() ==
        -128 + 65535 + 1000 + 20000 + std::numeric_limits<std::int64_t>::min() / 2);
  CHECK(g.largest_ok);
  REQUIRE(g.cap.ok());
  CHECK(g.cap.value() == g_window);
  CHECK(g.bits == 0x40);
}

TEST_CASE("rpc: random messages always get a reply, and the server keeps serving") {
  g = Observed{};
  hosted::Simulation sim;
  sim.run(root);
  CHECK(g.random_sent == 3000);
  CHECK(g.random_other == 0);  // every call was answered
  CHECK(g.random_error_replies > 2500);
  CHECK(g.random_ok + g.random_error_replies == 3000);
  CHECK(g.alive_after);
}

TEST_CASE("rpc: codecs reject out-of-range words") {
  word w = 256;
  std::uint8_t u8 = 0;
  CHECK_FALSE(rpc::Codec<std::uint8_t>::decode(&w, u8));
  w = 255;
  CHECK(rpc::Codec<std::uint8_t>::decode(&w, u8));
  CHECK(u8 == 255);
  w = word(std::int64_t{-129});
  std::int8_t s8 = 0;
  CHECK_FALSE(rpc::Codec<std::int8_t>::decode(&w, s8));
  w = 2;
  bool b = false;
  CHECK_FALSE(rpc::Codec<bool>::decode(&w, b));
  w = 3;
  Colour c{};
  CHECK_FALSE(rpc::Codec<Colour>::decode(&w, c));
  w = 2;
  CHECK(rpc::Codec<Colour>::decode(&w, c));
  CHECK(c == Colour::kBlue);
}
