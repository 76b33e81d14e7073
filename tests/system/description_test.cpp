// The system description's checks: the real description passes on its back-end, and every
// kind of mistake is found, with its message, naming the entry (Microkit-style: each bad
// input paired with its error).
#include <array>
#include <catch2/catch.hpp>

#include "system.hpp"

using namespace sysdesc;

namespace {

struct Bare {  // an x86-like platform: I/O ports and MMIO
  static constexpr bool kHasIoPorts = true;
  static constexpr bool kHasMmio = true;
  static constexpr unsigned kIrqLines = 24;
};
struct NoDeviceMemory {  // a platform whose devices are all behind I/O ports
  static constexpr bool kHasIoPorts = true;
  static constexpr bool kHasMmio = false;
  static constexpr unsigned kIrqLines = 24;
};
using Hosted = system_example::Platform;

constexpr Server kRoot{.name = "supervisor", .priority = 255, .root = true};

template <class P>
constexpr Finding check_one(Server server) {
  return check<P>(System<2, 1>{.servers = {{kRoot, server}}, .regions = {{{.name = "ring"}}}});
}

static_assert(check<Hosted>(system_example::kSystem).ok());
static_assert(
    check_one<Bare>({.name = "uart", .priority = 9, .grants = {io_ports("io", 1, 8)}}).ok());
static_assert(check_one<Hosted>({.name = "uart", .priority = 9, .grants = {io_ports("io", 1, 8)}})
                  .problem == Problem::kIoPortsUnsupported);

// MMIO grants: one device untyped each, so a power of two aligned to its size; one driver per
// range, so no two grants overlap, within a server or across servers.
static_assert(check_one<Hosted>({.name = "uart",
                                 .priority = 9,
                                 .grants = {mmio("regs", 0xc0000000, 4096),
                                            mmio("window", 0xc1000000, 1 << 20)}})
                  .ok());
constexpr Finding check_two_drivers(word second_address, word second_bytes) {
  return check<Bare>(System<3, 0>{
      .servers = {{kRoot,
                   {.name = "a", .priority = 9, .grants = {mmio("regs", 0xc0010000, 0x10000)}},
                   {.name = "b",
                    .priority = 9,
                    .grants = {irq("irq", 3), mmio("regs", second_address, second_bytes)}}}},
      .regions = {}});
}
static_assert(check_two_drivers(0xc0020000, 0x10000).ok());
static_assert(check_two_drivers(0xc0000000, 0x10000).ok());
static_assert(check_two_drivers(0xc0018000, 0x1000).problem == Problem::kMmioOverlap);
static_assert(check_two_drivers(0xc0000000, 0x20000).problem == Problem::kMmioOverlap);
static_assert(check_two_drivers(0xc0000000, 0x20000).server == 2);
static_assert(check_two_drivers(0xc0000000, 0x20000).grant == 1);

// A server with two shared grants, and regions of the given sizes.
constexpr Finding check_regions(word first_bytes, word second_bytes, word second_address) {
  Server server{
      .name = "disk",
      .priority = 9,
      .grants = {shared("a", "first", 0x20000000), shared("b", "second", second_address)}};
  return check<Bare>(System<2, 2>{.servers = {{kRoot, server}},
                                  .regions = {{{.name = "first", .bytes = first_bytes},
                                               {.name = "second", .bytes = second_bytes}}}});
}

// Regions larger than a page (a block session's data area): a power of two up to 16 MiB.
static_assert(check_regions(1 << 20, 4096, 0x20100000).ok());
static_assert(check_regions(16 << 20, 16 << 20, 0x21000000).ok());

// A file-system server (entry 1) with the given sessions, and clients (entries 2 and 3) sharing
// the regions they name.
constexpr Finding check_fs(std::array<Grant, kMaxGrants> fs_grants,
                           std::array<Grant, kMaxGrants> first_client,
                           std::array<Grant, kMaxGrants> second_client = {}) {
  return check<Bare>(
      System<4, 3>{.servers = {{kRoot,
                                {.name = "fs", .priority = 9, .grants = fs_grants},
                                {.name = "shell", .priority = 5, .grants = first_client},
                                {.name = "editor", .priority = 5, .grants = second_client}}},
                   .regions = {{{.name = "shell-fs", .bytes = 1 << 20},
                                {.name = "editor-fs", .bytes = 1 << 20},
                                {.name = "spare", .bytes = 4096}}}});
}
constexpr Grant session(std::string_view region, std::string_view root,
                        Access access = Access::kReadWrite, word vaddr = 0x30000000) {
  return fs_session("client", region, vaddr, root, access);
}
constexpr std::array<Grant, kMaxGrants> kShellClient{shared("fs", "shell-fs", 0x30000000)};
constexpr std::array<char, 258> kLongRoot = [] {
  std::array<char, 258> text{};
  text[0] = '/';
  for (std::size_t i = 1; i < text.size(); ++i)
    text[i] = 'a';
  return text;
}();

static_assert(check_fs({session("shell-fs", "/")}, kShellClient).ok());
static_assert(check_fs({session("shell-fs", "/home/user docs/My Files", Access::kReadOnly)},
                       kShellClient)
                  .ok());
// Two clients, each with its own session.
static_assert(check_fs({session("shell-fs", "/"),
                        fs_session("editor", "editor-fs", 0x31000000, "/docs", Access::kReadOnly)},
                       kShellClient, {shared("fs", "editor-fs", 0x30000000)})
                  .ok());
static_assert(valid_fs_root("/"));
static_assert(valid_fs_root("/a/b c/D.TXT"));
static_assert(!valid_fs_root("/a/"));
static_assert(fs_client_of(system_example::kSystem, system_example::kFsIndex, "shell-fs") ==
              system_example::kShellIndex);

struct Case {
  const char* what;
  Finding finding;
  Problem problem;
  std::size_t grant;
};

}  // namespace

TEST_CASE("every mistake in a description is found and named") {
  const Case cases[] = {
      {"no name", check_one<Bare>({.name = "", .priority = 1}), Problem::kEmptyName, 0},
      {"long name",
       check_one<Bare>({.name = "a-name-that-is-longer-than-thirty-two", .priority = 1}),
       Problem::kNameTooLong, 0},
      {"duplicate name", check_one<Bare>({.name = "supervisor", .priority = 1}),
       Problem::kDuplicateName, 0},
      {"priority", check_one<Bare>({.name = "s", .priority = 255}), Problem::kPriorityAboveRoot, 0},
      {"irq range", check_one<Bare>({.name = "s", .priority = 1, .grants = {irq("i", 24)}}),
       Problem::kIrqOutOfRange, 0},
      {"irq twice",
       check_one<Bare>({.name = "s", .priority = 1, .grants = {irq("a", 3), irq("b", 3)}}),
       Problem::kIrqTwice, 1},
      {"io ports on hosted",
       check_one<Hosted>({.name = "s", .priority = 1, .grants = {io_ports("io", 0x3f8, 8)}}),
       Problem::kIoPortsUnsupported, 0},
      {"mmio without device memory",
       check_one<NoDeviceMemory>(
           {.name = "s", .priority = 1, .grants = {mmio("m", 0xfee00000, 4096)}}),
       Problem::kMmioUnsupported, 0},
      {"mmio below a page",
       check_one<Bare>({.name = "s", .priority = 1, .grants = {mmio("m", 0xfee00000, 2048)}}),
       Problem::kMmioSize, 0},
      {"mmio not a power of two",
       check_one<Bare>({.name = "s", .priority = 1, .grants = {mmio("m", 0xfee00000, 3 * 4096)}}),
       Problem::kMmioSize, 0},
      {"mmio not aligned to its size",
       check_one<Bare>({.name = "s", .priority = 1, .grants = {mmio("m", 0xfee01000, 0x2000)}}),
       Problem::kMmioSize, 0},
      {"mmio unaligned",
       check_one<Bare>({.name = "s", .priority = 1, .grants = {mmio("m", 0xfee00010, 4096)}}),
       Problem::kMmioSize, 0},
      {"mmio twice in one server",
       check_one<Bare>({.name = "s",
                        .priority = 1,
                        .grants = {mmio("a", 0xfee00000, 0x2000), mmio("b", 0xfee01000, 4096)}}),
       Problem::kMmioOverlap, 1},
      {"unknown server",
       check_one<Bare>({.name = "s", .priority = 1, .grants = {notify("n", "nobody")}}),
       Problem::kUnknownServer, 0},
      {"unknown region",
       check_one<Bare>({.name = "s", .priority = 1, .grants = {shared("r", "nowhere", 0)}}),
       Problem::kUnknownRegion, 0},
      {"duplicate role",
       check_one<Bare>({.name = "s", .priority = 1, .grants = {irq("a", 1), irq("a", 2)}}),
       Problem::kDuplicateRole, 1},
      {"unaligned",
       check_one<Bare>({.name = "s", .priority = 1, .grants = {shared("r", "ring", 0x1234)}}),
       Problem::kUnalignedAddress, 0},
      {"empty memory", check_one<Bare>({.name = "s", .priority = 1, .grants = {memory("heap", 0)}}),
       Problem::kEmptyMemory, 0},
  };
  for (const Case& c : cases) {
    INFO(c.what << ": " << problem_text(c.finding.problem));
    CHECK(c.finding.problem == c.problem);
    CHECK(c.finding.server == 1);
    CHECK(c.finding.grant == c.grant);
    CHECK(problem_text(c.problem) != problem_text(Problem::kNone));
  }
  const Case regions[] = {
      {"region too large", check_regions(32 << 20, 4096, 0x30000000), Problem::kRegionTooLarge, 0},
      {"region not a power of two", check_regions(4096, 3 * 4096, 0x30000000), Problem::kRegionSize,
       1},
      {"region below a page", check_regions(2048, 4096, 0x30000000), Problem::kRegionSize, 0},
      {"empty region", check_regions(0, 4096, 0x30000000), Problem::kRegionSize, 0},
      {"overlapping grants", check_regions(1 << 20, 4096, 0x200ff000), Problem::kRegionOverlap, 1},
      {"overlap below", check_regions(1 << 20, 1 << 20, 0x1ff80000), Problem::kRegionOverlap, 1},
      {"address that wraps", check_regions(4096, 1 << 20, ~word{0} - 4095), Problem::kNone, 0},
  };
  for (const Case& c : regions) {
    INFO(c.what << ": " << problem_text(c.finding.problem));
    CHECK(c.finding.problem == c.problem);
    if (c.problem == Problem::kRegionOverlap) {
      CHECK(c.finding.server == 1);  // the server, and its second grant
    } else if (c.problem != Problem::kNone) {
      CHECK(c.finding.server == 2);  // a region: its index
    }
    CHECK(c.finding.grant == c.grant);
  }
  // PCI: a function needs a PCI server holding the host bridge; one host bridge; one driver
  // per identity; identities are 16-bit IDs.
  constexpr Server kPciServer{.name = "pci", .priority = 9, .grants = {pci_host("host")}};
  auto with_pci = [&](Server driver, Server other) {
    return check<Bare>(System<4, 1>{.servers = {{kRoot, driver, kPciServer, other}},
                                    .regions = {{{.name = "ring"}}}});
  };
  Server blk{.name = "blk", .priority = 5, .grants = {pci("disk", 0x1af4, 0x1042), msi("irq")}};
  Server net{.name = "net", .priority = 5, .grants = {pci("nic", 0x1af4, 0x1041)}};
  CHECK(with_pci(blk, net).ok());
  const Case pci_cases[] = {
      {"pci without a host bridge",
       check_one<Bare>({.name = "s", .priority = 1, .grants = {pci("disk", 0x1af4, 0x1042)}}),
       Problem::kPciWithoutHost, 0},
      {"identity not 16-bit",
       check_one<Bare>(
           {.name = "s", .priority = 1, .grants = {pci_host("h"), pci("disk", 0x11af4, 0x1042)}}),
       Problem::kPciIdentity, 1},
      {"host bridge twice",
       check_one<Bare>({.name = "s", .priority = 1, .grants = {pci_host("a"), pci_host("b")}}),
       Problem::kPciHostTwice, 1},
      {"identity twice",
       with_pci(blk, {.name = "blk2", .priority = 5, .grants = {pci("d", 0x1af4, 0x1042)}}),
       Problem::kPciTwice, 0},
  };
  for (const Case& c : pci_cases) {
    INFO(c.what << ": " << problem_text(c.finding.problem));
    CHECK(c.finding.problem == c.problem);
    CHECK(c.finding.grant == c.grant);
    CHECK(problem_text(c.problem) != problem_text(Problem::kNone));
  }
  CHECK(pci_cases[3].finding.server == 3);  // the second claimant is named
  // File-system sessions: the region, the root (Genode's `root`), one client per session.
  const Case fs_cases[] = {
      {"session of an unknown region", check_fs({session("nowhere", "/")}, kShellClient),
       Problem::kUnknownRegion, 0},
      {"session at an unaligned address",
       check_fs({session("shell-fs", "/", Access::kReadWrite, 0x30000010)}, kShellClient),
       Problem::kUnalignedAddress, 0},
      {"session overlapping the disk",
       check_fs({shared("disk", "spare", 0x30000000), session("shell-fs", "/")}, kShellClient),
       Problem::kRegionOverlap, 1},
      {"empty root", check_fs({session("shell-fs", "")}, kShellClient), Problem::kFsRootNotAbsolute,
       0},
      {"relative root", check_fs({session("shell-fs", "docs")}, kShellClient),
       Problem::kFsRootNotAbsolute, 0},
      {"root too long",
       check_fs({session("shell-fs", std::string_view(kLongRoot.data(), 257))}, kShellClient),
       Problem::kFsRootTooLong, 0},
      {"root with an empty component", check_fs({session("shell-fs", "/a//b")}, kShellClient),
       Problem::kFsRootInvalid, 0},
      {"root with a trailing slash", check_fs({session("shell-fs", "/a/")}, kShellClient),
       Problem::kFsRootInvalid, 0},
      {"root with ..", check_fs({session("shell-fs", "/a/../b")}, kShellClient),
       Problem::kFsRootInvalid, 0},
      {"root with .", check_fs({session("shell-fs", "/.")}, kShellClient), Problem::kFsRootInvalid,
       0},
      {"root with a colon", check_fs({session("shell-fs", "/a:b")}, kShellClient),
       Problem::kFsRootInvalid, 0},
      {"root with a control character", check_fs({session("shell-fs", "/a\tb")}, kShellClient),
       Problem::kFsRootInvalid, 0},
      {"root with a trailing dot", check_fs({session("shell-fs", "/name.")}, kShellClient),
       Problem::kFsRootInvalid, 0},
      {"session nobody else shares", check_fs({session("shell-fs", "/")}, {}),
       Problem::kFsClientNotOne, 0},
      {"session two others share",
       check_fs({session("shell-fs", "/")}, kShellClient, {shared("fs", "shell-fs", 0x30000000)}),
       Problem::kFsClientNotOne, 0},
      {"one region twice",
       check_fs({session("shell-fs", "/"),
                 fs_session("again", "shell-fs", 0x31000000, "/", Access::kReadOnly)},
                kShellClient),
       Problem::kFsClientTwice, 1},
      {"two sessions of one client",
       check_fs({session("shell-fs", "/"),
                 fs_session("again", "editor-fs", 0x31000000, "/", Access::kReadOnly)},
                {shared("fs", "shell-fs", 0x30000000), shared("more", "editor-fs", 0x31000000)}),
       Problem::kFsClientTwice, 1},
  };
  for (const Case& c : fs_cases) {
    INFO(c.what << ": " << problem_text(c.finding.problem));
    CHECK(c.finding.problem == c.problem);
    CHECK(c.finding.server == 1);  // the fs server, and its grant
    CHECK(c.finding.grant == c.grant);
    CHECK(problem_text(c.problem) != problem_text(Problem::kNone));
  }
  System<1, 0> rootless{.servers = {{{.name = "s", .priority = 1}}}, .regions = {}};
  CHECK(check<Bare>(rootless).problem == Problem::kNotOneRoot);
}
