// First smoke test: the root task boots, makes an endpoint and a thread, and they talk.
#include <catch2/catch.hpp>

#include "support/root_kit.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;

namespace {
word g_reply_word = 0;
Error g_status = Error::kIllegalOperation;
word g_server_endpoint = 0;

void server(word) {
  Message m = recv(g_server_endpoint);
  Message r(MessageInfo(7, 1));
  r.words[0] = m.words[0] + m.badge;
  (void)reply_recv(g_server_endpoint, r);
}

void root(word info_address) {
  test::RootKit kit(info_address);
  word ep = kit.make(ObjectType::kEndpoint);
  word badged = kit.mint(ep, Rights::kAll, 100);
  g_server_endpoint = ep;
  if (kit.spawn(server, 0, 200) == 0) return;
  Message m(MessageInfo(1, 1));
  m.words[0] = 5;
  Message r = call(badged, m);
  g_status = r.status;
  g_reply_word = r.words[0];
}
}  // namespace

TEST_CASE("root task calls a server through a badged endpoint") {
  hosted::Simulation sim;
  REQUIRE(sim.run(root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  CHECK(g_status == Error::kOk);
  CHECK(g_reply_word == 105);
}
