// The hello server: its protocol and the whole server (docs/servers.md walks through it).
#pragma once

#include <cstdint>

#include "ukernel/rpc.hpp"

namespace hello {

// The protocol: each method has an id and a signature. Clients and the server share it.
struct Protocol {
  using Add = ukernel::rpc::Method<1, std::uint32_t(std::uint32_t, std::uint32_t)>;
  using CountCalls = ukernel::rpc::Method<2, std::uint64_t()>;
  using Methods = ukernel::rpc::Methods<Add, CountCalls>;
};

// The server: its state, plus one handler per method. Arguments arrive checked.
class Server : public ukernel::rpc::Server<Server, Protocol> {
 public:
  ukernel::rpc::Result<std::uint32_t> handle(Protocol::Add, std::uint32_t a, std::uint32_t b) {
    ++calls_;
    if (a > UINT32_MAX - b) return ukernel::Error::kInvalidArgument;  // would overflow
    return a + b;
  }

  ukernel::rpc::Result<std::uint64_t> handle(Protocol::CountCalls) { return ++calls_; }

 private:
  std::uint64_t calls_ = 0;
};

// The server's main: make the state, and let the framework run the receive loop.
inline void run(ukernel::word endpoint) {
  Server server;
  (void)server.serve(endpoint);
}

}  // namespace hello
