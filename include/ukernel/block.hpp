// The block protocol between a block driver (a server) and its clients (a file system, a test).
//
// How this works (the shared-memory design of seL4's sDDF and Genode's block session): each
// session has a region of memory, one frame mapped into the client and the driver, that holds
//
//   offset 0              the request ring     (client produces, driver consumes)
//   kCompletionRingOffset the completion ring  (driver produces, client consumes)
//   kDataOffset (4 KiB)   the data area, to the end of the region
//
// A request names its bytes by an offset into the data area; the driver (or its device, by DMA)
// reads or writes them in place, so nothing is copied between client and driver. Several
// requests can be in flight; each carries an id of the client's choosing, and its completion
// repeats it. The rings are ukernel/ring.hpp's, whose indices are checked on every use.
//
// Around the region, a typed RPC protocol on the driver's endpoint (badged per client):
//   Open  starts (or restarts) the session: fresh rings, and the geometry;
//   Kick  tells the driver requests are queued: client -> driver notification. The reply comes
//         once at least one completion is in the ring (at once if nothing is in flight), so a
//         client can block in it; if the driver dies meanwhile the kernel ends the call with
//         kCancelled, and the client library fails the requests in flight (Status::kServerGone).
// and a notification the driver signals after posting completions (driver -> client), for
// clients that wait in an event loop instead.
//
// The driver trusts nothing in the region: validate() checks a request (op, LBA range, data
// offset and length inside the data area) against the geometry the driver itself knows, and
// block_server.hpp adds the in-flight checks (no duplicate ids) and answers a bad request with
// an error completion. docs/drivers.md, "The block protocol", describes it for users.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ukernel/ring.hpp"
#include "ukernel/rpc.hpp"

namespace ukernel::block {

// What a request asks for. On the wire an op is a raw word, checked by validate().
enum class Op : std::uint32_t { kRead = 0, kWrite = 1, kFlush = 2, kCount };

// A completion's status (and the client library's own results, marked "client").
enum class Status : std::uint32_t {
  kOk = 0,
  kIoError = 1,        // the device failed the request
  kBadOp = 2,          // op is not read, write or flush
  kOutOfRange = 3,     // LBA range beyond the disk, a read/write of 0 sectors, a flush with sectors
  kOutsideRegion = 4,  // data offset + length not inside the data area
  kDuplicateId = 5,    // the id is already in flight
  kTooMany = 6,        // client: max_in_flight requests are already in flight
  kServerGone = 7,     // client: the driver died or the session was reopened before completing
  kProtocolError = 8,  // the peer broke the protocol: corrupt ring indices, an unknown id
  kCount
};

// One request, as it lies in the request ring (32 bytes). Every field is the client's word.
struct Request {
  std::uint64_t id;
  std::uint32_t op;       // an Op
  std::uint32_t sectors;  // how many sectors (0 for a flush)
  std::uint64_t lba;      // the first sector
  std::uint64_t offset;   // where its bytes are, from the start of the data area
};

// One completion, as it lies in the completion ring.
struct Completion {
  std::uint64_t id;
  std::uint32_t status;  // a Status
  std::uint32_t reserved;
};

// What Open returns: the disk, and the session's limits.
struct Geometry {
  std::uint64_t sectors = 0;        // the disk's capacity
  std::uint32_t sector_size = 0;    // bytes per sector (512, 4096)
  std::uint64_t region_bytes = 0;   // the session's region, rings included
  std::uint32_t max_in_flight = 0;  // requests the driver takes at once (<= kRingCapacity)
};

// --- the region's layout ---------------------------------------------------------------------
inline constexpr std::size_t kRingCapacity = 63;
using RequestRing = SpscRing<Request, kRingCapacity>;
using CompletionRing = SpscRing<Completion, kRingCapacity>;
using RequestProducer = RingProducer<Request, kRingCapacity>;  // the client's views
using CompletionConsumer = RingConsumer<Completion, kRingCapacity>;
using RequestConsumer = RingConsumer<Request, kRingCapacity>;  // the driver's
using CompletionProducer = RingProducer<Completion, kRingCapacity>;
inline constexpr std::size_t kRequestRingOffset = 0;
inline constexpr std::size_t kCompletionRingOffset = (sizeof(RequestRing) + 63) & ~std::size_t{63};
inline constexpr std::size_t kDataOffset = 4096;
inline constexpr std::size_t kMinRegionBytes = kDataOffset + 4096;  // at least a page of data
static_assert(kCompletionRingOffset + sizeof(CompletionRing) <= kDataOffset,
              "block: the rings fit in the region's first page");

// The data area's size in a region of `region_bytes` (0 if the region is too small).
constexpr std::uint64_t data_bytes(std::uint64_t region_bytes) {
  return region_bytes >= kMinRegionBytes ? region_bytes - kDataOffset : 0;
}

// The bytes request `r` moves (0 for a flush).
constexpr std::uint64_t transfer_bytes(const Request& r, const Geometry& g) {
  return r.op == std::uint32_t(Op::kFlush) ? 0 : std::uint64_t(r.sectors) * g.sector_size;
}

// Checks one request against the geometry: kOk, or why it cannot be done. Pure; overflow-safe
// for any field values.
constexpr Status validate(const Request& r, const Geometry& g) {
  if (r.op >= std::uint32_t(Op::kCount)) return Status::kBadOp;
  if (r.op == std::uint32_t(Op::kFlush)) return r.sectors == 0 ? Status::kOk : Status::kOutOfRange;
  if (r.sectors == 0 || r.lba >= g.sectors || r.sectors > g.sectors - r.lba)
    return Status::kOutOfRange;
  std::uint64_t area = data_bytes(g.region_bytes);
  std::uint64_t length = transfer_bytes(r, g);
  if (r.offset > area || length > area - r.offset) return Status::kOutsideRegion;
  return Status::kOk;
}

// --- the RPC protocol ------------------------------------------------------------------------
struct Protocol {
  // Starts the caller's session afresh. Errors: kNotFound (the caller's badge has no session),
  // kInvalidArgument (the driver's region for it cannot hold the layout).
  using Open = rpc::Method<1, Geometry()>;
  // Requests are queued; replies once a completion is ready (or nothing is in flight).
  // Errors: kNotFound, kIllegalOperation (not open), kInvalidArgument (the session's rings are
  // corrupt: the driver stops reading them until the next Open).
  using Kick = rpc::Method<2, void()>;
  using Methods = rpc::Methods<Open, Kick>;
};

}  // namespace ukernel::block

// Geometry travels as four words.
template <>
struct ukernel::rpc::Codec<ukernel::block::Geometry> {
  static constexpr std::size_t kWords = 4;
  static constexpr std::size_t kCaps = 0;
  static void encode(const block::Geometry& g, word* out) {
    out[0] = g.sectors;
    out[1] = g.sector_size;
    out[2] = g.region_bytes;
    out[3] = g.max_in_flight;
  }
  static bool decode(const word* in, block::Geometry& g) {
    if (in[1] > UINT32_MAX || in[3] > block::kRingCapacity) return false;
    g = {in[0], std::uint32_t(in[1]), in[2], std::uint32_t(in[3])};
    return true;
  }
};
