// The RAM-disk server through the real kernel: the driver and each client in address spaces of
// their own, sharing one 1 MiB region per client. Several requests in flight, read after write,
// a hostile client refused while another is served, and a driver restart that fails the
// requests in flight instead of leaving the client waiting.
#include <catch2/catch.hpp>
#include <vector>

#include "ramdisk/ramdisk.hpp"
#include "support/root_kit.hpp"
#include "ukernel/block_client.hpp"

using namespace ukernel;
using block::Status;

namespace {

constexpr unsigned kRegionBits = 20;  // 1 MiB per session
constexpr word kRegionBytes = word{1} << kRegionBits;
constexpr unsigned kDiskBits = 20;           // a 1 MiB disk: 2048 sectors
constexpr word kDiskAddress = 0x60000000;    // in the driver's space
constexpr word kServerRegions = 0x70000000;  // client i's region: + i MiB, driver's space
constexpr word kClientRegion = 0x50000000;   // in each client's space
constexpr std::size_t kClients = 2;          // 0: the good client, 1: the hostile one
constexpr std::uint64_t kSectors = (word{1} << kDiskBits) / ramdisk::kSectorSize;
constexpr std::uint64_t kDataBytes = kRegionBytes - block::kDataOffset;

struct Setup {
  word endpoint = 0;                 // the driver's endpoint (unbadged)
  word client_endpoint[kClients]{};  // badged i + 1
  word notification[kClients]{};     // each client's; the driver holds a signalling copy
  word signal_copy[kClients]{};
  word attack_done = 0;  // the hostile client is done: the good one starts
  word hang_signal = 0;  // the stuck driver has taken requests
  word restarted = 0;    // the root restarted the driver
  word forever = 0;      // nobody signals it
} s;

// --- the driver ------------------------------------------------------------------------------
ramdisk::SessionConfig session_config(std::size_t client) {
  word at = kServerRegions + client * kRegionBytes;
  return {client + 1, SharedRegion(arch::user_pointer(at, kRegionBytes), kRegionBytes),
          s.signal_copy[client]};
}

void ramdisk_server(word) {
  ramdisk::SessionConfig sessions[kClients] = {session_config(0), session_config(1)};
  std::span disk(static_cast<std::byte*>(arch::user_pointer(kDiskAddress, word{1} << kDiskBits)),
                 word{1} << kDiskBits);
  ramdisk::Server server(disk, sessions);
  (void)server.serve(s.endpoint);
}

// A driver whose device never answers: it takes the requests, then hangs until restarted.
class StuckServer : public rpc::Server<StuckServer, block::Protocol> {
 public:
  rpc::Result<block::Geometry> handle(block::Protocol::Open) {
    block::Geometry g{kSectors, ramdisk::kSectorSize, kRegionBytes, ramdisk::kMaxInFlight};
    if (!session_.open(session_config(badge() - 1).region, g)) return Error::kInvalidArgument;
    return g;
  }
  rpc::Result<void> handle(block::Protocol::Kick) {
    block::Request r;
    while (session_.next(r)) {
    }
    (void)signal(s.hang_signal);
    (void)wait(s.forever);
    return {};
  }

 private:
  block::Session session_;
};

void stuck_server(word) {
  StuckServer server;
  (void)server.serve(s.endpoint);
}

// --- clients ---------------------------------------------------------------------------------
SharedRegion client_region() {
  return {arch::user_pointer(kClientRegion, kRegionBytes), kRegionBytes};
}

std::byte pattern(std::uint64_t request, std::size_t i) {
  return std::byte((request * 131 + i * 7 + (i >> 9)) & 0xff);
}

// Submits `ops` (each 8 sectors at lba, bytes at offset), all in flight together, and waits
// for them; the outcomes by request.
struct Transfer {
  block::Op op;
  std::uint64_t lba;
  std::uint64_t offset;
};
std::vector<Status> run_batch(block::Client& disk, const std::vector<Transfer>& ops,
                              std::size_t& most_in_flight) {
  std::vector<std::uint64_t> ids(ops.size());
  std::vector<Status> result(ops.size(), Status::kCount);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    Status submitted = disk.submit(ops[i].op, ops[i].lba, 8, ops[i].offset, ids[i]);
    if (submitted != Status::kOk) result[i] = submitted;
  }
  most_in_flight = std::max(most_in_flight, disk.in_flight());
  while (disk.in_flight() > 0) {
    if (disk.wait() != Error::kOk) break;
    for (block::Outcome done; disk.reap(done);) {
      for (std::size_t i = 0; i < ops.size(); ++i) {
        if (ids[i] == done.id) result[i] = done.status;
      }
    }
  }
  for (block::Outcome done; disk.reap(done);) {  // the ones failed without the driver
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ids[i] == done.id) result[i] = done.status;
    }
  }
  return result;
}

struct GoodClient {
  Error opened = Error::kIllegalOperation;
  block::Geometry geometry;
  std::vector<Status> writes, reads;
  std::size_t most_in_flight = 0;
  std::size_t mismatches = 0;
  word notified = 0;
  std::byte hostile_sector_100{0}, untouched_sector_101{1};
  bool done = false;
} good;

void good_client(word) {
  (void)wait(s.attack_done);
  block::Client disk(s.client_endpoint[0], client_region());
  good.opened = disk.open();
  good.geometry = disk.geometry();
  // Eight writes in flight together, including the disk's last sectors and the data area's
  // last bytes; then eight reads of the same sectors into other places.
  std::vector<Transfer> writes, reads;
  for (std::uint64_t k = 0; k < 8; ++k) {
    std::uint64_t lba = k == 7 ? kSectors - 8 : k * 37 + 200;
    std::uint64_t offset = k == 7 ? kDataBytes - 4096 : k * 4096;
    writes.push_back({block::Op::kWrite, lba, offset});
    reads.push_back({block::Op::kRead, lba, 0x40000 + k * 4096});
    for (std::size_t i = 0; i < 4096; ++i)
      disk.data()[offset + i] = pattern(k, i);
  }
  good.writes = run_batch(disk, writes, good.most_in_flight);
  good.notified = poll(s.notification[0]).badge;
  reads.push_back({block::Op::kRead, 96, 0x80000});  // sectors 96..103: the hostile writes
  good.reads = run_batch(disk, reads, good.most_in_flight);
  for (std::uint64_t k = 0; k < 8; ++k) {
    for (std::size_t i = 0; i < 4096; ++i)
      good.mismatches += disk.data()[0x40000 + k * 4096 + i] != pattern(k, i);
  }
  good.hostile_sector_100 = disk.data()[0x80000 + 4 * 512];
  good.untouched_sector_101 = disk.data()[0x80000 + 5 * 512];
  good.done = true;
}

// The hostile client writes the rings itself.
struct HostileClient {
  std::vector<std::pair<std::uint64_t, Status>> answers;
  Error after_bad_head = Error::kOk;
  Error after_bad_completion_tail = Error::kOk;
  Error after_reopen = Error::kIllegalOperation;
  std::size_t garbage_kicks = 0, garbage_refused = 0, garbage_other = 0;
  bool done = false;
} hostile;

void hostile_client(word) {
  SharedRegion region = client_region();
  rpc::Client<block::Protocol> driver(s.client_endpoint[1]);
  auto attach = [&] {
    return std::pair{block::RequestProducer(
                         *block::RequestRing::attach(region.base() + block::kRequestRingOffset)),
                     block::CompletionConsumer(*block::CompletionRing::attach(
                         region.base() + block::kCompletionRingOffset))};
  };
  if (!driver.call<block::Protocol::Open>().ok()) return;
  auto [requests, completions] = attach();
  constexpr auto kWrite = std::uint32_t(block::Op::kWrite);
  region.base()[block::kDataOffset] = std::byte{0xee};
  const block::Request bad[] = {
      {1, kWrite, 1, 0, kDataBytes},               // outside the region
      {2, kWrite, 1, kSectors, 0},                 // beyond the disk
      {3, kWrite, 2, kSectors - 1, 0},             // partly beyond the disk
      {4, 7, 1, 0, 0},                             // no such op
      {5, kWrite, 1, 100, 0},                      // good
      {5, kWrite, 1, 101, 0},                      // id 5 is in flight
      {6, kWrite, 1, 0, ~std::uint64_t{0} - 511},  // an offset that wraps
      {7, kWrite, 0xffffffff, 0, 0},               // more sectors than the disk
  };
  for (const block::Request& r : bad)
    (void)requests.push(r);
  (void)driver.call<block::Protocol::Kick>();
  for (block::Completion c; completions.pop(c) == RingStatus::kOk;)
    hostile.answers.emplace_back(c.id, Status(c.status));

  // Corrupt indices: the request ring's head, then (after a fresh Open) the completion
  // ring's tail, which the driver reads before it answers.
  auto* head = reinterpret_cast<std::uint32_t*>(region.base() + block::kRequestRingOffset);
  *head = 1000;
  hostile.after_bad_head = driver.call<block::Protocol::Kick>().error();
  if (!driver.call<block::Protocol::Open>().ok()) return;
  auto [requests2, completions2] = attach();
  (void)requests2.push({9, kWrite, 1, 102, 0});
  auto* tail = reinterpret_cast<std::uint32_t*>(region.base() + block::kCompletionRingOffset + 64);
  *tail = 0xdeadbeef;
  hostile.after_bad_completion_tail = driver.call<block::Protocol::Kick>().error();

  // Garbage anywhere in the rings' page, again and again; the driver answers or refuses.
  std::uint64_t random = 88172645463325252ull;
  for (int round = 0; round < 100; ++round) {
    if (!driver.call<block::Protocol::Open>().ok()) return;
    for (int w = 0; w < 8; ++w) {
      random ^= random << 13, random ^= random >> 7, random ^= random << 17;
      auto* words = reinterpret_cast<std::uint32_t*>(region.base());
      constexpr std::size_t kIndices[] = {
          block::kRequestRingOffset / 4, block::kRequestRingOffset / 4 + 16,
          block::kCompletionRingOffset / 4, block::kCompletionRingOffset / 4 + 16};
      // Half the time an index, else any word of the rings' page.
      std::size_t at =
          random % 2 ? kIndices[(random >> 1) % 4] : (random >> 8) % (block::kDataOffset / 4);
      words[at] = std::uint32_t(random % 3 == 0 ? random >> 32 : random % 70);
    }
    Error e = driver.call<block::Protocol::Kick>().error();
    ++hostile.garbage_kicks;
    if (e == Error::kInvalidArgument) ++hostile.garbage_refused;
    if (e != Error::kOk && e != Error::kInvalidArgument) ++hostile.garbage_other;
  }
  hostile.after_reopen = driver.call<block::Protocol::Open>().error();
  hostile.done = true;
  (void)signal(s.attack_done);
}

// --- the systems -----------------------------------------------------------------------------
// The driver's space with the disk and every client's region; each client in its own space
// with its region. Returns the driver's thread.
word make_system(test::RootKit& kit, hosted::Entry driver, hosted::Entry client0,
                 hosted::Entry client1) {
  s = Setup{};
  constexpr Rights kReadWrite = Rights::kRead | Rights::kWrite;
  word driver_space = kit.make(ObjectType::kAddressSpace, 16);
  word disk = kit.make(ObjectType::kFrame, kDiskBits);
  if (map_frame(driver_space, disk, kDiskAddress, kReadWrite) != Error::kOk) return 0;
  s.endpoint = kit.make(ObjectType::kEndpoint);
  s.attack_done = kit.mint(kit.make(ObjectType::kNotification), Rights::kAll, 1);
  s.hang_signal = kit.mint(kit.make(ObjectType::kNotification), Rights::kAll, 1);
  s.restarted = kit.mint(kit.make(ObjectType::kNotification), Rights::kAll, 1);
  s.forever = kit.make(ObjectType::kNotification);
  hosted::Entry clients[kClients] = {client0, client1};
  word client_spaces[kClients];
  for (std::size_t i = 0; i < kClients; ++i) {
    word region = kit.make(ObjectType::kFrame, kRegionBits);
    word region_copy = kit.mint(region, kReadWrite, 0);
    client_spaces[i] = kit.make(ObjectType::kAddressSpace, 14);
    if (map_frame(driver_space, region, kServerRegions + i * kRegionBytes, kReadWrite) !=
            Error::kOk ||
        map_frame(client_spaces[i], region_copy, kClientRegion, kReadWrite) != Error::kOk)
      return 0;
    s.client_endpoint[i] = kit.mint(s.endpoint, Rights::kWrite, i + 1);
    s.notification[i] = kit.make(ObjectType::kNotification);
    s.signal_copy[i] = kit.mint(s.notification[i], Rights::kWrite, 1);
  }
  word thread = kit.spawn_in(driver_space, driver, 0, 100);
  for (std::size_t i = 0; i < kClients; ++i) {
    if (clients[i] != nullptr) kit.spawn_in(client_spaces[i], clients[i], 0, 50);
  }
  return thread;
}

void root_hostile(word info) {
  test::RootKit kit(info);
  make_system(kit, ramdisk_server, good_client, hostile_client);
}

struct RestartClient {
  Error first_open = Error::kIllegalOperation;
  Error stuck_wait = Error::kOk;
  std::vector<Status> lost;
  Error second_open = Error::kIllegalOperation;
  std::vector<Status> writes, reads;
  std::size_t mismatches = 0;
  std::size_t most_in_flight = 0;
  bool done = false;
} restart;

void restart_client(word) {
  block::Client disk(s.client_endpoint[0], client_region());
  restart.first_open = disk.open();
  std::vector<Transfer> writes, reads;
  for (std::uint64_t k = 0; k < 3; ++k) {
    writes.push_back({block::Op::kWrite, k * 8, k * 4096});
    reads.push_back({block::Op::kRead, k * 8, 0x10000 + k * 4096});
    for (std::size_t i = 0; i < 4096; ++i)
      disk.data()[k * 4096 + i] = pattern(k + 50, i);
  }
  std::vector<std::uint64_t> ids(3);
  for (std::size_t k = 0; k < 3; ++k)
    (void)disk.submit(writes[k].op, writes[k].lba, 8, writes[k].offset, ids[k]);
  restart.stuck_wait = disk.wait();  // the driver hangs; the root restarts it
  for (block::Outcome done; disk.reap(done);)
    restart.lost.push_back(done.status);
  (void)wait(s.restarted);
  disk.set_endpoint(s.client_endpoint[0]);
  restart.second_open = disk.open();
  restart.writes = run_batch(disk, writes, restart.most_in_flight);
  restart.reads = run_batch(disk, reads, restart.most_in_flight);
  for (std::uint64_t k = 0; k < 3; ++k) {
    for (std::size_t i = 0; i < 4096; ++i)
      restart.mismatches += disk.data()[0x10000 + k * 4096 + i] != pattern(k + 50, i);
  }
  restart.done = true;
}

void root_restart(word info) {
  test::RootKit kit(info);
  word driver = make_system(kit, stuck_server, restart_client, nullptr);
  (void)wait(s.hang_signal);  // the client is in its Kick, the driver will never answer
  // Restart the driver: every copy of its endpoint goes, a fresh one for the new instance.
  (void)cnode_revoke(kRootCNodeSlot, s.endpoint);
  (void)cnode_delete(kRootCNodeSlot, s.endpoint);
  s.endpoint = kit.make(ObjectType::kEndpoint);
  s.client_endpoint[0] = kit.mint(s.endpoint, Rights::kWrite, 1);
  (void)thread_restart(driver, hosted::entry_address(ramdisk_server), 0, 0);
  (void)signal(s.restarted);
}

}  // namespace

TEST_CASE(
    "ramdisk: several requests in flight, read after write byte-exact, a hostile client "
    "refused while another is served") {
  for (unsigned preempt : {0u, 5u}) {
    good = GoodClient{};
    hostile = HostileClient{};
    hosted::Simulation sim({.seed = 3, .preempt_one_in = preempt});
    sim.run(root_hostile);
    INFO("preempt_one_in " << preempt);

    REQUIRE(hostile.done);
    using A = std::pair<std::uint64_t, Status>;
    std::vector<A> expected{{1, Status::kOutsideRegion}, {2, Status::kOutOfRange},
                            {3, Status::kOutOfRange},    {4, Status::kBadOp},
                            {5, Status::kDuplicateId},   {6, Status::kOutsideRegion},
                            {7, Status::kOutOfRange},    {5, Status::kOk}};
    CHECK(hostile.answers == expected);
    CHECK(hostile.after_bad_head == Error::kInvalidArgument);
    CHECK(hostile.after_bad_completion_tail == Error::kInvalidArgument);
    CHECK(hostile.garbage_kicks == 100);
    CHECK(hostile.garbage_refused > 20);  // most garbage is caught as corrupt indices
    CHECK(hostile.garbage_other == 0);
    CHECK(hostile.after_reopen == Error::kOk);

    REQUIRE(good.done);
    CHECK(good.opened == Error::kOk);
    CHECK(good.geometry.sectors == kSectors);
    CHECK(good.geometry.sector_size == 512);
    CHECK(good.geometry.region_bytes == kRegionBytes);
    CHECK(good.writes == std::vector<Status>(8, Status::kOk));
    CHECK(good.reads == std::vector<Status>(9, Status::kOk));
    CHECK(good.most_in_flight == 9);
    CHECK(good.mismatches == 0);
    CHECK(good.notified != 0);  // the driver signalled the client's notification
    CHECK(good.hostile_sector_100 == std::byte{0xee});  // the hostile client's one good write
    CHECK(good.untouched_sector_101 == std::byte{0});   // its duplicate-id write: not done
  }
}

TEST_CASE(
    "ramdisk: a driver restart fails the requests in flight, and the client reopens and goes on") {
  for (bool fastpath : {true, false}) {
    restart = RestartClient{};
    hosted::Simulation sim({.fastpath = fastpath});
    sim.run(root_restart);
    INFO("fastpath " << fastpath);
    REQUIRE(restart.done);  // no hang
    CHECK(restart.first_open == Error::kOk);
    CHECK(restart.stuck_wait == Error::kCancelled);
    CHECK(restart.lost == std::vector<Status>(3, Status::kServerGone));
    CHECK(restart.second_open == Error::kOk);
    CHECK(restart.writes == std::vector<Status>(3, Status::kOk));
    CHECK(restart.reads == std::vector<Status>(3, Status::kOk));
    CHECK(restart.mismatches == 0);
  }
}
