// The hello server's host unit test: a client calls it through the real kernel.
#include <catch2/catch.hpp>

#include "hello.hpp"
#include "support/root_kit.hpp"

using namespace ukernel;

namespace {

word g_endpoint = 0;
struct {
  rpc::Result<std::uint32_t> sum = Error::kIllegalOperation;
  rpc::Result<std::uint32_t> overflow = Error::kIllegalOperation;
  rpc::Result<std::uint64_t> count = Error::kIllegalOperation;
} g;

void server(word) {
  hello::run(g_endpoint);
}

// The root task: one endpoint, the server, and a client holding a badged copy of it.
void root(word info) {
  test::RootKit kit(info);
  g_endpoint = kit.make(ObjectType::kEndpoint);
  kit.spawn(server, 0, 100);
  rpc::Client<hello::Protocol> client(kit.mint(g_endpoint, Rights::kWrite, 1));
  g.sum = client.call<hello::Protocol::Add>(2u, 40u);
  g.overflow = client.call<hello::Protocol::Add>(UINT32_MAX, 1u);
  g.count = client.call<hello::Protocol::CountCalls>();
}

}  // namespace

TEST_CASE("hello: add and count through the real kernel") {
  hosted::Simulation sim;
  sim.run(root);
  REQUIRE(g.sum.ok());
  CHECK(g.sum.value() == 42);
  CHECK(g.overflow.error() == Error::kInvalidArgument);
  REQUIRE(g.count.ok());
  CHECK(g.count.value() == 3);
}
