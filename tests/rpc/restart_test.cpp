// Server restart seen from a client: the call in flight fails with a clear error, the next call
// finds the new instance through the name service, and an idempotent call is repeated by
// itself.
#include <catch2/catch.hpp>

#include "names/name_server.hpp"
#include "support/root_kit.hpp"

using namespace ukernel;

namespace {

struct Counter {
  using Which = rpc::Method<1, word(), rpc::Semantics::kIdempotent>;
  using Hang = rpc::Method<2, void()>;                                   // not idempotent
  using HangOnce = rpc::Method<3, word(), rpc::Semantics::kIdempotent>;  // hangs in instance 2
  using Methods = rpc::Methods<Which, Hang, HangOnce>;
};

// What the supervisor (root) hands each instance.
struct Setup {
  word names_cnode = kRootCNodeSlot;
  word names_slot = 0;    // the name server's first table slot
  word names_ep = 0;      // the name service endpoint (unbadged, for its server)
  word server_names = 0;  // the counter server's name-service capability (badge 1)
  word client_names = 0;  // the client's (badge 2)
  word hang_signal = 0;   // signalled by a hanging handler, so the supervisor knows
  word forever = 0;       // a notification nobody signals
  word endpoint = 0;      // the current instance's endpoint
  word instance = 0;
} s;

struct Observed {
  rpc::Result<word> first = Error::kIllegalOperation;
  Error hang_error = Error::kOk;
  rpc::Result<word> after_restart = Error::kIllegalOperation;
  rpc::Result<word> retried = Error::kIllegalOperation;
  word register_failures = 0;
} g;

class CounterServer : public rpc::Server<CounterServer, Counter> {
 public:
  explicit CounterServer(word instance) : instance_(instance) {}
  rpc::Result<word> handle(Counter::Which) { return instance_; }
  rpc::Result<void> handle(Counter::Hang) {
    hang();
    return {};
  }
  rpc::Result<word> handle(Counter::HangOnce) {
    if (instance_ == 2) hang();
    return instance_;
  }

 private:
  void hang() {
    (void)signal(s.hang_signal);
    (void)wait(s.forever);  // until the supervisor kills this instance
  }
  word instance_;
};

void name_server(word) {
  names_example::NameServer server(s.names_cnode, s.names_slot);
  (void)server.serve(s.names_ep);
}

void counter_server(word instance) {
  rpc::Client<names::Protocol> names(s.server_names);
  if (!names.call<names::Protocol::Register>(names::Name("counter"), rpc::Capability{s.endpoint})
           .ok()) {
    ++g.register_failures;
  }
  CounterServer server(instance);
  (void)server.serve(s.endpoint);
}

word g_client_slot = 0;

void client(word) {
  rpc::Client<names::Protocol> names(s.client_names);
  names::NamedClient<Counter> counter(names, names::Name("counter"), kRootCNodeSlot, g_client_slot);
  g.first = counter.call<Counter::Which>();
  g.hang_error = counter.call<Counter::Hang>().error();  // instance 1 is killed meanwhile
  g.after_restart = counter.call<Counter::Which>();
  g.retried = counter.call<Counter::HangOnce>();  // instance 2 is killed; retried on 3
}

void root(word info) {
  test::RootKit kit(info);
  s = Setup{};
  s.names_ep = kit.make(ObjectType::kEndpoint);
  s.names_slot = kit.slot();
  for (std::size_t i = 0; i < names_example::NameServer::kCapacity + 1 + kMaxTransferCaps; ++i)
    (void)kit.slot();
  s.server_names = kit.mint(s.names_ep, Rights::kAll, 1);
  s.client_names = kit.mint(s.names_ep, Rights::kAll, 2);
  s.hang_signal = kit.mint(kit.make(ObjectType::kNotification), Rights::kAll, 1);
  s.forever = kit.make(ObjectType::kNotification);
  g_client_slot = kit.slot();
  kit.spawn(name_server, 0, 200);

  // Instance 1.
  s.endpoint = kit.make(ObjectType::kEndpoint);
  word server = kit.spawn(counter_server, 1, 100);
  kit.spawn(client, 0, 50);
  for (word instance = 2; instance <= 3; ++instance) {
    (void)wait(s.hang_signal);  // a handler hangs: its client is in the call
    // Kill it: revoke and delete its endpoint (every copy goes), start a fresh instance.
    (void)cnode_revoke(kRootCNodeSlot, s.endpoint);
    (void)cnode_delete(kRootCNodeSlot, s.endpoint);
    s.endpoint = kit.make(ObjectType::kEndpoint);
    (void)thread_restart(server, hosted::entry_address(counter_server), 0, instance);
  }
}

}  // namespace

TEST_CASE("restart: the call in flight fails, the next call reaches the new instance") {
  g = Observed{};
  for (bool fastpath : {true, false}) {
    g = Observed{};
    hosted::Simulation sim({.fastpath = fastpath});
    sim.run(root);
    INFO("fastpath " << fastpath);
    CHECK(g.register_failures == 0);
    REQUIRE(g.first.ok());
    CHECK(g.first.value() == 1);
    CHECK(g.hang_error == Error::kCancelled);  // a clear error for the call in flight
    REQUIRE(g.after_restart.ok());
    CHECK(g.after_restart.value() == 2);  // found through the name service
    REQUIRE(g.retried.ok());              // idempotent: repeated once, on instance 3
    CHECK(g.retried.value() == 3);
  }
}
