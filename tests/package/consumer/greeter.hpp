// The greeter: a server of a project outside ukernel's tree (tests/package/consumer). It counts
// greetings and answers each with the count plus the caller's number.
#pragma once

#include <cstdint>

#include "ukernel/rpc.hpp"

namespace greeter {

struct Protocol {
  using Greet = ukernel::rpc::Method<1, std::uint64_t(std::uint64_t)>;
  using Methods = ukernel::rpc::Methods<Greet>;
};

class Server : public ukernel::rpc::Server<Server, Protocol> {
 public:
  ukernel::rpc::Result<std::uint64_t> handle(Protocol::Greet, std::uint64_t number) {
    ++greetings_;
    return greetings_ * 1000 + number;
  }

 private:
  std::uint64_t greetings_ = 0;
};

}  // namespace greeter
