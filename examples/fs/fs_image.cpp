// The fs server of the example system: the FAT32 file-system server (server.hpp) on blk's block
// session, serving the clients the description gives it (sysdesc::fs_session: region, root,
// access). docs/storage.md describes the protocol; docs/example-system.md its place here.
//
// How this works. Its block session is its shared grant "disk" (the region blk serves as one of
// its sessions); blk's endpoint comes from the name service (NamedEndpoint), checked before each
// request and looked up again after blk restarted, so a restarted driver is found without
// restarting the file system: the old session is gone with the old driver, so the server is made
// again over a new one and mounts (FsService). Its clients are named by badge (the index of the
// server sharing each session's region, which the name service mints into every lookup). It mounts
// at start, and says once if there is no disk; every request then answers kNoDisk until a disk
// answers.
#include <cstddef>
#include <new>

#include "fs/server.hpp"
#include "system/runtime.hpp"
#include "ukernel/caps.hpp"

using namespace system_example;
namespace fs = ukernel::fs;

namespace {

constexpr sysdesc::Grant kDisk = grant(kFsIndex, "disk");
static_assert(sysdesc::kMaxFsRootLength == fs::kMaxRootLength);

consteval std::size_t session_count() {
  std::size_t n = 0;
  const sysdesc::Server& self = kSystem.servers[kFsIndex];
  for (std::size_t g = 0; g < self.grant_count(); ++g)
    n += self.grants[g].kind == sysdesc::GrantKind::kFsSession ? 1u : 0u;
  return n;
}
constexpr std::size_t kSessions = session_count();
static_assert(kSessions <= fs::kMaxClients, "more file-system sessions than the server keeps");

ukernel::SharedRegion region_at(word vaddr, std::string_view region) {
  word bytes = kSystem.regions[kSystem.region_of(region)].bytes;
  return ukernel::SharedRegion(
      static_cast<std::byte*>(ukernel::arch::user_pointer(vaddr, std::size_t(bytes))),
      std::size_t(bytes));
}

void log_mount(fs::Server& server, fs::FsError e) {
  if (e == fs::FsError::kOk) {
    const ukernel::fat32::VolumeInfo info = server.info();
    log("fs: mounted: {} clusters of {} bytes, {} free{}", info.cluster_count, info.cluster_bytes,
        info.free_clusters, info.repaired ? " (repaired: it was not unmounted cleanly)" : "");
  } else if (e == fs::FsError::kNoDisk) {
    log("fs: no disk: every request answers 'no disk'");
  } else if (e == fs::FsError::kCorrupt) {
    log("fs: the volume is refused: corrupt ({})", ukernel::fat32::describe(server.corruption()));
  } else {
    log("fs: the volume is refused: {}", ukernel::fat32::describe(e));
  }
}

// The server over the current block session. When blk has restarted (its endpoint was looked up
// anew), the session it served is gone: the file system is made again over a new one and
// mounted, as after its own restart (a volume left dirty is repaired). Clients' open handles
// end with it (kBadHandle: they open their files again); a client between commands sees
// nothing.
class FsService {
 public:
  explicit FsService(Runtime& runtime) : blk_(runtime, "blk") {
    const sysdesc::Server& self = kSystem.servers[kFsIndex];
    for (std::size_t g = 0; g < self.grant_count(); ++g) {
      const sysdesc::Grant& session = self.grants[g];
      if (session.kind != sysdesc::GrantKind::kFsSession) continue;
      clients_[sessions_++] = {sysdesc::fs_client_of(kSystem, kFsIndex, session.target),
                               region_at(session.first, session.target), session.root,
                               session.read_only};
    }
    (void)blk_.refresh();
    renewals_ = blk_.renewals();
    make();
  }

  [[noreturn]] void serve() {
    ControlServer control;
    Message request = ukernel::recv(kEndpointSlot);
    for (;;) {
      if (!request.ok()) fail("fs: cannot receive");
      if (request.label() == ukernel::kNotificationLabel) {  // nothing to do with its bits
        request = ukernel::recv(kEndpointSlot);
        continue;
      }
      Message reply = request;
      if (Control::owns(request.label())) {
        reply = control.dispatch(request);
      } else {
        (void)blk_.refresh();  // blk may have restarted: find it again
        if (blk_.renewals() != renewals_) {
          renewals_ = blk_.renewals();
          log("fs: blk restarted: mounting again over a new session");
          server_->~Server();
          make();
        }
        reply = server_->dispatch(request);
      }
      request = ukernel::reply_recv(kEndpointSlot, reply);
    }
  }

 private:
  void make() {
    server_ = ::new (storage_) fs::Server(blk_.slot(), region_at(kDisk.first, kDisk.target),
                                          std::span(clients_, sessions_));
    log_mount(*server_, server_->ensure_mounted());
  }

  NamedEndpoint blk_;
  word renewals_ = 0;
  fs::ClientConfig clients_[kSessions > 0 ? kSessions : 1];
  std::size_t sessions_ = 0;
  // The server is large (the volume's buffers): it lives in the service, in static storage.
  alignas(fs::Server) std::byte storage_[sizeof(fs::Server)];
  fs::Server* server_ = nullptr;
};

}  // namespace

extern "C" void ukernel_image_main(word index) {
  Runtime runtime(index);
  // In static storage, made here: a function-local static would need the C++ runtime's guard
  // functions, which server images do not link.
  alignas(FsService) static std::byte storage[sizeof(FsService)];
  FsService& service = *::new (storage) FsService(runtime);
  runtime.announce();
  service.serve();
}
