// The name service of the system image: examples/names/name_server.hpp, unchanged, serving the
// endpoint the loader put in its CSpace (layout.hpp).
#include "layout.hpp"
#include "names/name_server.hpp"

using namespace system_image;

extern "C" void ukernel_image_main(word endpoint) {
  static_assert(kFirstFreeSlot + names_example::NameServer::kCapacity + 1 +
                    ukernel::kMaxTransferCaps <=
                (word{1} << kCNodeBits));
  names_example::NameServer server(kSelfCNodeSlot, kFirstFreeSlot);
  (void)server.serve(endpoint);
}
