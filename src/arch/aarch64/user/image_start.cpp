// The entry of a server program in a system image (ukernel_aarch64_server): start.S calls
// user_main, which runs the server's `ukernel_image_main` -- the entry a hosted server image has
// too, so a server's source is the same on both back-ends. If it returns, the thread aborts
// with code 0 (start.S), which its supervisor hears on its fault endpoint.
#include "ukernel/abi.hpp"

extern "C" void ukernel_image_main(ukernel::word arg);

extern "C" ukernel::word user_main(ukernel::word arg) {
  ukernel_image_main(arg);
  return 0;
}
