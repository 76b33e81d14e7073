// The hello server (examples/hello/hello.hpp) as a server of the example system: the victim the
// scenario crashes past its restart limit.
#include "hello/hello.hpp"
#include "system/runtime.hpp"

using namespace system_example;

extern "C" void ukernel_image_main(word index) {
  Runtime runtime(index);
  hello::Server server;
  runtime.announce();
  runtime.serve(server, 0, [](word) {});
}
