// The name service: its protocol, the Name type, and a client that survives server restarts.
//
// Servers register an endpoint under a name; clients look a name up and receive an endpoint
// capability badged with their own identity (the badge of their name-service capability). When
// a server is restarted its supervisor revokes the old endpoint and the new instance registers
// again, so the next lookup reaches the new instance. NamedClient does that lookup by itself,
// and repeats a call once when the method is declared idempotent.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ukernel/rpc.hpp"

namespace ukernel::names {

// A name: up to 32 printable ASCII characters, NUL-padded.
class Name {
 public:
  static constexpr std::size_t kMaxLength = 32;
  Name() = default;
  constexpr Name(std::string_view text) {  // NOLINT: implicit from a literal is the point
    for (std::size_t i = 0; i < text.size() && i < kMaxLength; ++i) {
      words_[i / 8] |= word(static_cast<unsigned char>(text[i])) << (8 * (i % 8));
    }
  }
  const std::array<word, 4>& words() const { return words_; }
  std::array<word, 4>& words() { return words_; }
  friend bool operator==(const Name&, const Name&) = default;

  // Printable, NUL-padded and not empty.
  bool valid() const {
    bool ended = false;
    for (std::size_t i = 0; i < kMaxLength; ++i) {
      auto c = static_cast<unsigned char>(words_[i / 8] >> (8 * (i % 8)));
      if (c == 0) {
        ended = true;
      } else if (ended || c < 0x20 || c > 0x7e) {
        return false;
      }
    }
    return (words_[0] & 0xff) != 0;
  }

 private:
  std::array<word, 4> words_ = {};
};

}  // namespace ukernel::names

namespace ukernel::rpc {

template <>
struct Codec<names::Name> {
  static constexpr std::size_t kWords = 4;
  static constexpr std::size_t kCaps = 0;
  static void encode(const names::Name& name, word* out) {
    for (std::size_t i = 0; i < 4; ++i)
      out[i] = name.words()[i];
  }
  static bool decode(const word* in, names::Name& out) {
    for (std::size_t i = 0; i < 4; ++i)
      out.words()[i] = in[i];
    return out.valid();
  }
};

}  // namespace ukernel::rpc

namespace ukernel::names {

struct Protocol {
  // Registers `endpoint` under `name`. Errors: kInvalidArgument (bad name), kBusy (another
  // registrant owns the name), kNotEnoughMemory (table full).
  using Register = rpc::Method<1, void(Name, rpc::Capability)>;
  // A badged copy of the endpoint registered under `name`. Errors: kNotFound.
  using Lookup = rpc::Method<2, rpc::Capability(Name), rpc::Semantics::kIdempotent>;
  using Methods = rpc::Methods<Register, Lookup>;
};

// A client of protocol P whose server is found by name.
template <class P>
class NamedClient {
 public:
  // `names`: the name service; `cnode`: the caller's CSpace CNode; `slot`: an empty slot of it
  // where the server's endpoint is kept.
  NamedClient(rpc::Client<Protocol>& names, Name name, word cnode, word slot)
      : names_(names), name_(name), cnode_(cnode), slot_(slot) {}

  template <class M, class... A>
  rpc::Result<typename M::ResultType> call(const A&... args) {
    if (!connected_) {
      if (Error e = connect(); e != Error::kOk) return e;
    }
    auto result = client_.template call<M>(args...);
    if (result.ok() || !server_gone(result.error())) return result;
    connected_ = false;
    if constexpr (M::kIdempotent) {
      if (connect() == Error::kOk) return client_.template call<M>(args...);
    }
    return result;
  }

  // Looks the name up again now.
  Error connect() {
    (void)cnode_delete(cnode_, slot_);
    names_.set_capability_slot(slot_);
    auto found = names_.template call<Protocol::Lookup>(name_);
    if (!found.ok()) return found.error();
    client_.set_endpoint(found.value().address);
    connected_ = true;
    return Error::kOk;
  }

 private:
  // The server died in the call (kCancelled) or its endpoint was revoked (kInvalidCapability).
  static bool server_gone(Error e) {
    return e == Error::kCancelled || e == Error::kInvalidCapability;
  }

  rpc::Client<Protocol>& names_;
  rpc::Client<P> client_;
  Name name_;
  word cnode_;
  word slot_;
  bool connected_ = false;
};

}  // namespace ukernel::names
