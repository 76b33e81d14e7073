// The block protocol's pure parts on the host: validate() on every kind of bad request, the
// driver's session helper against a client that writes raw and hostile bytes into the region,
// and the geometry's marshalling.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "ukernel/block_server.hpp"

using namespace ukernel;
using namespace ukernel::block;

namespace {

constexpr std::size_t kRegionBytes = 64 * 1024;
constexpr Geometry kGeometry{
    .sectors = 1000, .sector_size = 512, .region_bytes = kRegionBytes, .max_in_flight = 8};
constexpr std::uint64_t kData = kRegionBytes - kDataOffset;  // the data area's size
constexpr auto kRead = std::uint32_t(Op::kRead);
constexpr auto kWrite = std::uint32_t(Op::kWrite);
constexpr auto kFlush = std::uint32_t(Op::kFlush);

constexpr Status check(std::uint32_t op, std::uint64_t lba, std::uint32_t sectors,
                       std::uint64_t offset) {
  return validate(Request{1, op, sectors, lba, offset}, kGeometry);
}

// Good requests, at the edges.
static_assert(check(kRead, 0, 1, 0) == Status::kOk);
static_assert(check(kWrite, 999, 1, kData - 512) == Status::kOk);  // last sector, last bytes
static_assert(check(kRead, 0, std::uint32_t(kData / 512), 0) == Status::kOk);  // the whole area
static_assert(check(kFlush, 0, 0, 0) == Status::kOk);

struct Case {
  const char* what;
  Status got;
  Status expected;
};

// A region as the driver's mapping of it: page-aligned heap memory of exactly its size, so
// ASan reports any access outside it.
struct Region {
  Region() : bytes(static_cast<std::byte*>(std::aligned_alloc(4096, kRegionBytes))) {
    std::fill(bytes.get(), bytes.get() + kRegionBytes, std::byte{0});
  }
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  std::unique_ptr<std::byte, Free> bytes;
  SharedRegion shared() const { return {bytes.get(), kRegionBytes}; }
};

// The client's side, written raw (no client library): what a hostile client can do.
struct RawClient {
  explicit RawClient(const Region& r)
      : requests(*RequestRing::attach(r.bytes.get() + kRequestRingOffset)),
        completions(*CompletionRing::attach(r.bytes.get() + kCompletionRingOffset)) {}
  RequestProducer requests;
  CompletionConsumer completions;
};

}  // namespace

TEST_CASE("block: validate names what is wrong with a request") {
  const Case cases[] = {
      {"unknown op", check(3, 0, 1, 0), Status::kBadOp},
      {"huge op", check(0xffffffff, 0, 1, 0), Status::kBadOp},
      {"read of no sectors", check(kRead, 0, 0, 0), Status::kOutOfRange},
      {"flush with sectors", check(kFlush, 0, 1, 0), Status::kOutOfRange},
      {"LBA at the end", check(kRead, 1000, 1, 0), Status::kOutOfRange},
      {"range past the end", check(kWrite, 999, 2, 0), Status::kOutOfRange},
      {"LBA that wraps", check(kWrite, ~std::uint64_t{0}, 2, 0), Status::kOutOfRange},
      {"most sectors", check(kRead, 0, 0xffffffff, 0), Status::kOutOfRange},
      {"offset past the area", check(kRead, 0, 1, kData), Status::kOutsideRegion},
      {"bytes past the area", check(kRead, 0, 1, kData - 511), Status::kOutsideRegion},
      {"offset that wraps", check(kRead, 0, 1, ~std::uint64_t{0} - 100), Status::kOutsideRegion},
      {"more than the area", check(kRead, 0, std::uint32_t(kData / 512) + 1, 0),
       Status::kOutsideRegion},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(c.got == c.expected);
  }
  Geometry tiny = kGeometry;
  tiny.region_bytes = kMinRegionBytes - 1;  // no data area at all
  CHECK(validate(Request{1, kRead, 1, 0, 0}, tiny) == Status::kOutsideRegion);
}

TEST_CASE("block: a region that cannot hold the layout is refused at open") {
  Region region;
  Session session;
  CHECK_FALSE(session.open({}, kGeometry));
  Geometry wrong_size = kGeometry;
  wrong_size.region_bytes = kRegionBytes * 2;  // larger than the region really is
  CHECK_FALSE(session.open(region.shared(), wrong_size));
  CHECK_FALSE(
      session.open({region.bytes.get(), kMinRegionBytes - 1}, {1000, 512, kMinRegionBytes - 1, 8}));
  CHECK_FALSE(session.open({region.bytes.get() + 8, kRegionBytes - 8},
                           {1000, 512, kRegionBytes - 8, 8}));  // misaligned
  Geometry too_many = kGeometry;
  too_many.max_in_flight = kRingCapacity + 1;
  CHECK_FALSE(session.open(region.shared(), too_many));
  CHECK_FALSE(session.is_open());
  CHECK(session.open(region.shared(), kGeometry));
}

TEST_CASE("block: the session helper answers bad requests and hands over good ones") {
  Region region;
  Session session;
  REQUIRE(session.open(region.shared(), kGeometry));
  RawClient client(region);
  const Request sent[] = {
      {10, kWrite, 1, 5, 0},         // good
      {11, kWrite, 1, 1000, 0},      // out of range
      {10, kRead, 1, 6, 512},        // id 10 is in flight
      {12, 9, 1, 0, 0},              // bad op
      {13, kRead, 2, 7, kData - 8},  // outside the region
      {14, kFlush, 0, 0, 0},         // good
  };
  for (const Request& r : sent)
    REQUIRE(client.requests.push(r) == RingStatus::kOk);

  std::vector<std::uint64_t> handed;
  Request r;
  while (session.next(r)) {
    handed.push_back(r.id);
    if (r.id == 10) CHECK(session.data(r).data() == region.bytes.get() + kDataOffset);
  }
  CHECK(handed == std::vector<std::uint64_t>{10, 14});
  CHECK(session.in_flight() == 2);
  CHECK_FALSE(session.complete(99, Status::kOk));  // not in flight
  CHECK(session.complete(14, Status::kOk));
  CHECK(session.complete(10, Status::kIoError));

  std::vector<std::pair<std::uint64_t, Status>> got;
  Completion c;
  while (client.completions.pop(c) == RingStatus::kOk)
    got.emplace_back(c.id, Status(c.status));
  CHECK(got == std::vector<std::pair<std::uint64_t, Status>>{{11, Status::kOutOfRange},
                                                             {10, Status::kDuplicateId},
                                                             {12, Status::kBadOp},
                                                             {13, Status::kOutsideRegion},
                                                             {14, Status::kOk},
                                                             {10, Status::kIoError}});
}

TEST_CASE("block: no more than max_in_flight are taken, and each can be completed") {
  Region region;
  Session session;
  REQUIRE(session.open(region.shared(), kGeometry));
  RawClient client(region);
  for (std::uint64_t id = 0; id < 20; ++id)
    REQUIRE(client.requests.push({id, kRead, 1, id, 0}) == RingStatus::kOk);
  Request r;
  std::size_t taken = 0;
  while (session.next(r))
    ++taken;
  CHECK(taken == kGeometry.max_in_flight);  // the rest wait in the ring
  CHECK(session.complete(0, Status::kOk));
  CHECK(session.next(r));
  CHECK(r.id == 8);
}

TEST_CASE("block: random garbage in the region never sends the driver outside it") {
  std::mt19937_64 random(9);
  std::size_t corrupt_sessions = 0, handed = 0, answered = 0;
  for (int round = 0; round < 300; ++round) {
    Region region;
    Session session;
    REQUIRE(session.open(region.shared(), kGeometry));
    RawClient client(region);
    for (int op = 0; op < 30; ++op) {
      if (random() % 3 == 0) {  // garbage in an index (half the time) or anywhere in the page
        auto* words = reinterpret_cast<std::uint32_t*>(region.bytes.get());
        constexpr std::size_t kIndices[] = {kRequestRingOffset / 4, kRequestRingOffset / 4 + 16,
                                            kCompletionRingOffset / 4,
                                            kCompletionRingOffset / 4 + 16};
        std::size_t at = random() % 2 ? kIndices[random() % 4] : random() % (kDataOffset / 4);
        words[at] = std::uint32_t(random() % 5 == 0 ? random() : random() % 70);
      } else {
        Request garbage{random() % 4, std::uint32_t(random() % 4), std::uint32_t(random() % 20),
                        random() % 1100, random() % (kData + 4096)};
        (void)client.requests.push(garbage);
      }
      Request r;
      while (session.next(r)) {
        std::span<std::byte> bytes = session.data(r);
        REQUIRE(validate(r, kGeometry) == Status::kOk);
        std::fill(bytes.begin(), bytes.end(), std::byte{0x5a});  // ASan: inside the region
        ++handed;
        (void)session.complete(r.id, Status::kOk);
      }
      Completion c;
      while (client.completions.pop(c) == RingStatus::kOk)
        ++answered;
    }
    if (session.corrupt()) ++corrupt_sessions;
  }
  INFO("corrupt " << corrupt_sessions << " handed " << handed << " answered " << answered);
  CHECK(corrupt_sessions > 100);
  CHECK(handed > 100);
  CHECK(answered > handed);
}

TEST_CASE("block: the geometry travels as four checked words") {
  using Codec = rpc::Codec<Geometry>;
  word words[Codec::kWords];
  Codec::encode(kGeometry, words);
  Geometry back;
  REQUIRE(Codec::decode(words, back));
  CHECK(back.sectors == 1000);
  CHECK(back.sector_size == 512);
  CHECK(back.region_bytes == kRegionBytes);
  CHECK(back.max_in_flight == 8);
  words[3] = kRingCapacity + 1;
  CHECK_FALSE(Codec::decode(words, back));
  words[3] = 8;
  words[1] = word{1} << 32;
  CHECK_FALSE(Codec::decode(words, back));
}
