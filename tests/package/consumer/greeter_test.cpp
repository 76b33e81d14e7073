// The greeter's host test, without a test framework: a root task loads the greeter's image,
// starts it on an endpoint and calls it twice through the real kernel, in a Simulation.
#include <cstdio>

#include "greeter.hpp"
#include "ukernel/hosted/image.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/syscall.hpp"

using namespace ukernel;

namespace {

hosted::Image* g_image = nullptr;
bool g_started = false;
rpc::Result<std::uint64_t> g_first = Error::kIllegalOperation;
rpc::Result<std::uint64_t> g_second = Error::kIllegalOperation;

void root(word info_address) {
  const BootInfo& info = *boot_info(info_address);
  word next_slot = info.first_free_slot;
  word untyped = largest_ram_untyped(info);
  auto make = [&](ObjectType type, unsigned size_bits) -> word {
    word slot = next_slot++;
    return retype(untyped, type, size_bits, kRootCNodeSlot, slot) == Error::kOk ? slot : 0;
  };
  word endpoint = make(ObjectType::kEndpoint, 0);
  word thread = make(ObjectType::kThread, 0);
  word ipc_frame = make(ObjectType::kFrame, 12);
  word entry = g_image->load_fresh();
  constexpr word kIpcBuffer = 0x40000000;
  if (endpoint == 0 || thread == 0 || ipc_frame == 0 || entry == 0 ||
      map_frame(kRootAddressSpaceSlot, ipc_frame, kIpcBuffer, Rights::kRead | Rights::kWrite) !=
          Error::kOk ||
      thread_configure(thread, kRootCNodeSlot, kRootAddressSpaceSlot, ipc_frame, kIpcBuffer, 0) !=
          Error::kOk ||
      thread_set_priority(thread, 100) != Error::kOk ||
      thread_restart(thread, entry, 0, endpoint) != Error::kOk)
    return;
  g_started = true;
  rpc::Client<greeter::Protocol> client(endpoint);
  g_first = client.call<greeter::Protocol::Greet>(7u);
  g_second = client.call<greeter::Protocol::Greet>(42u);
}

}  // namespace

int main() {
  hosted::Image image(GREETER_IMAGE);
  g_image = &image;
  {
    hosted::Simulation sim;
    sim.run(root);
  }
  if (!g_started) {
    std::printf("FAIL: the greeter did not start (%s)\n", image.error().c_str());
    return 1;
  }
  if (!g_first.ok() || g_first.value() != 1007 || !g_second.ok() || g_second.value() != 2042) {
    std::printf("FAIL: replies %llu, %llu (expected 1007, 2042)\n",
                g_first.ok() ? static_cast<unsigned long long>(g_first.value()) : 0ull,
                g_second.ok() ? static_cast<unsigned long long>(g_second.value()) : 0ull);
    return 1;
  }
  std::printf("ok: the greeter answered 1007 and 2042 through the kernel\n");
  return 0;
}
