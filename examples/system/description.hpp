// The language a system description is written in: servers, their priorities, and the
// capabilities each receives. examples/system/system.hpp is the one description of the example
// system; the root task boots from it and the host tests read it.
//
// A description is checked at compile time against the back-end it is built for (a Platform:
// which kinds of device access exist, how many interrupt lines): `verified<Platform, kSystem>`
// fails to compile with a message saying what is wrong, and the template arguments in the
// compiler's "required from" line name the server and the grant. What only the running system
// knows (the lines the kernel reports, memory, image files) is checked by the root task at boot,
// which stops with a message naming the entry.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ukernel/abi.hpp"

namespace sysdesc {

using ukernel::word;

enum class GrantKind : std::uint8_t {
  kNone,
  kIrq,        // an IrqHandler for `first`, signalling the server's own notification
  kIoPorts,    // I/O ports first .. first+count-1 (x86)
  kMmio,       // device untyped of exactly [first, first + count): a power of two, aligned to it
  kMemory,     // an untyped block of `count` bytes, for the server's own objects
  kNotify,     // the right to signal server `target`'s notification
  kShared,     // region `target`, mapped read-write at address `first`
  kPciHost,    // the PCI host bridge: its ECAM window as device untyped (the PCI server's)
  kPci,        // PCI function vendor `first`, device `count`: claimed through the PCI server
  kMsi,        // an IrqHandler for a free message-signalled line, signalling the server's
               // notification with irq_bit(grant)
  kFsSession,  // a file-system client's session, served by this server: region `target` mapped
               // read-write at `first` (as kShared); the client is the one other server sharing
               // the region; it sees `root` as its "/", and changes nothing if `read_only`
};

// Whether a grant of `kind` maps a shared region (`target`) at `first`.
constexpr bool maps_region(GrantKind kind) {
  return kind == GrantKind::kShared || kind == GrantKind::kFsSession;
}

// One capability a server receives. `role` is how the server's code refers to it.
struct Grant {
  GrantKind kind = GrantKind::kNone;
  std::string_view role;
  std::string_view target;
  word first = 0;
  word count = 0;
  std::string_view root = "";  // kFsSession: the client's root directory
  bool read_only = false;      // kFsSession: the client may not change anything
};

constexpr Grant irq(std::string_view role, word line) {
  return {GrantKind::kIrq, role, {}, line, 1};
}
constexpr Grant io_ports(std::string_view role, word base, word count) {
  return {GrantKind::kIoPorts, role, {}, base, count};
}
constexpr Grant mmio(std::string_view role, word paddr, word bytes) {
  return {GrantKind::kMmio, role, {}, paddr, bytes};
}
constexpr Grant memory(std::string_view role, word bytes) {
  return {GrantKind::kMemory, role, {}, 0, bytes};
}
constexpr Grant notify(std::string_view role, std::string_view server) {
  return {GrantKind::kNotify, role, server, 0, 0};
}
constexpr Grant shared(std::string_view role, std::string_view region, word vaddr) {
  return {GrantKind::kShared, role, region, vaddr, 0};
}

// The PCI server's grant: the host bridge of BootInfo::pci. One server holds it.
constexpr Grant pci_host(std::string_view role) {
  return {GrantKind::kPciHost, role, {}, 0, 0};
}
// A driver's PCI function, by identity (BAR addresses exist only at run time). The driver
// claims it from the PCI server, which gives it that function's BARs and nothing else.
constexpr Grant pci(std::string_view role, word vendor, word device) {
  return {GrantKind::kPci, role, {}, vendor, device};
}
// A message-signalled interrupt line (MSI-X): the root task picks the first free line whose
// IrqHandler answers msi_message().
constexpr Grant msi(std::string_view role) {
  return {GrantKind::kMsi, role, {}, 0, 0};
}

// What a file-system client may do (Genode's file-system session argument `writeable`).
enum class Access : std::uint8_t { kReadOnly, kReadWrite };
// A file-system client's session (Genode's file-system session `root` and `writeable`), on the
// server's side: the region it shares with its client, where the server maps it, the subtree the
// client sees as "/" (an absolute path: "/" or "/a/b"), and its access.
constexpr Grant fs_session(std::string_view role, std::string_view region, word vaddr,
                           std::string_view root, Access access) {
  return {GrantKind::kFsSession, role, region, vaddr, 0, root, access == Access::kReadOnly};
}

inline constexpr std::size_t kMaxGrants = 8;
inline constexpr std::size_t kMaxNameLength = 32;  // names::Name
inline constexpr word kPageSize = 4096;
// The largest shared region: a block session's data area of several MiB fits.
inline constexpr word kMaxRegionBytes = word{16} << 20;
// The longest root of a file-system session (the fs server's kMaxRootLength).
inline constexpr std::size_t kMaxFsRootLength = 256;

struct Server {
  std::string_view name;
  word priority = 0;
  bool root = false;  // runs in the root task (the supervisor): not started from an image
  std::array<Grant, kMaxGrants> grants{};

  constexpr std::size_t grant_count() const {
    std::size_t n = 0;
    while (n < kMaxGrants && grants[n].kind != GrantKind::kNone)
      ++n;
    return n;
  }
};

// Memory shared between servers: one frame of `bytes`, a power of two from a page to
// kMaxRegionBytes (a frame is a power-of-two block). A shared grant maps all of it.
struct Region {
  std::string_view name;
  word bytes = kPageSize;
  // A DMA frame (FrameAttributes::kDma): a driver holding a shared grant of it can ask its bus
  // address (the frame's capability is in the grant's slot), so a device reads and writes the
  // region in place (the block session between blk and its client).
  bool dma = false;
};

template <std::size_t N, std::size_t R>
struct System {
  std::array<Server, N> servers;
  std::array<Region, R> regions;

  static constexpr std::size_t kServers = N;
  static constexpr std::size_t kNotFound = ~std::size_t{0};

  constexpr std::size_t index_of(std::string_view name) const {
    for (std::size_t i = 0; i < N; ++i) {
      if (servers[i].name == name) return i;
    }
    return kNotFound;
  }
  constexpr std::size_t region_of(std::string_view name) const {
    for (std::size_t i = 0; i < R; ++i) {
      if (regions[i].name == name) return i;
    }
    return kNotFound;
  }
  constexpr std::size_t grant_of(std::size_t server, std::string_view role) const {
    for (std::size_t g = 0; g < servers[server].grant_count(); ++g) {
      if (servers[server].grants[g].role == role) return g;
    }
    return kNotFound;
  }
};

// --- checking -----------------------------------------------------------------------------
enum class Problem : std::uint8_t {
  kNone,
  kEmptyName,
  kNameTooLong,
  kDuplicateName,
  kNotOneRoot,
  kPriorityAboveRoot,
  kIrqOutOfRange,
  kIrqTwice,
  kIoPortsUnsupported,
  kMmioUnsupported,
  kMmioSize,
  kMmioOverlap,
  kUnknownServer,
  kUnknownRegion,
  kDuplicateRole,
  kUnalignedAddress,
  kRegionTooLarge,
  kEmptyMemory,
  kRegionSize,
  kRegionOverlap,
  kPciWithoutHost,
  kPciHostTwice,
  kPciIdentity,
  kPciTwice,
  kFsRootNotAbsolute,
  kFsRootTooLong,
  kFsRootInvalid,
  kFsClientNotOne,
  kFsClientTwice,
};

// Each problem's message, for the boot-time check and the tests. (The compile-time check
// repeats them in static_asserts, which need literals.)
constexpr std::string_view problem_text(Problem p) {
  switch (p) {
    case Problem::kNone:
      return "no problem";
    case Problem::kEmptyName:
      return "a server has no name";
    case Problem::kNameTooLong:
      return "a server name is longer than 32 characters";
    case Problem::kDuplicateName:
      return "two servers have the same name";
    case Problem::kNotOneRoot:
      return "exactly one server must run in the root task (the supervisor)";
    case Problem::kPriorityAboveRoot:
      return "a server's priority is not below the root task's (255)";
    case Problem::kIrqOutOfRange:
      return "an interrupt line this back-end does not have";
    case Problem::kIrqTwice:
      return "an interrupt line granted twice";
    case Problem::kIoPortsUnsupported:
      return "I/O ports granted, but this back-end has no I/O ports";
    case Problem::kMmioUnsupported:
      return "an MMIO region granted, but this back-end has no device memory";
    case Problem::kMmioSize:
      return "an MMIO grant whose size is not a power of two of at least a page, or whose "
             "address is not a multiple of its size";
    case Problem::kMmioOverlap:
      return "two MMIO grants overlap";
    case Problem::kUnknownServer:
      return "a notify grant names a server that is not in the description";
    case Problem::kUnknownRegion:
      return "a shared grant names a region that is not in the description";
    case Problem::kDuplicateRole:
      return "two grants of one server have the same role";
    case Problem::kUnalignedAddress:
      return "an address that is not page-aligned";
    case Problem::kRegionTooLarge:
      return "a shared region larger than 16 MiB";
    case Problem::kEmptyMemory:
      return "a memory grant of 0 bytes";
    case Problem::kRegionSize:
      return "a shared region whose size is not a power of two of at least a page";
    case Problem::kRegionOverlap:
      return "two shared grants of one server overlap";
    case Problem::kPciWithoutHost:
      return "a PCI function granted, but no server holds the PCI host bridge";
    case Problem::kPciHostTwice:
      return "the PCI host bridge granted twice";
    case Problem::kPciIdentity:
      return "a PCI identity whose vendor or device is not a 16-bit ID";
    case Problem::kPciTwice:
      return "one PCI identity granted twice";
    case Problem::kFsRootNotAbsolute:
      return "a file-system session's root is not an absolute path (it must start with '/')";
    case Problem::kFsRootTooLong:
      return "a file-system session's root is longer than 256 characters";
    case Problem::kFsRootInvalid:
      return "a file-system session's root has an empty, '.' or '..' component, a trailing '/', "
             "or a character a FAT name cannot hold";
    case Problem::kFsClientNotOne:
      return "a file-system session's region is not shared by exactly one other server (its "
             "client)";
    case Problem::kFsClientTwice:
      return "a file-system client given two sessions (one region twice, or two regions of one "
             "client)";
  }
  return "unknown problem";
}

struct Finding {
  Problem problem = Problem::kNone;
  std::size_t server = 0;
  std::size_t grant = 0;
  constexpr bool ok() const { return problem == Problem::kNone; }
};

// True if [a, a + a_bytes) and [b, b + b_bytes) meet (written so that no sum wraps).
constexpr bool overlap(word a, word a_bytes, word b, word b_bytes) {
  return a >= b ? a - b < b_bytes : b - a < a_bytes;
}

// How many grants of `kind` come before server `s`'s grant `g` (s = N: in the whole system).
template <std::size_t N, std::size_t R>
constexpr std::size_t count_kind(const System<N, R>& system, GrantKind kind, std::size_t s,
                                 std::size_t g) {
  std::size_t n = 0;
  for (std::size_t s2 = 0; s2 < N && s2 <= s; ++s2) {
    for (std::size_t g2 = 0; g2 < system.servers[s2].grant_count(); ++g2) {
      if ((s2 < s || g2 < g) && system.servers[s2].grants[g2].kind == kind) ++n;
    }
  }
  return n;
}

// True if `root` is "/" or "/name/name...": no empty, "." or ".." component, no trailing space
// or dot, and no character a FAT long name cannot hold (control characters, DEL, "*:<>?\| ; bytes
// beyond ASCII are refused too, to keep descriptions plain).
constexpr bool valid_fs_root(std::string_view root) {
  if (root == "/") return true;
  std::size_t start = 1;  // the first character of the current component
  for (std::size_t i = 1; i <= root.size(); ++i) {
    if (i == root.size() || root[i] == '/') {
      std::string_view name = root.substr(start, i - start);
      if (name.empty() || name == "." || name == ".." || name.back() == ' ' || name.back() == '.')
        return false;
      start = i + 1;
      continue;
    }
    auto c = static_cast<unsigned char>(root[i]);
    if (c < 0x20 || c >= 0x7f || std::string_view("\"*:<>?\\|").find(root[i]) != root.npos)
      return false;
  }
  return true;
}

// The client of server `s`'s file-system session on `region`: the one other server holding a
// shared grant of it. N if there is none, N + 1 if there are several.
template <std::size_t N, std::size_t R>
constexpr std::size_t fs_client_of(const System<N, R>& system, std::size_t s,
                                   std::string_view region) {
  std::size_t client = N;
  for (std::size_t s2 = 0; s2 < N; ++s2) {
    if (s2 == s) continue;
    for (std::size_t g2 = 0; g2 < system.servers[s2].grant_count(); ++g2) {
      const Grant& other = system.servers[s2].grants[g2];
      if (maps_region(other.kind) && other.target == region) {
        if (client != N && client != s2) return N + 1;
        client = s2;
      }
    }
  }
  return client;
}

// Server `s`'s grant `g`, a file-system session: its root, and its one client, who has no other
// session (of this server or another).
template <std::size_t N, std::size_t R>
constexpr Problem check_fs_session(const System<N, R>& system, std::size_t s, std::size_t g) {
  const Grant& grant = system.servers[s].grants[g];
  if (grant.root.empty() || grant.root[0] != '/') return Problem::kFsRootNotAbsolute;
  if (grant.root.size() > kMaxFsRootLength) return Problem::kFsRootTooLong;
  if (!valid_fs_root(grant.root)) return Problem::kFsRootInvalid;
  std::size_t client = fs_client_of(system, s, grant.target);
  if (client >= N) return Problem::kFsClientNotOne;
  for (std::size_t s2 = 0; s2 <= s; ++s2) {
    for (std::size_t g2 = 0; g2 < system.servers[s2].grant_count(); ++g2) {
      const Grant& other = system.servers[s2].grants[g2];
      if ((s2 < s || g2 < g) && other.kind == GrantKind::kFsSession &&
          (other.target == grant.target || fs_client_of(system, s2, other.target) == client))
        return Problem::kFsClientTwice;
    }
  }
  return Problem::kNone;
}

// The first problem of `system` on platform P (P::kHasIoPorts, kHasMmio, kIrqLines).
template <class P, std::size_t N, std::size_t R>
constexpr Finding check(const System<N, R>& system) {
  std::size_t roots = 0;
  for (std::size_t s = 0; s < N; ++s) {
    const Server& server = system.servers[s];
    if (server.name.empty()) return {Problem::kEmptyName, s, 0};
    if (server.name.size() > kMaxNameLength) return {Problem::kNameTooLong, s, 0};
    if (system.index_of(server.name) != s) return {Problem::kDuplicateName, s, 0};
    if (server.root) ++roots;
    if (!server.root && server.priority >= ukernel::kMaxPriority)
      return {Problem::kPriorityAboveRoot, s, 0};
    for (std::size_t g = 0; g < server.grant_count(); ++g) {
      const Grant& grant = server.grants[g];
      if (system.grant_of(s, grant.role) != g) return {Problem::kDuplicateRole, s, g};
      switch (grant.kind) {
        case GrantKind::kIrq:
          if (grant.first >= P::kIrqLines) return {Problem::kIrqOutOfRange, s, g};
          for (std::size_t s2 = 0; s2 <= s; ++s2) {
            for (std::size_t g2 = 0; g2 < system.servers[s2].grant_count(); ++g2) {
              const Grant& other = system.servers[s2].grants[g2];
              if ((s2 < s || g2 < g) && other.kind == GrantKind::kIrq && other.first == grant.first)
                return {Problem::kIrqTwice, s, g};
            }
          }
          break;
        case GrantKind::kIoPorts:
          if (!P::kHasIoPorts) return {Problem::kIoPortsUnsupported, s, g};
          break;
        case GrantKind::kMmio:
          if (!P::kHasMmio) return {Problem::kMmioUnsupported, s, g};
          // One device untyped of exactly the range: untyped blocks are powers of two, aligned
          // to their size.
          if (grant.count < kPageSize || (grant.count & (grant.count - 1)) != 0 ||
              grant.first % grant.count != 0)
            return {Problem::kMmioSize, s, g};
          // Device memory has one driver: two grants of a range would be two drivers of a device
          // (or one that holds it twice).
          for (std::size_t s2 = 0; s2 <= s; ++s2) {
            for (std::size_t g2 = 0; g2 < system.servers[s2].grant_count(); ++g2) {
              const Grant& other = system.servers[s2].grants[g2];
              if ((s2 < s || g2 < g) && other.kind == GrantKind::kMmio &&
                  overlap(grant.first, grant.count, other.first, other.count))
                return {Problem::kMmioOverlap, s, g};
            }
          }
          break;
        case GrantKind::kNotify:
          if (system.index_of(grant.target) == System<N, R>::kNotFound)
            return {Problem::kUnknownServer, s, g};
          break;
        case GrantKind::kShared:
        case GrantKind::kFsSession:
          if (system.region_of(grant.target) == System<N, R>::kNotFound)
            return {Problem::kUnknownRegion, s, g};
          if (grant.first % kPageSize != 0) return {Problem::kUnalignedAddress, s, g};
          for (std::size_t g2 = 0; g2 < g; ++g2) {
            const Grant& other = server.grants[g2];
            if (maps_region(other.kind) &&
                system.region_of(other.target) != System<N, R>::kNotFound &&
                overlap(grant.first, system.regions[system.region_of(grant.target)].bytes,
                        other.first, system.regions[system.region_of(other.target)].bytes))
              return {Problem::kRegionOverlap, s, g};
          }
          if (grant.kind == GrantKind::kFsSession) {
            if (Problem p = check_fs_session(system, s, g); p != Problem::kNone) return {p, s, g};
          }
          break;
        case GrantKind::kMemory:
          if (grant.count == 0) return {Problem::kEmptyMemory, s, g};
          break;
        case GrantKind::kPciHost:
          if (count_kind(system, GrantKind::kPciHost, s, g) != 0)
            return {Problem::kPciHostTwice, s, g};
          break;
        case GrantKind::kPci:
          if (count_kind(system, GrantKind::kPciHost, N, 0) == 0)
            return {Problem::kPciWithoutHost, s, g};
          if (grant.first == 0 || grant.first >= 0xffff || grant.count > 0xffff)
            return {Problem::kPciIdentity, s, g};
          for (std::size_t s2 = 0; s2 <= s; ++s2) {
            for (std::size_t g2 = 0; g2 < system.servers[s2].grant_count(); ++g2) {
              const Grant& other = system.servers[s2].grants[g2];
              if ((s2 < s || g2 < g) && other.kind == GrantKind::kPci &&
                  other.first == grant.first && other.count == grant.count)
                return {Problem::kPciTwice, s, g};
            }
          }
          break;
        case GrantKind::kMsi:
          break;
        case GrantKind::kNone:
          break;
      }
    }
  }
  for (std::size_t r = 0; r < R; ++r) {
    word bytes = system.regions[r].bytes;
    if (bytes > kMaxRegionBytes) return {Problem::kRegionTooLarge, N, r};
    if (bytes < kPageSize || (bytes & (bytes - 1)) != 0) return {Problem::kRegionSize, N, r};
  }
  if (roots != 1) return {Problem::kNotOneRoot, 0, 0};
  return {};
}

// --- the compile-time report --------------------------------------------------------------
// A string usable as a template argument, so that a failed check names its entry in the
// compiler's "required from here" line.
struct Text {
  char text[kMaxNameLength + 1] = {};
  constexpr Text(std::string_view s) {  // NOLINT: implicit, for template arguments
    for (std::size_t i = 0; i < s.size() && i < kMaxNameLength; ++i)
      text[i] = s[i];
  }
};

template <Problem P, Text Server, Text Grant>
constexpr bool report() {
  static_assert(P != Problem::kEmptyName, "system description: a server has no name");
  static_assert(P != Problem::kNameTooLong,
                "system description: a server name is longer than 32 characters");
  static_assert(P != Problem::kDuplicateName, "system description: two servers have the same name");
  static_assert(P != Problem::kNotOneRoot,
                "system description: exactly one server must run in the root task");
  static_assert(P != Problem::kPriorityAboveRoot,
                "system description: a server's priority is not below the root task's (255)");
  static_assert(P != Problem::kIrqOutOfRange,
                "system description: an interrupt line this back-end does not have");
  static_assert(P != Problem::kIrqTwice, "system description: an interrupt line granted twice");
  static_assert(P != Problem::kIoPortsUnsupported,
                "system description: I/O ports granted, but this back-end has no I/O ports");
  static_assert(P != Problem::kMmioUnsupported,
                "system description: MMIO granted, but this back-end has no device memory");
  static_assert(P != Problem::kMmioSize,
                "system description: an MMIO grant whose size is not a power of two of at least "
                "a page, or whose address is not a multiple of its size");
  static_assert(P != Problem::kMmioOverlap, "system description: two MMIO grants overlap");
  static_assert(P != Problem::kUnknownServer,
                "system description: a notify grant names a server that does not exist");
  static_assert(P != Problem::kUnknownRegion,
                "system description: a shared grant names a region that does not exist");
  static_assert(P != Problem::kDuplicateRole,
                "system description: two grants of one server have the same role");
  static_assert(P != Problem::kUnalignedAddress,
                "system description: an address that is not page-aligned");
  static_assert(P != Problem::kRegionTooLarge,
                "system description: a shared region larger than 16 MiB");
  static_assert(P != Problem::kRegionSize,
                "system description: a shared region whose size is not a power of two of at "
                "least a page");
  static_assert(P != Problem::kRegionOverlap,
                "system description: two shared grants of one server overlap");
  static_assert(P != Problem::kEmptyMemory, "system description: a memory grant of 0 bytes");
  static_assert(P != Problem::kPciWithoutHost,
                "system description: a PCI function granted, but no server holds the PCI host "
                "bridge (pci_host)");
  static_assert(P != Problem::kPciHostTwice,
                "system description: the PCI host bridge granted twice");
  static_assert(P != Problem::kPciIdentity,
                "system description: a PCI identity whose vendor or device is not a 16-bit ID");
  static_assert(P != Problem::kPciTwice, "system description: one PCI identity granted twice");
  static_assert(P != Problem::kFsRootNotAbsolute,
                "system description: a file-system session's root is not an absolute path");
  static_assert(P != Problem::kFsRootTooLong,
                "system description: a file-system session's root is longer than 256 characters");
  static_assert(P != Problem::kFsRootInvalid,
                "system description: a file-system session's root has an empty, '.' or '..' "
                "component, a trailing '/', or a character a FAT name cannot hold");
  static_assert(P != Problem::kFsClientNotOne,
                "system description: a file-system session's region is not shared by exactly one "
                "other server (its client)");
  static_assert(P != Problem::kFsClientTwice,
                "system description: a file-system client given two sessions");
  return P == Problem::kNone;
}

template <class P, const auto& S>
constexpr std::string_view finding_server() {
  constexpr Finding f = check<P>(S);
  if constexpr (f.server < S.servers.size()) {
    return S.servers[f.server].name;
  } else {
    return "(a region)";
  }
}

template <class P, const auto& S>
constexpr std::string_view finding_grant() {
  constexpr Finding f = check<P>(S);
  if constexpr (f.server < S.servers.size()) {
    return S.servers[f.server].grants[f.grant].role;
  } else {
    return S.regions[f.grant].name;
  }
}

// True, or a compile error naming the problem, the server and the grant.
template <class P, const auto& S>
inline constexpr bool verified =
    report<check<P>(S).problem, Text(finding_server<P, S>()), Text(finding_grant<P, S>())>();

}  // namespace sysdesc
