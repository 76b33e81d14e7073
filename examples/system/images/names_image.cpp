// The name service of the example system: examples/names/name_server.hpp, unchanged, in the
// system's receive loop. It does not register itself; after a restart its table is empty and
// the supervisor registers every running server again.
#include "names/name_server.hpp"
#include "system/runtime.hpp"

using namespace system_example;

extern "C" void ukernel_image_main(word index) {
  Runtime runtime(index);
  names_example::NameServer server(kSelfCNodeSlot, kFirstFreeSlot);
  // The table, a scratch slot, then the window where registered endpoints arrive.
  word window = kFirstFreeSlot + names_example::NameServer::kCapacity + 1;
  static_assert(kFirstFreeSlot + names_example::NameServer::kCapacity + 1 +
                    ukernel::kMaxTransferCaps <=
                (word{1} << kCNodeBits));
  runtime.announce(/*register_name=*/false);
  runtime.serve(server, window, [](word) {});
}
