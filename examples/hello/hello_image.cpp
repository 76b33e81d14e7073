// The hello server as a program of its own (a hosted image here, an ELF on bare metal).
#include "hello.hpp"

extern "C" void ukernel_image_main(ukernel::word endpoint) {
  hello::run(endpoint);
}
