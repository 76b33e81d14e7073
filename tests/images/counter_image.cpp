// A tiny server image for the image test: it logs, reports how often its own global was
// incremented since the image was loaded, then returns (an abort with code 0).
#include "ukernel/log.hpp"

namespace {
ukernel::word g_starts = 0;
}

extern "C" void ukernel_image_main(ukernel::word report_endpoint) {
  ++g_starts;
  ukernel::log("counter image: start {} (report to {:#x})", g_starts, report_endpoint);
  ukernel::Message m(ukernel::MessageInfo(1, 1));
  m.words[0] = g_starts;
  (void)ukernel::send(report_endpoint, m);
}
