// The typed capability classes, end to end: each method is the system call it names.
#include <catch2/catch.hpp>

#include "support/root_kit.hpp"
#include "ukernel/caps.hpp"

using namespace ukernel;

namespace {

struct {
  Error retype = Error::kIllegalOperation;
  Error configure = Error::kIllegalOperation;
  word reply = 0;
  word bits = 0;
  Error wrong_type = Error::kOk;
  word paddr_size = 0;
  Error plain_paddr = Error::kOk;
} g;

Endpoint g_endpoint;
Notification g_done;

void echo_server(word) {
  Message m = g_endpoint.recv();
  for (;;) {
    Message r(MessageInfo(0, 1));
    r.words[0] = m.words[0] * 2;
    if (m.words[0] == 21) (void)g_done.signal();
    m = g_endpoint.reply_recv(r);
  }
}

void root(word info) {
  test::RootKit kit(info);
  Untyped memory{kit.untyped()};
  word first = kit.slot();
  for (int i = 0; i < 5; ++i)
    (void)kit.slot();
  g.retype = memory.retype(ObjectType::kEndpoint, 0, root_task::kCNode, first);
  g_endpoint = Endpoint{first};
  (void)memory.retype(ObjectType::kNotification, 0, root_task::kCNode, first + 1);
  (void)root_task::kCNode.mint(first + 2, root_task::kCNode, first + 1, Rights::kAll, 0x8);
  g_done = Notification{first + 2};
  (void)memory.retype(ObjectType::kThread, 0, root_task::kCNode, first + 3);
  (void)memory.retype(ObjectType::kFrame, 12, root_task::kCNode, first + 4);
  Thread thread{first + 3};
  Frame ipc{first + 4};
  (void)root_task::kAddressSpace.map(ipc, 0x30000000, Rights::kRead | Rights::kWrite);
  g.configure =
      thread.configure(root_task::kCNode, root_task::kAddressSpace, ipc, 0x30000000, Endpoint{});
  (void)thread.set_priority(100);
  (void)thread.restart(hosted::entry_address(echo_server), 0, 0);
  Message m(MessageInfo(1, 1));
  m.words[0] = 21;
  g.reply = g_endpoint.call(m).words[0];
  g.bits = Notification{first + 1}.poll().badge;
  g.wrong_type = Notification{first}.signal();  // an endpoint is not a notification
  // A plain frame keeps its address to itself; a DMA frame tells it.
  g.plain_paddr = ipc.physical_address().status;
  (void)memory.retype_frames(13, FrameAttributes::kDma, root_task::kCNode, first + 5);
  Message frame = Frame{first + 5}.physical_address();
  g.paddr_size = frame.ok() ? frame.words[1] : 0;
}

}  // namespace

TEST_CASE("typed capabilities make the same system calls") {
  hosted::Simulation sim;
  sim.run(root);
  CHECK(g.retype == Error::kOk);
  CHECK(g.configure == Error::kOk);
  CHECK(g.reply == 42);
  CHECK(g.bits == 0x8);
  CHECK(g.wrong_type == Error::kWrongType);
  CHECK(g.plain_paddr == Error::kIllegalOperation);
  CHECK(g.paddr_size == 8192);
}
