// A client of the hello server (examples/hello): finds it through the name service and calls
// it; its exit code (the number of failed checks) reaches the root task as a kAbort fault.
#include "hello/hello.hpp"
#include "layout.hpp"
#include "ukernel/log.hpp"
#include "ukernel/names.hpp"

using namespace system_image;
using namespace ukernel;

extern "C" void ukernel_image_main(word) {
  word failures = 0;
  auto check = [&](bool ok, const char* what) {
    log("{} client: {}", ok ? "ok:" : "FAIL:", what);
    if (!ok) ++failures;
  };
  rpc::Client<names::Protocol> names(kNamesSlot);
  names::NamedClient<hello::Protocol> hello(names, names::Name("hello"), kSelfCNodeSlot,
                                            kFirstFreeSlot);
  auto sum = hello.call<hello::Protocol::Add>(2u, 40u);
  if (sum.ok()) log("client: hello Add(2, 40) = {}", sum.value());
  check(sum.ok() && sum.value() == 42, "Add(2, 40) through the name service is 42");
  auto overflow = hello.call<hello::Protocol::Add>(0xffffffffu, 1u);
  check(overflow.error() == Error::kInvalidArgument, "Add overflow is kInvalidArgument");
  auto count = hello.call<hello::Protocol::CountCalls>();
  check(count.ok() && count.value() == 3, "CountCalls is 3");
  names::NamedClient<hello::Protocol> missing(names, names::Name("nobody"), kSelfCNodeSlot,
                                              kFirstFreeSlot);
  check(missing.call<hello::Protocol::CountCalls>().error() == Error::kNotFound,
        "an unregistered name is kNotFound");
  abort_thread(failures);
}
