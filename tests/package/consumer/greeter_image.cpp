// The greeter as a server image (ukernel_add_server): its argument is its endpoint.
#include "greeter.hpp"

extern "C" void ukernel_image_main(ukernel::word endpoint) {
  greeter::Server server;
  (void)server.serve(endpoint);
}
