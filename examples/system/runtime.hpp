// What every server of the example system shares: finding its capabilities (layout.hpp),
// announcing itself (register its name, tell the supervisor it is ready), and the receive loop,
// which serves the server's own protocol, the control protocol (ping, crash) and the bits of
// its notification on one endpoint.
#pragma once

#include <bit>

#include "control.hpp"
#include "layout.hpp"
#include "supervisor/protocol.hpp"
#include "ukernel/format.hpp"
#include "ukernel/mmio.hpp"
#include "ukernel/names.hpp"

namespace system_example {

using ukernel::Error;
using ukernel::Message;
namespace names = ukernel::names;

// Formats with the freestanding formatter (ukernel/format.hpp): server images stay free of any
// library runtime (cmake/check-freestanding.sh), which fmt's would bring in.
template <class... A>
std::size_t format(char* out, std::size_t capacity, std::string_view text, const A&... args) {
  ukernel::format::Sink sink(out, capacity);
  ukernel::format::format_to(sink, text, args...);
  return sink.size() < capacity ? sink.size() : capacity;
}

// One line to the system log (the kernel's debug console).
template <class... A>
void log(std::string_view text, const A&... args) {
  char line[257];
  std::size_t n = format(line, 256, text, args...);
  line[n++] = '\n';
  (void)ukernel::debug_write(std::string_view(line, n));
}

// Logs `what` and stops the server: its supervisor restarts it.
[[noreturn]] inline void fail(std::string_view what) {
  log("{}", what);
  for (;;)
    ukernel::abort_thread(0);
}

class Runtime {
 public:
  explicit Runtime(word index) : index_(index) {}

  word index() const { return index_; }
  const sysdesc::Server& spec() const { return kSystem.servers[index_]; }
  rpc::Client<names::Protocol>& names() { return names_; }
  rpc::Client<supervisor::Protocol>& supervisor() { return supervisor_; }
  // A free slot of the server's CSpace (emptied by the supervisor on restart).
  word slot() { return next_slot_++; }

  // Registers the server's endpoint under its name, then tells the supervisor it is ready.
  void announce(bool register_name = true) {
    if (register_name) {
      auto registered = names_.call<names::Protocol::Register>(names::Name(spec().name),
                                                               rpc::Capability{kEndpointSlot});
      if (!registered.ok())
        log("{}: cannot register its name (error {})", spec().name, word(registered.error()));
    }
    (void)supervisor_.call<supervisor::Protocol::Ready>();
  }

  // The registers of this server's mmio(...) grant `role`, mapped at `vaddr` of its own space
  // (the server's choice: free, and aligned to the grant's size), as the window its driver
  // reaches them through. The grant's slot holds a device untyped of exactly the granted range
  // (the supervisor carved it); this makes one device frame of all of it in a free slot and maps
  // it read-write (device memory: uncached / Device-nGnRnE). Errors: kInvalidArgument if `role`
  // is not an MMIO grant of this server or `vaddr` is not aligned; the kernel's errors of
  // retyping and mapping (kSlotOccupied if `vaddr` is taken, ...). A restart empties the slot,
  // which unmaps the frame and lets the fresh instance map it again.
  [[nodiscard]] rpc::Result<ukernel::Mmio> map_mmio(std::string_view role, word vaddr) {
    std::size_t g = kSystem.grant_of(index_, role);
    if (g == kSystem.kNotFound || spec().grants[g].kind != sysdesc::GrantKind::kMmio)
      return Error::kInvalidArgument;
    word bytes = spec().grants[g].count;
    if (vaddr % bytes != 0) return Error::kInvalidArgument;
    auto size_bits = unsigned(std::bit_width(bytes) - 1);
    word frame = slot();
    Error e = ukernel::retype(kFirstGrantSlot + g, ukernel::ObjectType::kFrame, size_bits,
                              kSelfCNodeSlot, frame);
    if (e == Error::kOk)
      e = ukernel::map_frame(kAddressSpaceSlot, frame, vaddr,
                             ukernel::Rights::kRead | ukernel::Rights::kWrite);
    if (e != Error::kOk) return e;
    return ukernel::Mmio(vaddr, bytes);
  }

  // Reserves `count` slots where capability arguments land; returns the first.
  word capability_window(word count = ukernel::kMaxTransferCaps) {
    word first = next_slot_;
    next_slot_ += count;
    return first;
  }

  // The receive loop: requests of `server`'s protocol, control requests, and notification
  // bits (passed to on_bits). `window`: where capability arguments land (0: none accepted).
  template <class S, class OnBits>
  [[noreturn]] void serve(S& server, word window, OnBits on_bits) {
    ControlServer control;
    if (window != 0) server.set_capability_window(window);
    prepare_receive(window);
    Message request = ukernel::recv(kEndpointSlot);
    for (;;) {
      if (!request.ok()) {
        log("{}: cannot receive (error {})", spec().name, word(request.status));
        for (;;)
          ukernel::abort_thread(word(request.status));
      }
      if (request.label() == ukernel::kNotificationLabel) {
        on_bits(request.badge);
        prepare_receive(window);
        request = ukernel::recv(kEndpointSlot);
        continue;
      }
      Message reply =
          Control::owns(request.label()) ? control.dispatch(request) : server.dispatch(request);
      prepare_receive(window);
      request = ukernel::reply_recv(kEndpointSlot, reply);
    }
  }

 private:
  static void prepare_receive(word window) {
    if (ukernel::IpcBuffer* b = ukernel::arch::user_ipc_buffer()) {
      b->receive_slot = window;
      b->receive_count = window != 0 ? ukernel::kMaxTransferCaps : 0;
    }
  }

  word index_;
  rpc::Client<names::Protocol> names_{kNamesSlot};
  rpc::Client<supervisor::Protocol> supervisor_{kSupervisorSlot};
  word next_slot_ = kFirstFreeSlot;
};

// An endpoint found through the name service, kept in one slot, for a client that is not a
// NamedClient (it hands the slot to a library: the fs server's block session, the shell's file
// system). A restart of the server revokes every copy of its endpoint, which empties the slot;
// refresh() notices (a copy of the slot fails, no call to the server) and looks the name up
// again. Cheap enough to call before every use.
class NamedEndpoint {
 public:
  NamedEndpoint(Runtime& runtime, std::string_view name)
      : runtime_(runtime), name_(name), slot_(runtime.slot()), probe_(runtime.slot()) {}
  word slot() const { return slot_; }

  // kOk if the slot holds the server's endpoint (now); else the lookup's error, and it is empty.
  Error refresh() {
    if (ukernel::cnode_copy(kSelfCNodeSlot, probe_, kSelfCNodeSlot, slot_, ukernel::Rights::kAll) ==
        Error::kOk) {
      (void)ukernel::cnode_delete(kSelfCNodeSlot, probe_);
      return Error::kOk;
    }
    (void)ukernel::cnode_delete(kSelfCNodeSlot, slot_);
    runtime_.names().set_capability_slot(slot_);
    auto found = runtime_.names().call<names::Protocol::Lookup>(names::Name(name_));
    if (!found.ok()) return found.error();
    ++renewals_;
    return Error::kOk;
  }
  // How many times refresh() found the server anew (the first lookup counts): a change means
  // the server restarted, and state kept with the old one (a session) is gone.
  word renewals() const { return renewals_; }

 private:
  Runtime& runtime_;
  std::string_view name_;
  word slot_;
  word probe_;
  word renewals_ = 0;
};

}  // namespace system_example
