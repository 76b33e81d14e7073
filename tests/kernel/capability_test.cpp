// The capability derivation tree: badges, rights that never widen, revoke, and the operations
// that are refused.
#include <catch2/catch.hpp>

#include "check_observations.hpp"
#include "support/root_kit.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;
using test::expect;

namespace {

constexpr word kRoot = kRootCNodeSlot;

bool usable(word endpoint) {
  // An endpoint capability with Write is usable: try_send finds no receiver.
  return try_send(endpoint, Message{}) == Error::kWouldBlock;
}

void revoke_root(word info) {
  test::RootKit kit(info);
  word ep = kit.make(ObjectType::kEndpoint);
  word copy = kit.mint(ep, Rights::kAll, 0);
  word copy_of_copy = kit.mint(copy, Rights::kAll, 0);
  word badged = kit.mint(copy_of_copy, Rights::kAll, 5);
  word copy_of_badged = kit.mint(badged, Rights::kWrite, 0);
  word middle = kit.mint(ep, Rights::kAll, 0);
  word below_middle = kit.mint(middle, Rights::kAll, 0);
  for (word s : {ep, copy, copy_of_copy, badged, copy_of_badged, middle, below_middle})
    expect("usable before revoke " + std::to_string(s), word(usable(s)), 1);
  // Deleting a capability in the middle hands its children to its parent.
  expect("delete middle", cnode_delete(kRoot, middle), Error::kOk);
  expect("child of deleted still usable", word(usable(below_middle)), 1);
  expect("revoke", cnode_revoke(kRoot, ep), Error::kOk);
  for (word s : {copy, copy_of_copy, badged, copy_of_badged, below_middle})
    expect("gone after revoke " + std::to_string(s), try_send(s, Message{}),
           Error::kInvalidCapability);
  expect("the revoked capability itself stays", word(usable(ep)), 1);
  expect("revoke again: nothing to do", cnode_revoke(kRoot, ep), Error::kOk);
  expect("root done", 1, 1);
}

void rights_root(word info) {
  test::RootKit kit(info);
  word ep = kit.make(ObjectType::kEndpoint);
  word read_only = kit.mint(ep, Rights::kRead, 0);
  word widened = kit.mint(read_only, Rights::kAll, 0);
  expect("copy made", word(widened != 0), 1);
  expect("widened copy cannot send", try_send(widened, Message{}), Error::kInsufficientRights);
  expect("widened copy can receive", try_recv(widened).status, Error::kWouldBlock);
  word no_grant = kit.mint(ep, Rights::kRead | Rights::kWrite, 0);
  word regrant = kit.mint(no_grant, Rights::kAll, 0);
  Message caps(MessageInfo(0, 0, 1));
  arch::user_ipc_buffer()->caps[0] = ep;
  expect("re-widened copy cannot grant", try_send(regrant, caps), Error::kInsufficientRights);
  expect("but can send", try_send(regrant, Message{}), Error::kWouldBlock);

  word ntfn = kit.make(ObjectType::kNotification);
  word wait_only = kit.mint(ntfn, Rights::kRead, 3);
  word badged_copy = kit.mint(wait_only, Rights::kAll, 0);
  expect("notification: widened copy cannot signal", signal(badged_copy),
         Error::kInsufficientRights);
  word cnode_ro = kit.mint(kRoot, Rights::kRead, 0);
  word cnode_rw = kit.mint(cnode_ro, Rights::kAll, 0);
  word dest = kit.slot();
  expect("cnode: widened copy cannot copy into",
         cnode_copy(cnode_rw, dest, kRoot, ep, Rights::kAll), Error::kInsufficientRights);

  // Mint of a badged capability and copy of an untyped are refused, and change nothing.
  word badged = kit.mint(ep, Rights::kAll, 7);
  expect("mint of badged", cnode_mint(kRoot, dest, kRoot, badged, Rights::kAll, 8),
         Error::kIllegalOperation);
  expect("dest empty after failed mint", try_send(dest, Message{}), Error::kInvalidCapability);
  expect("copy of untyped", cnode_copy(kRoot, dest, kRoot, kit.untyped(), Rights::kAll),
         Error::kIllegalOperation);
  expect("dest empty after failed copy", try_send(dest, Message{}), Error::kInvalidCapability);
  // A copy of a badged capability keeps the badge (checked by the badge test below).
  expect("copy of badged", cnode_copy(kRoot, dest, kRoot, badged, Rights::kWrite), Error::kOk);
  expect("root done", 1, 1);
}

struct BadgeShared {
  word endpoint = 0;
  word badges[4] = {};
  int count = 0;
} g_badge;

void badge_server(word) {
  for (int i = 0; i < 4; ++i) {
    Message m = recv(g_badge.endpoint);
    g_badge.badges[g_badge.count++] = m.badge;
  }
}

void badge_root(word info) {
  test::RootKit kit(info);
  word ep = kit.make(ObjectType::kEndpoint);
  g_badge.endpoint = ep;
  word a = kit.mint(ep, Rights::kWrite, 0x11);
  word b = kit.mint(ep, Rights::kWrite, 0x22);
  word copy_of_b = kit.mint(b, Rights::kWrite, 0);
  (void)kit.spawn(badge_server, 0, kMaxPriority);
  yield();
  expect("send a", send(a, Message{}), Error::kOk);
  expect("send b", send(b, Message{}), Error::kOk);
  expect("send copy of b", send(copy_of_b, Message{}), Error::kOk);
  expect("send unbadged", send(ep, Message{}), Error::kOk);
  yield();
  expect("root done", 1, 1);
}

}  // namespace

TEST_CASE("revoke removes every derived capability (copies of copies, minted, orphans)") {
  test::reset_observations();
  hosted::Simulation sim;
  REQUIRE(sim.run(revoke_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(18);
}

TEST_CASE("rights are never widened; mint of a badged cap and copy of an untyped are refused") {
  test::reset_observations();
  hosted::Simulation sim;
  REQUIRE(sim.run(rights_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(13);
}

TEST_CASE("each sender's badge is delivered; a copy keeps its badge") {
  bool fastpath = GENERATE(true, false);
  test::reset_observations();
  g_badge = BadgeShared{};
  hosted::Simulation sim(hosted::SimulationConfig{.fastpath = fastpath});
  REQUIRE(sim.run(badge_root) == hosted::RunResult::kIdle);
  INFO(sim.console());
  test::check_observations(5);
  REQUIRE(g_badge.count == 4);
  CHECK(g_badge.badges[0] == 0x11);
  CHECK(g_badge.badges[1] == 0x22);
  CHECK(g_badge.badges[2] == 0x22);
  CHECK(g_badge.badges[3] == 0);
}
