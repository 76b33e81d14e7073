// The blk server: the virtio-blk driver of the example system (docs/drivers.md, the worked
// example). It claims its PCI function from the PCI server (its kPci grant), maps the BARs the
// PCI server gives it, brings the device up with the shared virtio transport and
// virtio_blk.hpp, programs MSI-X entry 0 from its kMsi line's msi_message(), and serves the
// block protocol (ukernel/block.hpp) to its clients.
//
// Sessions: one per shared grant of blk; the session's client is the other server holding a
// shared grant of the same region, and the badge of its endpoint capability (its index) names
// it. The regions are DMA frames (the description's Region::dma): a request's data goes from
// the device to the client's region and back, without a copy.
//
// Kick: the driver takes every request it has room for, hands them to the device and, if any is
// in flight, keeps the caller's reply capability (CNode::save_reply) and answers when a
// completion is posted, so other clients are served meanwhile. A device error reaches the
// client as an error completion (Status::kIoError). No device: "blk: no disk" once, and Open
// answers kNotFound.
#include <bit>

#include <cstddef>
#include <new>

#include "blk/block_bridge.hpp"
#include "blk/virtio_blk.hpp"
#include "pci/rpc.hpp"
#include "system/runtime.hpp"
#include "ukernel/block_server.hpp"
#include "ukernel/caps.hpp"
#include "ukernel/mmio.hpp"

using namespace system_example;
using ukernel::ObjectType;
namespace block = ukernel::block;

namespace {

constexpr word kIrqSlot = grant_slot(kBlkIndex, "irq");
constexpr word kIrqBit = irq_bit(kIrqSlot - kFirstGrantSlot);
constexpr word kDmaSlot = grant_slot(kBlkIndex, "dma");
constexpr word kBarVaddr = 0x60000000;  // BAR i at kBarVaddr + i * kBarSpacing
constexpr word kBarSpacing = 0x01000000;
constexpr word kDmaVaddr = 0x58000000;
constexpr unsigned kDmaBits = 16;  // the memory grant: rings and request headers
constexpr ukernel::Rights kReadWrite = ukernel::Rights::kRead | ukernel::Rights::kWrite;
constexpr std::uint32_t kMaxInFlight = 16;

using Driver = virtio_blk::VirtioBlk<ukernel::Mmio, 64, kMaxInFlight>;
static_assert(Driver::kQueueMemoryBytes + Driver::kRequestMemoryBytes <= (word{1} << kDmaBits));

// --- the sessions, from the description --------------------------------------------------------
struct SessionSpec {
  word grant = 0;   // blk's shared grant (its slot holds the region's frame)
  word client = 0;  // the other server with a shared grant of the region
  word vaddr = 0;
  word bytes = 0;
};

consteval std::size_t session_count() {
  std::size_t n = 0;
  const sysdesc::Server& blk = kSystem.servers[kBlkIndex];
  for (std::size_t g = 0; g < blk.grant_count(); ++g)
    n += blk.grants[g].kind == sysdesc::GrantKind::kShared ? 1u : 0u;
  return n;
}
constexpr std::size_t kSessions = session_count();

consteval std::array<SessionSpec, kSessions> session_specs() {
  std::array<SessionSpec, kSessions> out{};
  std::size_t n = 0;
  const sysdesc::Server& blk = kSystem.servers[kBlkIndex];
  for (std::size_t g = 0; g < blk.grant_count(); ++g) {
    const sysdesc::Grant& grant = blk.grants[g];
    if (grant.kind != sysdesc::GrantKind::kShared) continue;
    SessionSpec spec{kFirstGrantSlot + g, 0, grant.first,
                     kSystem.regions[kSystem.region_of(grant.target)].bytes};
    for (std::size_t s = 0; s < kServerCount; ++s) {
      if (s == kBlkIndex) continue;
      for (std::size_t g2 = 0; g2 < kSystem.servers[s].grant_count(); ++g2) {
        const sysdesc::Grant& other = kSystem.servers[s].grants[g2];
        if (other.kind == sysdesc::GrantKind::kShared && other.target == grant.target)
          spec.client = s;
      }
    }
    out[n++] = spec;
  }
  return out;
}
constexpr std::array<SessionSpec, kSessions> kSessionSpecs = session_specs();

class BlkServer : public rpc::Server<BlkServer, block::Protocol> {
 public:
  explicit BlkServer(Runtime& runtime) : runtime_(runtime) {}

  // Claims and brings up the device; false (after one log line) if there is none.
  bool start() {
    for (Session& s : sessions_)
      s.reply_slot = runtime_.slot();
    word pci_slot = runtime_.slot();
    runtime_.names().set_capability_slot(pci_slot);
    auto found = runtime_.names().call<names::Protocol::Lookup>(names::Name("pci"));
    if (!found.ok()) return no_disk("no PCI server");
    rpc::Client<pci::Protocol> pci(found.value().address);
    auto claimed = pci.call<pci::Protocol::Claim>();
    if (!claimed.ok()) return no_disk(claimed.error() == Error::kNotFound ? "" : "claim refused");
    const pci::ClaimInfo& info = claimed.value();

    ukernel::virtio::BarSizes sizes;
    for (unsigned b = 0; b < 6; ++b) {
      if (info.bar_bytes[b] == 0 || info.bar_bytes[b] > kBarSpacing) continue;
      word frame = runtime_.slot();
      pci.set_capability_slot(frame);
      auto bar = pci.call<pci::Protocol::Bar>(word(b));
      if (!bar.ok() || ukernel::map_frame(kAddressSpaceSlot, frame, kBarVaddr + b * kBarSpacing,
                                          kReadWrite) != Error::kOk)
        return no_disk("cannot map a BAR");
      bars_[b] = ukernel::Mmio(kBarVaddr + b * kBarSpacing, info.bar_bytes[b]);
      windows_.bar[b] = &bars_[b];
      sizes.size[b] = info.bar_bytes[b];
    }
    // The capability list, read through the PCI server (only this function's space).
    std::uint8_t config[256] = {};
    for (word at = 0; at < sizeof config; at += 4) {
      auto value = pci.call<pci::Protocol::ConfigRead>(at, word{4});
      if (!value.ok()) return no_disk("cannot read its configuration space");
      for (word i = 0; i < 4; ++i)
        config[at + i] = std::uint8_t(value.value() >> (8 * i));
    }
    ukernel::virtio::PciLayout layout;
    if (auto e = ukernel::virtio::parse_pci_layout(config, sizeof config, sizes, layout);
        e != ukernel::virtio::LayoutError::kOk) {
      log("blk: {}", ukernel::virtio::describe(e));
      return no_disk("not a virtio device");
    }
    // DMA memory for the rings and request headers.
    word dma = runtime_.slot();
    if (ukernel::retype(kDmaSlot, ObjectType::kFrame, kDmaBits, kSelfCNodeSlot, dma, 1,
                        ukernel::FrameAttributes::kDma) != Error::kOk ||
        ukernel::map_frame(kAddressSpaceSlot, dma, kDmaVaddr, kReadWrite) != Error::kOk)
      return no_disk("cannot make its DMA memory");
    Message address = ukernel::Frame(dma).physical_address();
    if (!address.ok()) return no_disk("no bus address for its DMA memory");
    auto* cpu =
        static_cast<std::byte*>(ukernel::arch::user_pointer(kDmaVaddr, std::size_t{1} << kDmaBits));
    if (cpu == nullptr) return no_disk("its DMA memory is not mapped");
    ukernel::virtio::DmaRegion memory{cpu, address.words[0], std::size_t{1} << kDmaBits};
    // The sessions' regions: their bus addresses.
    for (std::size_t i = 0; i < kSessions; ++i) {
      Message region = ukernel::Frame(kSessionSpecs[i].grant).physical_address();
      sessions_[i].bus = region.ok() ? region.words[0] : 0;
      sessions_[i].base =
          ukernel::arch::user_pointer(kSessionSpecs[i].vaddr, kSessionSpecs[i].bytes);
    }
    // MSI-X entry 0 for the request queue, with the message of the kMsi line.
    Message msi = ukernel::IrqHandler(kIrqSlot).msi_message();
    if (!msi.ok()) return no_disk("no message-signalled interrupt line");
    if (!layout.msix.present) return no_disk("the device has no MSI-X");
    Driver::Interrupts interrupts{0, true, msi.words[0], std::uint32_t(msi.words[1])};
    virtio_blk::Error e = driver_.init(
        layout, windows_, memory.slice(0, Driver::kQueueMemoryBytes),
        memory.slice(Driver::kQueueMemoryBytes, Driver::kRequestMemoryBytes), interrupts);
    if (e != virtio_blk::Error::kOk) {
      log("blk: {}", virtio_blk::describe(e));
      return no_disk("the device did not come up");
    }
    (void)ukernel::irq_ack(kIrqSlot);
    log("blk: {} sectors, MSI-X", driver_.capacity_sectors());
    return true;
  }

  // --- the block protocol ---
  rpc::Result<block::Geometry> handle(block::Protocol::Open) {
    Session* s = find(badge());
    if (s == nullptr || !driver_.ready()) return Error::kNotFound;
    const std::size_t i = index_of(*s);
    block::Geometry geometry;
    if (s->base == nullptr ||
        !bridge_.open(i, ukernel::SharedRegion(s->base, kSessionSpecs[i].bytes), s->bus, geometry))
      return Error::kInvalidArgument;
    return geometry;
  }
  rpc::Result<void> handle(block::Protocol::Kick) {
    // Only reached when the answer is immediate (see kick() for the waiting case).
    Session* s = find(badge());
    if (s == nullptr || !driver_.ready()) return Error::kNotFound;
    block::Session& session = bridge_.session(index_of(*s));
    if (!session.is_open()) return Error::kIllegalOperation;
    if (session.corrupt()) return Error::kInvalidArgument;
    return {};
  }

  // A Kick: submits what it can; true if the reply was saved (answered at a completion).
  bool kick(word client) {
    Session* s = find(client);
    if (s == nullptr || !driver_.ready()) return false;
    const std::size_t i = index_of(*s);
    block::Session& session = bridge_.session(i);
    if (!session.is_open()) return false;
    bridge_.pump(i);
    (void)bridge_.take_posted(i);  // this Kick sees them, whatever it answers
    if (session.corrupt() || session.in_flight() == 0) return false;
    if (s->waiting) return false;  // one waiting Kick per client; this one answers at once
    if (ukernel::CNode(kSelfCNodeSlot).save_reply(s->reply_slot) != Error::kOk) return false;
    s->waiting = true;
    return true;
  }

  // The device's interrupt (or a poll): post completions, answer waiting Kicks, refill.
  void on_interrupt() {
    if (!driver_.ready()) return;
    if (!bridge_.device_done()) fail("blk: the device broke its queue; restarting");
    for (std::size_t i = 0; i < kSessions; ++i) {
      Session& s = sessions_[i];
      block::Session& session = bridge_.session(i);
      if (session.is_open()) bridge_.pump(i);
      bool posted = bridge_.take_posted(i);
      if (s.waiting && (posted || session.in_flight() == 0 || session.corrupt())) {
        (void)ukernel::send(s.reply_slot, Message(ukernel::MessageInfo(0, 0)));
        (void)ukernel::cnode_delete(kSelfCNodeSlot, s.reply_slot);
        s.waiting = false;
      }
    }
    (void)ukernel::irq_ack(kIrqSlot);
  }

 private:
  struct Session {
    word bus = 0;          // the region's bus address
    void* base = nullptr;  // where blk sees it
    word reply_slot = 0;
    bool waiting = false;
  };

  bool no_disk(std::string_view why) {
    if (why.empty()) {
      log("blk: no disk");
    } else {
      log("blk: no disk ({})", why);
    }
    return false;
  }

  Session* find(word client) {
    for (std::size_t i = 0; i < kSessions; ++i) {
      if (kSessionSpecs[i].client == client && client != 0) return &sessions_[i];
    }
    return nullptr;
  }

  std::size_t index_of(const Session& s) const { return std::size_t(&s - sessions_); }

  Runtime& runtime_;
  Driver driver_;
  ukernel::Mmio bars_[6];
  ukernel::virtio::BarWindows<ukernel::Mmio> windows_;
  Session sessions_[kSessions];
  blk::BlockBridge<Driver, kSessions, kMaxInFlight> bridge_{driver_};
};

// The receive loop of Runtime::serve, except that a Kick may be answered later.
[[noreturn]] void serve(Runtime& runtime, BlkServer& server) {
  ControlServer control;
  Message request = ukernel::recv(kEndpointSlot);
  for (;;) {
    if (!request.ok()) fail("blk: cannot receive");
    if (request.label() == ukernel::kNotificationLabel) {
      if ((request.badge & kIrqBit) != 0) server.on_interrupt();
      request = ukernel::recv(kEndpointSlot);
      continue;
    }
    if (request.label() == block::Protocol::Kick::kId && request.info.length() == 0 &&
        server.kick(request.badge)) {
      request = ukernel::recv(kEndpointSlot);
      continue;
    }
    Message reply =
        Control::owns(request.label()) ? control.dispatch(request) : server.dispatch(request);
    request = ukernel::reply_recv(kEndpointSlot, reply);
  }
  (void)runtime;
}

}  // namespace

extern "C" void ukernel_image_main(word index) {
  Runtime runtime(index);
  // In static storage (it is large for a stack), made here: a function-local static would need
  // the C++ runtime's guard functions, which server images do not link.
  alignas(BlkServer) static std::byte storage[sizeof(BlkServer)];
  BlkServer& server = *::new (storage) BlkServer(runtime);
  (void)server.start();
  runtime.announce();
  serve(runtime, server);
}
