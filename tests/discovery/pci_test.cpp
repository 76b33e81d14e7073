// ukernel/pci.hpp against a fake config space that behaves like hardware: BARs keep only the
// bits their size allows, the capability list is what the test puts there. The layout is QEMU's
// q35/virt with a virtio-blk-pci (modern) on device 2, plus a multi-function device and a bridge.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <tuple>

#include "ukernel/pci.hpp"

namespace pci = ukernel::pci;
using pci::Error;
using ukernel::word;

namespace {

struct FakeFunction {
  std::uint32_t space[1024] = {};  // 4 KiB of config space, in dwords
  word bar_size[6] = {};           // 0: unimplemented; for 64-bit, in the low slot
  bool bar_64[6] = {};
};

struct FakeConfig {
  std::map<std::tuple<int, int, int>, FakeFunction> functions;
  int writes = 0;

  FakeFunction* find(pci::Address a) {
    auto it = functions.find({a.bus, a.device, a.function});
    return it == functions.end() ? nullptr : &it->second;
  }
  std::uint32_t read32(pci::Address a, std::uint16_t offset) {
    REQUIRE(offset % 4 == 0);
    REQUIRE(offset < 4096);
    FakeFunction* f = find(a);
    return f == nullptr ? 0xffffffff : f->space[offset / 4];
  }
  void write32(pci::Address a, std::uint16_t offset, std::uint32_t value) {
    REQUIRE(offset % 4 == 0);
    FakeFunction* f = find(a);
    REQUIRE(f != nullptr);
    ++writes;
    unsigned slot = (offset - 0x10u) / 4;
    if (offset >= 0x10 && offset < 0x28) {
      // A BAR: the size's low bits read as 0, the type bits are read-only.
      std::uint32_t flags = f->space[offset / 4] & (f->space[offset / 4] & 1 ? 3 : 0xf);
      if (slot > 0 && f->bar_64[slot - 1]) {  // the high half of a 64-bit BAR
        word mask = ~(f->bar_size[slot - 1] - 1);
        f->space[offset / 4] = value & static_cast<std::uint32_t>(mask >> 32);
        return;
      }
      if (f->bar_size[slot] == 0) return;
      word mask = ~(f->bar_size[slot] - 1);
      f->space[offset / 4] = (value & static_cast<std::uint32_t>(mask) & ~0xfu) | flags;
      return;
    }
    if (offset == 0x04) {
      f->space[1] = (f->space[1] & 0xffff0000) | (value & 0xffff);
      return;
    }
    f->space[offset / 4] = value;
  }

  FakeFunction& add(int bus, int device, int function, std::uint16_t vendor, std::uint16_t id,
                    std::uint32_t class_word, std::uint8_t header = 0) {
    FakeFunction& f = functions[{bus, device, function}];
    f.space[0] = std::uint32_t{id} << 16 | vendor;
    f.space[2] = class_word;
    f.space[3] = std::uint32_t{header} << 16;
    return f;
  }
  static void memory_bar(FakeFunction& f, unsigned slot, word size, bool is_64, bool prefetch) {
    f.bar_size[slot] = size;
    f.bar_64[slot] = is_64;
    f.space[4 + slot] = (is_64 ? 4u : 0u) | (prefetch ? 8u : 0u);
  }
  // A capability at `at` with id and the next pointer.
  static void capability(FakeFunction& f, std::uint8_t at, std::uint8_t id, std::uint8_t next,
                         std::uint32_t high = 0) {
    f.space[1] |= pci::config::kStatusCapabilities;
    if (f.space[0x34 / 4] == 0) f.space[0x34 / 4] = at;
    f.space[at / 4] = high << 16 | std::uint32_t{next} << 8 | id;
  }
};

// virtio-blk-pci, disable-legacy=on: BAR 1 (4 KiB, MSI-X table at 0, PBA at 0x800), BAR 4
// (16 KiB, 64-bit prefetchable, the virtio structures); MSI-X with 2 vectors.
FakeFunction& add_virtio_blk(FakeConfig& c, int device) {
  FakeFunction& f = c.add(0, device, 0, 0x1af4, 0x1042, 0x01000001);
  FakeConfig::memory_bar(f, 1, 0x1000, false, false);
  FakeConfig::memory_bar(f, 4, 0x4000, true, true);
  FakeConfig::capability(f, 0x98, pci::config::kCapabilityMsix, 0x84, 1);  // 2 entries
  f.space[0x9c / 4] = 1;                                                   // table: BAR 1, offset 0
  f.space[0xa0 / 4] = 0x800 | 1;                // PBA: BAR 1, offset 0x800
  FakeConfig::capability(f, 0x84, 0x09, 0x00);  // a vendor capability ends the list
  return f;
}

FakeConfig q35_like() {
  FakeConfig c;
  c.add(0, 0, 0, 0x8086, 0x29c0, 0x06000002);  // host bridge
  add_virtio_blk(c, 2);
  FakeFunction& multi = c.add(0, 31, 0, 0x8086, 0x2918, 0x06010002, 0x80);
  (void)multi;
  c.add(0, 31, 3, 0x8086, 0x2930, 0x0c050002);  // function 3 of the multi-function device
  return c;
}

}  // namespace

TEST_CASE("pci: enumeration finds functions, identity, class, BARs and MSI-X") {
  FakeConfig c = q35_like();
  pci::Functions found;
  REQUIRE(pci::enumerate(c, 0, 255, found) == Error::kOk);
  REQUIRE(found.count == 4);
  const pci::Function& blk = found.items[1];
  CHECK(blk.address.device == 2);
  CHECK(blk.vendor == 0x1af4);
  CHECK(blk.device == 0x1042);
  CHECK(blk.class_code == 1);
  CHECK(blk.bars[0].kind == pci::Bar::Kind::kNone);
  CHECK(blk.bars[1].kind == pci::Bar::Kind::kMemory32);
  CHECK(blk.bars[1].size == 0x1000);
  CHECK(blk.bars[4].kind == pci::Bar::Kind::kMemory64);
  CHECK(blk.bars[4].prefetchable);
  CHECK(blk.bars[4].size == 0x4000);
  CHECK(blk.bars[5].kind == pci::Bar::Kind::kNone);  // BAR 4's high half
  CHECK(blk.msix.capability == 0x98);
  CHECK(blk.msix.table_size == 2);
  CHECK(blk.msix.table_bar == 1);
  CHECK(blk.msix.pba_offset == 0x800);
  CHECK(found.items[3].address.device == 31);
  CHECK(found.items[3].address.function == 3);
  CHECK(found.items[3].class_code == 0x0c);
  // Sizing restored every BAR and the command register.
  CHECK(c.find({0, 2, 0})->space[4 + 1] == 0);
  CHECK(c.find({0, 2, 0})->space[1] == pci::config::kStatusCapabilities);
}

TEST_CASE("pci: a numbered bridge's secondary bus is walked once, a loop is not followed") {
  FakeConfig c = q35_like();
  FakeFunction& bridge = c.add(0, 28, 0, 0x1b36, 0x000c, 0x06040000, 1);
  bridge.space[0x18 / 4] = 0x00010100;  // primary 0, secondary 1, subordinate 1
  FakeFunction& behind = c.add(1, 0, 0, 0x1af4, 0x1041, 0x02000001, 1);  // a bridge back to 1
  behind.space[0x18 / 4] = 0x00010101;
  pci::Functions found;
  REQUIRE(pci::enumerate(c, 0, 255, found) == Error::kOk);
  CHECK(found.count == 6);
  CHECK(found.items[2].is_bridge);  // depth first: the bus behind it comes next
  CHECK(found.items[3].address.bus == 1);
  CHECK(found.items[4].address.device == 31);
  pci::Functions narrow;  // bus 1 outside the allowed range: not walked
  REQUIRE(pci::enumerate(c, 0, 0, narrow) == Error::kOk);
  CHECK(narrow.count == 5);
}

TEST_CASE("pci: BARs assigned from the windows, decoding and bus mastering, and off again") {
  FakeConfig c = q35_like();
  pci::Functions found;
  REQUIRE(pci::enumerate(c, 0, 255, found) == Error::kOk);
  pci::Function blk = found.items[1];
  // AArch64 virt's windows: MEM32 at 0x10000000, MEM64 at 0x8000000000 (PCI = CPU address).
  pci::Windows windows{{0x10000000, 0x10000000, 0x2eff0000, 0, false},
                       {0x8000000000, 0x8000000000, 0x8000000000, 0, true}};
  REQUIRE(pci::assign_bars(c, blk, windows) == Error::kOk);
  CHECK(blk.bars[1].address == 0x10000000);
  CHECK(blk.bars[4].address == 0x8000000000);
  FakeFunction& f = *c.find({0, 2, 0});
  CHECK(f.space[4 + 1] == 0x10000000);
  CHECK(f.space[4 + 4] == (0x0 | 0xc));  // low half with the 64-bit prefetchable flags
  CHECK(f.space[4 + 5] == 0x80);
  CHECK(windows.memory32.used == 0x1000);
  pci::Function second = found.items[1];  // a second function's BARs go after the first's
  REQUIRE(pci::assign_bars(c, second, windows) == Error::kOk);
  CHECK(second.bars[1].address == 0x10001000);
  CHECK(second.bars[4].address == 0x8000004000);

  pci::enable(c, blk.address);
  CHECK((f.space[1] & 0xffff) == (pci::config::kCommandMemory | pci::config::kCommandBusMaster));
  CHECK((f.space[1] & pci::config::kStatusCapabilities) != 0);  // status untouched
  pci::stop_bus_master(c, blk.address);
  CHECK((f.space[1] & 0xffff) == pci::config::kCommandMemory);

  pci::Windows tiny{{0x10000000, 0x10000000, 0x800, 0, false}, {}};
  int writes = c.writes;
  pci::Function third = found.items[1];
  CHECK(pci::assign_bars(c, third, tiny) == Error::kNoWindow);
  CHECK(c.writes == writes);  // nothing written
  CHECK(tiny.memory32.used == 0);
}

TEST_CASE("pci: MSI-X entries are programmed masked, then unmasked; bad indexes refused") {
  FakeConfig c = q35_like();
  pci::Functions found;
  REQUIRE(pci::enumerate(c, 0, 255, found) == Error::kOk);
  const pci::Function& blk = found.items[1];
  struct Table {
    std::uint32_t dwords[64] = {};
    void write32(word offset, std::uint32_t value) {
      REQUIRE(offset / 4 < 64);
      dwords[offset / 4] = value;
    }
  } table;
  REQUIRE(pci::program_msix(table, blk, 1, 0xfee00000, 0x31) == Error::kOk);
  CHECK(table.dwords[4] == 0xfee00000);
  CHECK(table.dwords[5] == 0);
  CHECK(table.dwords[6] == 0x31);
  CHECK(table.dwords[7] == 0);  // unmasked
  CHECK(pci::program_msix(table, blk, 2, 0xfee00000, 0x32) == Error::kBadIndex);
  CHECK(pci::program_msix(table, found.items[0], 0, 0xfee00000, 0x32) == Error::kNoMsix);
  REQUIRE(pci::enable_msix(c, blk) == Error::kOk);
  CHECK((c.find({0, 2, 0})->space[0x98 / 4] >> 31) == 1);
}

TEST_CASE(
    "pci: untrusted config space: bad BARs, looping or low capability pointers, MSI-X "
    "outside its BAR") {
  pci::Functions found;
  found.count = 99;  // untouched on failure
  {
    FakeConfig c = q35_like();
    FakeConfig::capability(*c.find({0, 2, 0}), 0x84, 0x09, 0x98);  // 0x98 -> 0x84 -> 0x98
    CHECK(pci::enumerate(c, 0, 255, found) == Error::kBadCapability);
  }
  {
    FakeConfig c = q35_like();
    c.find({0, 2, 0})->space[0x84 / 4] = 0x1009;  // next pointer 0x10: inside the header
    CHECK(pci::enumerate(c, 0, 255, found) == Error::kBadCapability);
  }
  {
    FakeConfig c = q35_like();
    c.find({0, 2, 0})->bar_size[1] = 0x1800;  // not a power of two
    CHECK(pci::enumerate(c, 0, 255, found) == Error::kBadBar);
  }
  {
    FakeConfig c = q35_like();
    FakeConfig::memory_bar(*c.find({0, 0, 0}), 5, 0x1000, true, false);  // 64-bit in slot 5
    CHECK(pci::enumerate(c, 0, 255, found) == Error::kBadBar);
  }
  {
    FakeConfig c = q35_like();
    c.find({0, 2, 0})->space[0x9c / 4] = 0xf00 | 1;  // 2 entries at 0xf00 of a 4 KiB BAR: fits
    REQUIRE(pci::enumerate(c, 0, 255, found) == Error::kOk);
    c.find({0, 2, 0})->space[0x9c / 4] = 0xff8 | 1;  // runs past the BAR
    CHECK(pci::enumerate(c, 0, 255, found) == Error::kBadMsix);
    c.find({0, 2, 0})->space[0x9c / 4] = 0 | 3;  // BAR 3 is not implemented
    CHECK(pci::enumerate(c, 0, 255, found) == Error::kBadMsix);
    found.count = 99;
  }
  {
    FakeConfig c;
    for (int d = 0; d < 32; ++d)
      for (int fn = 0; fn < 2; ++fn)
        c.add(0, d, fn, 0x1234, 0x5678, 0, 0x80);
    CHECK(pci::enumerate(c, 0, 255, found) == Error::kTooManyFunctions);
  }
  CHECK(found.count == 99);
}
