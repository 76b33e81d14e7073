// The console server's protocol and the rings it shares with the shell.
//
// Output: a client writes bytes into the output ring of the shared region, then calls Flush;
// the console prints everything queued before it replies. The ring outlives the console
// (the region belongs to the system, not to the server), so a restarted console prints what
// its predecessor had not, and no output is lost. Input: the console moves typed bytes into the
// input ring and signals the shell's notification.
#pragma once

#include <atomic>

#include "ukernel/ring.hpp"
#include "ukernel/rpc.hpp"

namespace console {

namespace rpc = ukernel::rpc;
using ukernel::word;

struct Protocol {
  // Prints everything in the output ring.
  using Flush = rpc::Method<1, void(), rpc::Semantics::kIdempotent>;
  using Methods = rpc::Methods<Flush>;
};

using OutputRing = ukernel::SpscRing<char, 2048>;
using InputRing = ukernel::SpscRing<char, 512>;

// The shared region. The first console to start makes the rings; later ones find them.
struct Rings {
  static constexpr word kMagic = 0x72696e6773;  // "rings"
  std::atomic<word> magic;
  alignas(64) std::byte output[sizeof(OutputRing)];
  alignas(64) std::byte input[sizeof(InputRing)];

  bool ready() const { return magic.load(std::memory_order_acquire) == kMagic; }
  OutputRing& out() { return *OutputRing::attach(output); }
  InputRing& in() { return *InputRing::attach(input); }
};
static_assert(sizeof(Rings) <= 4096, "the console rings fit in one page");

// Each side's views of the rings (ukernel/ring.hpp), in its own memory: the shell writes output
// and reads input, the console the other way round.
struct ShellSide {
  explicit ShellSide(Rings& rings) : out(rings.out()), in(rings.in()) {}
  ukernel::RingProducer<char, 2048> out;
  ukernel::RingConsumer<char, 512> in;
};
struct ConsoleSide {
  explicit ConsoleSide(Rings& rings) : out(rings.out()), in(rings.in()) {}
  ukernel::RingConsumer<char, 2048> out;
  ukernel::RingProducer<char, 512> in;
};

}  // namespace console
