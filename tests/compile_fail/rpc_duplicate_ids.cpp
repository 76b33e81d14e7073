// Must not compile: two methods of one protocol with the same id.
#include "ukernel/rpc.hpp"

using A = ukernel::rpc::Method<1, void()>;
using B = ukernel::rpc::Method<1, void(int)>;
constexpr auto kIds = ukernel::rpc::Methods<A, B>::kIds;
