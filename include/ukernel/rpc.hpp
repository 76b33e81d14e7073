// Typed RPC over endpoints.
//
// A protocol is declared once, as a list of methods, each with an id and a signature:
//
//   struct Hello {
//     using Add = rpc::Method<1, std::uint32_t(std::uint32_t, std::uint32_t)>;
//     using Methods = rpc::Methods<Add>;
//   };
//
// From it the library derives, at compile time, how each call is marshalled into message words
// (a method whose arguments or result do not fit in one message is a compile error saying so),
// a client stub (`rpc::Client<Hello>{ep}.call<Hello::Add>(1, 2)`) and a server base that
// dispatches to handlers named by method (`Result<std::uint32_t> handle(Hello::Add, a, b)`).
//
// Every request is checked before a handler runs: an unknown label, a message of the wrong
// length, missing or extra capabilities, or an argument out of its type's range gets an error
// reply, and the server carries on. A reply's label is the Error (0: success) and its words the
// result.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ukernel/syscall.hpp"

namespace ukernel::rpc {

// --- results ---------------------------------------------------------------------------------
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(value) {}      // NOLINT: implicit, so handlers can `return value;`
  Result(Error error) : error_(error) {}  // NOLINT
  bool ok() const { return error_ == Error::kOk; }
  Error error() const { return error_; }
  const T& value() const { return value_; }

 private:
  T value_{};
  Error error_ = Error::kOk;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(error) {}  // NOLINT
  bool ok() const { return error_ == Error::kOk; }
  Error error() const { return error_; }

 private:
  Error error_ = Error::kOk;
};

// A capability passed as an argument: the sender names it by address; the server's handler
// receives the address of the slot it landed in.
struct Capability {
  word address = 0;
};

// --- marshalling -----------------------------------------------------------------------------
// Codec<T>: how many words and capabilities a T takes, and how it is written and checked.
template <class T>
struct Codec;

template <std::integral T>
requires(!std::same_as<T, bool>) struct Codec<T> {
  static constexpr std::size_t kWords = 1;
  static constexpr std::size_t kCaps = 0;
  static void encode(T value, word* out) { out[0] = static_cast<word>(value); }
  static bool decode(const word* in, T& out) {
    if constexpr (std::is_signed_v<T>) {
      auto v = static_cast<std::int64_t>(in[0]);
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) return false;
      out = static_cast<T>(v);
    } else {
      if (in[0] > std::numeric_limits<T>::max()) return false;
      out = static_cast<T>(in[0]);
    }
    return true;
  }
};

template <>
struct Codec<bool> {
  static constexpr std::size_t kWords = 1;
  static constexpr std::size_t kCaps = 0;
  static void encode(bool value, word* out) { out[0] = value ? 1 : 0; }
  static bool decode(const word* in, bool& out) {
    if (in[0] > 1) return false;
    out = in[0] == 1;
    return true;
  }
};

// Enumerations travel as their underlying type. An enum with a `kCount` enumerator accepts only
// values below it.
template <class T>
requires std::is_enum_v<T>
struct Codec<T> {
  using Underlying = std::underlying_type_t<T>;
  static constexpr std::size_t kWords = 1;
  static constexpr std::size_t kCaps = 0;
  static void encode(T value, word* out) { Codec<Underlying>::encode(Underlying(value), out); }
  static bool decode(const word* in, T& out) {
    Underlying raw{};
    if (!Codec<Underlying>::decode(in, raw)) return false;
    if constexpr (requires { T::kCount; }) {
      if (raw >= Underlying(T::kCount)) return false;
    }
    out = T(raw);
    return true;
  }
};

template <class T, std::size_t N>
struct Codec<std::array<T, N>> {
  static constexpr std::size_t kWords = N * Codec<T>::kWords;
  static constexpr std::size_t kCaps = 0;
  static_assert(Codec<T>::kCaps == 0, "rpc: arrays of capabilities are not supported");
  static void encode(const std::array<T, N>& value, word* out) {
    for (std::size_t i = 0; i < N; ++i)
      Codec<T>::encode(value[i], out + i * Codec<T>::kWords);
  }
  static bool decode(const word* in, std::array<T, N>& out) {
    for (std::size_t i = 0; i < N; ++i) {
      if (!Codec<T>::decode(in + i * Codec<T>::kWords, out[i])) return false;
    }
    return true;
  }
};

template <>
struct Codec<Capability> {
  static constexpr std::size_t kWords = 0;
  static constexpr std::size_t kCaps = 1;
};

template <class T>
concept Marshallable = requires {
  Codec<std::remove_cvref_t<T>>::kWords;
};

// --- methods and protocols -------------------------------------------------------------------
// Method flags.
enum class Semantics { kOnce, kIdempotent };  // kIdempotent: safe to repeat after a server died

template <word Id, class Signature, Semantics S = Semantics::kOnce>
struct Method;

template <word Id, class R, class... Args, Semantics S>
struct Method<Id, R(Args...), S> {
  static_assert(Id > 0 && Id < kFaultLabel - 1, "rpc: method ids are 1 .. 2^52-3");
  static constexpr bool kIdempotent = S == Semantics::kIdempotent;
  static_assert((Marshallable<Args> && ...), "rpc: an argument type has no rpc::Codec");
  static constexpr word kId = Id;
  using ResultType = R;
  using ArgTuple = std::tuple<std::remove_cvref_t<Args>...>;
  static constexpr std::size_t kArgWords = (Codec<std::remove_cvref_t<Args>>::kWords + ... + 0);
  static constexpr std::size_t kArgCaps = (Codec<std::remove_cvref_t<Args>>::kCaps + ... + 0);
  static constexpr std::size_t kResultWords = [] {
    if constexpr (std::is_void_v<R>) {
      return std::size_t{0};
    } else {
      return Codec<R>::kWords;
    }
  }();
  static constexpr std::size_t kResultCaps = [] {
    if constexpr (std::is_void_v<R>) {
      return std::size_t{0};
    } else {
      return Codec<R>::kCaps;
    }
  }();
  static_assert(kArgWords <= kMaxMessageWords,
                "rpc: the arguments of this method do not fit in one message (64 words); "
                "pass large data through a shared buffer");
  static_assert(kResultWords <= kMaxMessageWords,
                "rpc: the result of this method does not fit in one message (64 words); "
                "pass large data through a shared buffer");
  static_assert(kArgCaps <= kMaxTransferCaps, "rpc: at most 4 capabilities per message");
};

template <class... M>
struct Methods {
  static constexpr std::array<word, sizeof...(M)> kIds{M::kId...};
  static_assert(
      [] {
        for (std::size_t i = 0; i < kIds.size(); ++i) {
          for (std::size_t j = i + 1; j < kIds.size(); ++j) {
            if (kIds[i] == kIds[j]) return false;
          }
        }
        return true;
      }(),
      "rpc: two methods of this protocol have the same id");
};

namespace detail {

template <class M, class List>
struct Contains;
template <class M, class... Ms>
struct Contains<M, Methods<Ms...>> : std::bool_constant<(std::same_as<M, Ms> || ...)> {};

// Encodes one argument at word `w` / capability `c` of message `m`.
template <class T>
void encode_one(Message& m, std::size_t& w, std::size_t& c, const T& value) {
  if constexpr (std::same_as<T, Capability>) {
    arch::user_ipc_buffer()->caps[c++] = value.address;
  } else {
    word tmp[Codec<T>::kWords > 0 ? Codec<T>::kWords : 1];
    Codec<T>::encode(value, tmp);
    for (std::size_t i = 0; i < Codec<T>::kWords; ++i)
      set_message_word(m, w++, tmp[i]);
  }
}

template <class T>
bool decode_one(const Message& m, std::size_t& w, std::size_t& c, word cap_base, T& out) {
  if constexpr (std::same_as<T, Capability>) {
    out.address = cap_base + c++;
    return true;
  } else {
    word tmp[Codec<T>::kWords > 0 ? Codec<T>::kWords : 1];
    for (std::size_t i = 0; i < Codec<T>::kWords; ++i)
      tmp[i] = message_word(m, w++);
    return Codec<T>::decode(tmp, out);
  }
}

}  // namespace detail

// --- client ----------------------------------------------------------------------------------
template <class Protocol>
class Client {
 public:
  Client() = default;
  explicit Client(word endpoint) : endpoint_(endpoint) {}
  word endpoint() const { return endpoint_; }
  void set_endpoint(word endpoint) { endpoint_ = endpoint; }
  // An empty slot where a capability result lands (needed only by methods that return one).
  void set_capability_slot(word slot) { cap_slot_ = slot; }

  // Calls method M. Errors: the call's own (kCancelled if the server died in the call, ...),
  // the server's error reply, or kInvalidArgument if the reply is malformed.
  template <class M, class... A>
  Result<typename M::ResultType> call(const A&... args) {
    static_assert(detail::Contains<M, typename Protocol::Methods>::value,
                  "rpc: this method is not part of the client's protocol");
    static_assert(sizeof...(A) == std::tuple_size_v<typename M::ArgTuple>,
                  "rpc: wrong number of arguments for this method");
    Message request(MessageInfo(M::kId, M::kArgWords, M::kArgCaps));
    encode_args<M>(request, std::index_sequence_for<A...>{}, args...);
    if (IpcBuffer* b = arch::user_ipc_buffer()) {
      b->receive_slot = cap_slot_;
      b->receive_count = M::kResultCaps;
    }
    Message reply = ukernel::call(endpoint_, request);
    if (reply.status != Error::kOk) return reply.status;
    if (reply.label() != 0) {
      return reply.label() <= word(Error::kIllegalOperation) ? Error(reply.label())
                                                             : Error::kInvalidArgument;
    }
    using R = typename M::ResultType;
    if (reply.info.length() != M::kResultWords || reply.info.caps() != M::kResultCaps)
      return Error::kInvalidArgument;
    if constexpr (std::is_void_v<R>) {
      return Result<void>{};
    } else {
      R value{};
      std::size_t w = 0, c = 0;
      if (!detail::decode_one(reply, w, c, cap_slot_, value)) return Error::kInvalidArgument;
      return value;
    }
  }

 private:
  template <class M, std::size_t... I, class... A>
  static void encode_args(Message& m, std::index_sequence<I...>, const A&... args) {
    [[maybe_unused]] std::size_t w = 0, c = 0;
    (detail::encode_one(m, w, c,
                        static_cast<const std::tuple_element_t<I, typename M::ArgTuple>&>(args)),
     ...);
  }
  word endpoint_ = 0;
  word cap_slot_ = 0;
};

// --- server ----------------------------------------------------------------------------------
// Derive as `struct MyServer : rpc::Server<MyServer, MyProtocol>` and write one
// `Result<R> handle(MyProtocol::Method, args...)` per method. `badge()` names the caller.
template <class Derived, class Protocol>
class Server {
 public:
  // Where capability arguments land: kMaxTransferCaps free slots starting at `first_slot`.
  void set_capability_window(word first_slot) { cap_window_ = first_slot; }
  word badge() const { return badge_; }

  // Checks `request` completely, runs the handler, and returns the reply to send.
  Message dispatch(const Message& request) {
    badge_ = request.badge;
    Message reply = error_reply(Error::kInvalidLabel);
    dispatch_list(request, reply, static_cast<typename Protocol::Methods*>(nullptr));
    return reply;
  }

  // The receive loop: the framework owns it. Returns only if the endpoint is unusable.
  Error serve(word endpoint) {
    prepare_receive();
    Message request = recv(endpoint);
    for (;;) {
      if (request.status != Error::kOk) return request.status;
      Message reply = dispatch(request);
      prepare_receive();
      request = reply_recv(endpoint, reply);
    }
  }

 private:
  static Message error_reply(Error e) { return Message(MessageInfo(word(e), 0)); }

  void prepare_receive() {
    if (IpcBuffer* b = arch::user_ipc_buffer()) {
      b->receive_slot = cap_window_;
      b->receive_count = cap_window_ ? kMaxTransferCaps : 0;
    }
  }

  template <class... Ms>
  void dispatch_list(const Message& request, Message& reply, Methods<Ms...>*) {
    (void)((request.label() == Ms::kId ? (reply = run<Ms>(request), true) : false) || ...);
  }

  template <class M>
  Message run(const Message& request) {
    if (request.info.length() != M::kArgWords || request.info.caps() != M::kArgCaps ||
        request.info.caps_dropped() || request.info.truncated())
      return error_reply(Error::kInvalidArgument);
    typename M::ArgTuple args;
    bool valid = std::apply(
        [&](auto&... a) {
          [[maybe_unused]] std::size_t w = 0, c = 0;
          return (detail::decode_one(request, w, c, cap_window_, a) && ...);
        },
        args);
    if (!valid) return error_reply(Error::kInvalidArgument);
    auto result = std::apply(
        [&](auto&... a) { return static_cast<Derived*>(this)->handle(M{}, a...); }, args);
    if (!result.ok()) return error_reply(result.error());
    Message reply(MessageInfo(0, M::kResultWords, M::kResultCaps));
    if constexpr (!std::is_void_v<typename M::ResultType>) {
      std::size_t w = 0, c = 0;
      detail::encode_one(reply, w, c, result.value());
    }
    return reply;
  }

  word badge_ = 0;
  word cap_window_ = 0;
};

}  // namespace ukernel::rpc
