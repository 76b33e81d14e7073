// The file-system benchmarks of issue 9: a 64 MiB file read and written sequentially through
// the fs server (examples/fs/server.hpp), the blk core (examples/blk/block_bridge.hpp) and the
// virtio-blk driver (examples/blk/virtio_blk.hpp) against the hosted virtio-blk device model,
// backed by an image file made with mkfs.fat and filled with mcopy; and, in the same run, mcopy
// of the same file from the same image to /dev/null.
//
// The system is a small one in a Simulation: the root task is the client, the fs server and a
// block driver run in address spaces of their own. The driver is the blk server's core with a
// plain receive loop: it reaches BAR 0 through a device frame (ukernel::Mmio), gets its
// interrupt as an MSI-X message through an IrqHandler, and the device moves data by DMA into the
// session's region; only the PCI server's part (BAR assignment, configuration reads) is done by
// this program on the host, before the run. A Kick blocks until a completion is posted.
//
// Figures, one line each on stdout ("NAME VALUE UNIT"), the best of kRepetitions wall-clock runs
// of the release build (scripts/bench): hosted.fs.seq_read_mib_s (read into the client's region
// and thrown away, as dd does), hosted.fs.seq_write_mib_s (create, write, close: on the disk),
// host.mtools.seq_read_mib_s. A run whose data does not match (CRC-32) fails the program.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "blk/block_bridge.hpp"
#include "blk/virtio_blk.hpp"
#include "fat32/crc32.hpp"
#include "fs_client.hpp"
#include "server.hpp"
#include "ukernel/caps.hpp"
#include "ukernel/hosted/bus.hpp"
#include "ukernel/hosted/devices.hpp"
#include "ukernel/hosted/simulation.hpp"
#include "ukernel/hosted/virtio_blk_model.hpp"
#include "ukernel/hosted/virtio_pci.hpp"
#include "ukernel/mmio.hpp"
#include "ukernel/syscall.hpp"
#include "ukernel/virtio/pci_layout.hpp"

extern char** environ;

using namespace ukernel;
namespace block = ukernel::block;

namespace {

constexpr std::size_t kFileBytes = std::size_t{64} << 20;
constexpr std::size_t kImageKib = 160 * 1024;  // the file to read, and room for one written
constexpr int kRepetitions = 3;

constexpr unsigned kBlockRegionBits = 22;   // the block session: 4 MiB of DMA memory
constexpr unsigned kClientRegionBits = 21;  // the client's region with the fs server: 2 MiB
constexpr unsigned kDmaBits = 16;           // the driver's rings and request headers
constexpr word kBarVaddr = 0x60000000;      // in the driver's space
constexpr word kDmaVaddr = 0x58000000;      // in the driver's space
constexpr word kBlockRegion = 0x70000000;   // in the driver's space and the fs server's
constexpr word kClientRegion = 0x80000000;  // in the fs server's space and the root's
constexpr unsigned kIrqLine = 12;
constexpr std::uint32_t kMaxInFlight = 16;
constexpr Rights kReadWrite = Rights::kRead | Rights::kWrite;

using Driver = virtio_blk::VirtioBlk<Mmio, 64, kMaxInFlight>;
static_assert(Driver::kQueueMemoryBytes + Driver::kRequestMemoryBytes <= (word{1} << kDmaBits));

enum class Mode { kRead, kWrite };

// What the host, the root task and the servers share (one process: the fibers see host memory).
struct Run {
  Mode mode = Mode::kRead;
  bool verify = false;               // read: the file once more, untimed, for its CRC-32
  std::vector<std::uint8_t> config;  // the function's configuration space, as a PCI server reads it
  word blk_endpoint = 0, blk_for_fs = 0, fs_endpoint = 0, fs_for_root = 0;
  word irq_handler = 0, irq_notification = 0;
  word dma_bus = 0, region_bus = 0;
  bool driver_up = false;
  // Results.
  double seconds = -1;
  std::uint32_t crc = 0;
  std::string error;
} g;

// --- the block driver ------------------------------------------------------------------------
class BenchBlk : public rpc::Server<BenchBlk, block::Protocol> {
 public:
  bool start() {
    bar_ = Mmio(kBarVaddr, hosted::VirtioPciFunction::kBarBytes);
    windows_.bar[0] = &bar_;
    virtio::BarSizes sizes;
    sizes.size[0] = hosted::VirtioPciFunction::kBarBytes;
    virtio::PciLayout layout;
    if (virtio::parse_pci_layout(g.config.data(), g.config.size(), sizes, layout) !=
        virtio::LayoutError::kOk)
      return false;
    auto* cpu = static_cast<std::byte*>(arch::user_pointer(kDmaVaddr, word{1} << kDmaBits));
    virtio::DmaRegion memory{cpu, g.dma_bus, word{1} << kDmaBits};
    Message msi = IrqHandler(g.irq_handler).msi_message();
    if (!msi.ok() || !layout.msix.present) return false;
    Driver::Interrupts interrupts{0, true, msi.words[0], std::uint32_t(msi.words[1])};
    if (driver_.init(layout, windows_, memory.slice(0, Driver::kQueueMemoryBytes),
                     memory.slice(Driver::kQueueMemoryBytes, Driver::kRequestMemoryBytes),
                     interrupts) != virtio_blk::Error::kOk)
      return false;
    (void)irq_ack(g.irq_handler);
    return true;
  }

  rpc::Result<block::Geometry> handle(block::Protocol::Open) {
    block::Geometry geometry;
    constexpr word kBytes = word{1} << kBlockRegionBits;
    if (!bridge_.open(0, SharedRegion(arch::user_pointer(kBlockRegion, kBytes), kBytes),
                      g.region_bus, geometry))
      return Error::kInvalidArgument;
    return geometry;
  }

  // Hands the device what is queued, and answers once a completion is posted.
  rpc::Result<void> handle(block::Protocol::Kick) {
    block::Session& session = bridge_.session(0);
    if (!session.is_open()) return Error::kIllegalOperation;
    bridge_.pump(0);
    bool posted = bridge_.take_posted(0);
    while (!posted && session.in_flight() > 0 && !session.corrupt()) {
      (void)wait(g.irq_notification);
      if (!bridge_.device_done()) return Error::kInvalidArgument;
      (void)irq_ack(g.irq_handler);
      bridge_.pump(0);
      posted = bridge_.take_posted(0);
    }
    if (session.corrupt()) return Error::kInvalidArgument;
    return {};
  }

 private:
  Driver driver_;
  Mmio bar_;
  virtio::BarWindows<Mmio> windows_;
  blk::BlockBridge<Driver, 1, kMaxInFlight> bridge_{driver_};
};

void blk_thread(word) {
  alignas(BenchBlk) static std::byte storage[sizeof(BenchBlk)];
  auto* server = ::new (storage) BenchBlk();
  g.driver_up = server->start();
  if (!g.driver_up) return;
  (void)server->serve(g.blk_endpoint);
}

void fs_thread(word) {
  constexpr word kClientBytes = word{1} << kClientRegionBits;
  constexpr word kBlockBytes = word{1} << kBlockRegionBits;
  fs::ClientConfig clients[1] = {
      {1, SharedRegion(arch::user_pointer(kClientRegion, kClientBytes), kClientBytes), "", false}};
  alignas(fs::Server) static std::byte storage[sizeof(fs::Server)];
  auto* server = ::new (storage)
      fs::Server(g.blk_for_fs,
                 SharedRegion(arch::user_pointer(kBlockRegion, kBlockBytes), kBlockBytes), clients);
  (void)server->serve(g.fs_endpoint);
}

// --- the root task: the system, then the client's timed loop ---------------------------------
struct Kit {
  const BootInfo* info;
  word untyped = 0;
  word next = 0;
  word next_ipc = 0x40000000;
  word slot() { return next++; }
  word make(ObjectType type, unsigned bits = 0, FrameAttributes a = FrameAttributes::kNone) {
    word s = slot();
    return retype(untyped, type, bits, kRootCNodeSlot, s, 1, a) == Error::kOk ? s : 0;
  }
  word spawn_in(word space, hosted::Entry entry, word priority) {
    word thread = make(ObjectType::kThread), ipc = make(ObjectType::kFrame, 12);
    word at = next_ipc;
    next_ipc += 0x1000;
    if (thread == 0 || ipc == 0 || map_frame(space, ipc, at, kReadWrite) != Error::kOk ||
        thread_configure(thread, kRootCNodeSlot, space, ipc, at, 0) != Error::kOk ||
        thread_set_priority(thread, priority) != Error::kOk ||
        thread_restart(thread, hosted::entry_address(entry), 0, 0) != Error::kOk)
      return 0;
    return thread;
  }
};

word device_untyped_at(const BootInfo& info, word paddr) {
  for (word i = 0; i < info.untyped_count; ++i) {
    if (info.untyped[i].is_device != 0 && info.untyped[i].paddr == paddr)
      return kFirstUntypedSlot + i;
  }
  return 0;
}

bool build_system(Kit& kit) {
  word blk_space = kit.make(ObjectType::kAddressSpace, 16);
  word fs_space = kit.make(ObjectType::kAddressSpace, 16);
  // BAR 0, as the PCI server would hand it: a device frame of the BAR area.
  word device = device_untyped_at(*kit.info, hosted::kDeviceBarBase);
  word bar = kit.slot();
  if (device == 0 || retype(device, ObjectType::kFrame, 15, kRootCNodeSlot, bar) != Error::kOk ||
      map_frame(blk_space, bar, kBarVaddr, kReadWrite) != Error::kOk) {
    g.error = "cannot build the system (step 1)";
    return false;
  }
  // DMA memory: the driver's rings, and the session's region (shared with the fs server).
  word dma = kit.make(ObjectType::kFrame, kDmaBits, FrameAttributes::kDma);
  word region = kit.make(ObjectType::kFrame, kBlockRegionBits, FrameAttributes::kDma);
  word region_copy = kit.slot();
  if (dma == 0 || region == 0 ||
      cnode_copy(kRootCNodeSlot, region_copy, kRootCNodeSlot, region, kReadWrite) != Error::kOk ||
      map_frame(blk_space, dma, kDmaVaddr, kReadWrite) != Error::kOk ||
      map_frame(blk_space, region, kBlockRegion, kReadWrite) != Error::kOk ||
      map_frame(fs_space, region_copy, kBlockRegion, kReadWrite) != Error::kOk) {
    g.error = "cannot build the system (step 2)";
    return false;
  }
  Message dma_address = Frame(dma).physical_address();
  Message region_address = Frame(region).physical_address();
  if (!dma_address.ok() || !region_address.ok()) {
    g.error = "cannot build the system (step 3)";
    return false;
  }
  g.dma_bus = dma_address.words[0];
  g.region_bus = region_address.words[0];
  // The client's region, in the fs server and here.
  word client = kit.make(ObjectType::kFrame, kClientRegionBits);
  word client_copy = kit.slot();
  if (client == 0 ||
      cnode_copy(kRootCNodeSlot, client_copy, kRootCNodeSlot, client, kReadWrite) != Error::kOk ||
      map_frame(fs_space, client, kClientRegion, kReadWrite) != Error::kOk ||
      map_frame(kRootAddressSpaceSlot, client_copy, kClientRegion, kReadWrite) != Error::kOk) {
    g.error = "cannot build the system (step 4)";
    return false;
  }
  // The interrupt: an MSI line whose handler signals the driver's notification.
  g.irq_notification = kit.make(ObjectType::kNotification);
  g.irq_handler = kit.slot();
  word badged = kit.slot();
  if (g.irq_notification == 0 ||
      cnode_mint(kRootCNodeSlot, badged, kRootCNodeSlot, g.irq_notification, Rights::kAll, 1) !=
          Error::kOk ||
      irq_control_get(kIrqControlSlot, kIrqLine, kRootCNodeSlot, g.irq_handler) != Error::kOk ||
      irq_set_notification(g.irq_handler, badged) != Error::kOk) {
    g.error = "cannot build the system (step 5)";
    return false;
  }
  g.blk_endpoint = kit.make(ObjectType::kEndpoint);
  g.fs_endpoint = kit.make(ObjectType::kEndpoint);
  g.blk_for_fs = kit.slot();
  g.fs_for_root = kit.slot();
  if (cnode_mint(kRootCNodeSlot, g.blk_for_fs, kRootCNodeSlot, g.blk_endpoint, Rights::kWrite, 1) !=
          Error::kOk ||
      cnode_mint(kRootCNodeSlot, g.fs_for_root, kRootCNodeSlot, g.fs_endpoint, Rights::kWrite, 1) !=
          Error::kOk) {
    g.error = "cannot build the system (step 6)";
    return false;
  }
  return kit.spawn_in(blk_space, blk_thread, 90) != 0 && kit.spawn_in(fs_space, fs_thread, 80) != 0;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void root(word info_address) {
  Kit kit;
  kit.info = boot_info(info_address);
  kit.next = kit.info->first_free_slot;
  kit.untyped = largest_ram_untyped(*kit.info);
  if (!build_system(kit)) return;
  constexpr word kClientBytes = word{1} << kClientRegionBits;
  fs::Client files(g.fs_for_root,
                   SharedRegion(arch::user_pointer(kClientRegion, kClientBytes), kClientBytes));
  rpc::Client<fs::Protocol> raw(g.fs_for_root);
  const std::span<std::byte> area = files.data();
  // Mount first (not timed): the first request opens the session and counts the free clusters.
  if (fs::StatReply st = files.stat("/"); st.status != fs::FsError::kOk) {
    g.error = std::string("mount: ") + fat32::describe(st.status);
    return;
  }
  if (g.mode == Mode::kRead) {
    auto h = files.open("/BIG.BIN", fs::Open::kRead);
    if (!h.ok()) {
      g.error = std::string("open: ") + fat32::describe(h.error);
      return;
    }
    const double start = now_seconds();
    std::uint64_t offset = 0;
    for (;;) {
      auto got = raw.call<fs::Protocol::Read>(
          h.value, offset, std::uint64_t{fs::Client::kDataOffset}, std::uint64_t(area.size()));
      if (!got.ok() || got.value().status != fs::FsError::kOk) {
        g.error = "read failed";
        return;
      }
      offset += got.value().value;
      if (got.value().value < area.size()) break;
    }
    g.seconds = now_seconds() - start;
    if (offset != kFileBytes) g.error = "read " + std::to_string(offset) + " bytes";
    if (g.verify) {
      std::vector<std::byte> all(kFileBytes);
      auto n = files.read(h.value, 0, all);
      if (!n.ok() || n.value != kFileBytes) g.error = "the verifying read failed";
      g.crc = fat32::crc32(all);
    }
    (void)files.close(h.value);
    return;
  }
  // Write: create, write the file in region-sized pieces, close (kOk: on the disk).
  for (std::size_t i = 0; i < area.size(); ++i)
    area[i] = std::byte(i * 131 + (i >> 12));
  const double start = now_seconds();
  auto h = files.open("/OUT.BIN", fs::Open::kWrite | fs::Open::kCreate | fs::Open::kTruncate);
  if (!h.ok()) {
    g.error = std::string("open for write: ") + fat32::describe(h.error);
    return;
  }
  for (std::uint64_t offset = 0; offset < kFileBytes;) {
    std::uint64_t piece = std::min<std::uint64_t>(area.size(), kFileBytes - offset);
    auto put = raw.call<fs::Protocol::Write>(h.value, offset,
                                             std::uint64_t{fs::Client::kDataOffset}, piece);
    if (!put.ok() || put.value().status != fs::FsError::kOk) {
      g.error = "write failed";
      return;
    }
    offset += piece;
  }
  if (files.close(h.value) != fs::FsError::kOk) {
    g.error = "close failed";
    return;
  }
  g.seconds = now_seconds() - start;
  if (files.sync() != fs::FsError::kOk) g.error = "sync failed";  // marks the volume clean
}

// --- the host side ---------------------------------------------------------------------------
int run_command(const std::string& command) {
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0)
    return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// One Simulation over the image: the figure in seconds, or negative (with a message) on error.
double simulate(const std::string& image, Mode mode, bool verify = false) {
  int fd = ::open(image.c_str(), O_RDWR | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) return -1;
  g = Run{};
  g.mode = mode;
  g.verify = verify;
  double seconds = -1;
  {
    hosted::Simulation sim({.memory_bytes = std::size_t{64} << 20});
    hosted::VirtioBlkModel model(fd, word(st.st_size) / 512, {});
    hosted::VirtioPciFunction function(hosted::machine_bus(), model, {});
    // What the PCI server does: BAR 0 at the start of the BAR area, decoding and bus mastering on.
    function.pci().config_write(virtio::pci::kBar0, 4, std::uint32_t(hosted::kDeviceBarBase));
    function.pci().config_write(virtio::pci::kCommand, 2,
                                virtio::pci::kCommandMemorySpace | virtio::pci::kCommandBusMaster);
    // MSI-X on (the enable bit of its capability, ID 0x11), as the PCI server does.
    for (word at = function.pci().config_read(0x34, 1), steps = 0; at != 0 && steps < 48; ++steps) {
      if (function.pci().config_read(at, 1) == 0x11) {
        word control = function.pci().config_read(at + 2, 2);
        function.pci().config_write(at + 2, 2, (control | 1u << 15) & ~word{1u << 14});
        break;
      }
      at = function.pci().config_read(at + 1, 1);
    }
    g.config.resize(256);
    for (word i = 0; i < g.config.size(); ++i)
      g.config[i] = std::uint8_t(function.pci().config_read(i, 1));
    if (!hosted::attach_device(hosted::kDeviceBarBase, hosted::VirtioPciFunction::kBarBytes,
                               function)) {
      std::fprintf(stderr, "fs_bench: cannot attach the device\n");
    } else {
      (void)sim.run(root);
      if (!g.driver_up && g.error.empty()) g.error = "the driver did not come up";
      if (g.error.empty() && g.seconds < 0) g.error = "the run stopped early: " + sim.console();
      (void)hosted::detach_device(hosted::kDeviceBarBase);
    }
    seconds = g.error.empty() ? g.seconds : -1;
  }
  ::close(fd);
  if (!g.error.empty()) std::fprintf(stderr, "fs_bench: %s\n", g.error.c_str());
  return seconds;
}

std::vector<std::byte> read_whole(const std::string& path) {
  std::vector<std::byte> out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) return out;
  out.resize(std::size_t(st.st_size));
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd, out.data() + done, out.size() - done, off_t(done));
    if (n <= 0) break;
    done += std::size_t(n);
  }
  ::close(fd);
  out.resize(done);
  return out;
}

double mib_per_s(double seconds) {
  return double(kFileBytes) / double(1 << 20) / seconds;
}

}  // namespace

int main() {
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/ukernel-fs-bench-" +
                          std::to_string(::getpid());
  const std::string image = dir + ".img", data = dir + ".bin", out = dir + ".out";
  // The image: mkfs.fat -F 32, and a 64 MiB file of pseudo-random bytes copied in by mcopy.
  std::vector<std::byte> bytes(kFileBytes);
  std::uint32_t x = 12345;
  for (auto& b : bytes) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    b = std::byte(x);
  }
  const std::uint32_t expected_crc = ukernel::fat32::crc32(bytes);
  {
    int fd = ::open(data.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != ssize_t(bytes.size())) return 1;
    ::close(fd);
  }
  const std::string mtools = "MTOOLS_SKIP_CHECK=1 ";
  if (run_command("rm -f " + image + " && /usr/sbin/mkfs.fat -F 32 -C " + image + " " +
                  std::to_string(kImageKib) + " >/dev/null") != 0 ||
      run_command(mtools + "mcopy -i " + image + " " + data + " ::BIG.BIN") != 0) {
    std::fprintf(stderr, "fs_bench: cannot make the image (mkfs.fat, mcopy)\n");
    return 1;
  }
  double best_read = -1, best_write = -1, best_mtools = -1;
  bool failed = false;
  const auto keep = [&](double& best, double seconds) {
    if (seconds <= 0) {
      failed = true;
      return;
    }
    if (best < 0 || seconds < best) best = seconds;
  };
  for (int i = 0; i < kRepetitions; ++i) {
    // mtools first and then the fs server, each time: both find the image in the page cache.
    const double start = now_seconds();
    const int status = run_command(mtools + "mcopy -n -i " + image + " ::BIG.BIN /dev/null");
    keep(best_mtools, status == 0 ? now_seconds() - start : -1);
    keep(best_read, simulate(image, Mode::kRead, i == 0));
    if (i == 0 && g.crc != expected_crc) {
      std::fprintf(stderr, "fs_bench: the file read through the fs server does not match\n");
      failed = true;
    }
    keep(best_write, simulate(image, Mode::kWrite));
  }
  // The data: what the fs server wrote reads back with mtools, and the read file is untouched.
  if (run_command(mtools + "mcopy -n -i " + image + " ::OUT.BIN " + out) != 0 ||
      run_command(mtools + "mcopy -n -i " + image + " ::BIG.BIN " + data) != 0) {
    failed = true;
  } else {
    std::vector<std::byte> written = read_whole(out);
    std::vector<std::byte> expect_written(kFileBytes);
    for (std::size_t i = 0; i < kFileBytes; ++i) {
      const std::size_t at = i % (std::size_t{1 << kClientRegionBits} - fs::Client::kDataOffset);
      expect_written[i] = std::byte(at * 131 + (at >> 12));
    }
    if (written != expect_written || ukernel::fat32::crc32(read_whole(data)) != expected_crc) {
      std::fprintf(stderr, "fs_bench: the data does not match\n");
      failed = true;
    }
  }
  if (run_command("/usr/sbin/fsck.fat -n " + image + " >/dev/null") != 0) {
    std::fprintf(stderr, "fs_bench: fsck.fat -n finds the image unclean\n");
    failed = true;
  }
  std::remove(image.c_str());
  std::remove(data.c_str());
  std::remove(out.c_str());
  if (best_read > 0) std::printf("hosted.fs.seq_read_mib_s %.0f MiB/s\n", mib_per_s(best_read));
  if (best_mtools > 0)
    std::printf("host.mtools.seq_read_mib_s %.0f MiB/s\n", mib_per_s(best_mtools));
  if (best_write > 0) std::printf("hosted.fs.seq_write_mib_s %.0f MiB/s\n", mib_per_s(best_write));
  return failed ? 1 : 0;
}
