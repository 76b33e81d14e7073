// IpcBuffer::self: kThreadConfigure (and the boot, for the root task) writes the buffer's own
// user address into it, which is how a runtime that reaches the buffer through a thread
// register finds it (x86-64: FS, docs/x86_64.md). Each thread of one space sees its own.
#include <catch2/catch.hpp>

#include "support/root_kit.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;

namespace {

struct {
  word root_self = 0;
  word first_self = 0;
  word second_self = 0;
  word reconfigured_self = 0;
} g;

void record_first(word) {
  g.first_self = arch::user_ipc_buffer()->self;
}
void record_second(word) {
  g.second_self = arch::user_ipc_buffer()->self;
}

void root(word info) {
  test::RootKit kit(info);
  g.root_self = arch::user_ipc_buffer()->self;
  // RootKit::spawn maps each thread's buffer at the next page from 0x40000000.
  CHECK(kit.spawn(record_first, 0, 100) != 0);
  CHECK(kit.spawn(record_second, 0, 100) != 0);
  yield();
  // Reconfiguring moves the buffer: the new address is written into it.
  word thread = kit.make(ObjectType::kThread);
  word frame = kit.make(ObjectType::kFrame, 12);
  CHECK(map_frame(kRootAddressSpaceSlot, frame, 0x50000000, Rights::kRead | Rights::kWrite) ==
        Error::kOk);
  CHECK(thread_configure(thread, kRootCNodeSlot, kRootAddressSpaceSlot, frame, 0x50000000, 0) ==
        Error::kOk);
  CHECK(unmap_frame(kRootAddressSpaceSlot, 0x50000000) == Error::kOk);
  CHECK(map_frame(kRootAddressSpaceSlot, frame, 0x50004000, Rights::kRead | Rights::kWrite) ==
        Error::kOk);
  CHECK(thread_configure(thread, kRootCNodeSlot, kRootAddressSpaceSlot, frame, 0x50004000, 0) ==
        Error::kOk);
  auto* buffer = static_cast<IpcBuffer*>(arch::user_pointer(0x50004000, sizeof(IpcBuffer)));
  g.reconfigured_self = buffer->self;
}

}  // namespace

TEST_CASE("ipc buffer: configure writes the buffer's own address into IpcBuffer::self") {
  g = {};
  hosted::Simulation sim;
  sim.run(root);
  CHECK(g.root_self == hosted::kRootIpcBufferAddress);
  CHECK(g.first_self == 0x40000000);
  CHECK(g.second_self == 0x40001000);
  CHECK(g.reconfigured_self == 0x50004000);
}
