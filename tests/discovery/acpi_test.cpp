// ukernel/acpi.hpp on tables the test builds the way q35's firmware lays them out (RSDP v2 in the
// BIOS area, XSDT, MADT with local APICs, an I/O APIC and overrides, MCFG, HPET), then damaged
// one way at a time: each gives its Error, and no damage reads outside the fake memory (ASan).
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "ukernel/acpi.hpp"

namespace acpi = ukernel::acpi;
using acpi::Error;
using ukernel::word;

namespace {

// Physical memory [0, 2 MiB): reads outside it fail, as unmapped memory does for the kernel.
struct FakeMemory {
  std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(2 << 20, 0);
  bool read(word paddr, void* out, word size) const {
    if (paddr > bytes.size() || size > bytes.size() - paddr) return false;
    std::memcpy(out, bytes.data() + paddr, size);
    return true;
  }
  template <class T>
  void put(word paddr, T value) {
    std::memcpy(bytes.data() + paddr, &value, sizeof value);
  }
  void put_string(word paddr, const char* s) {
    std::memcpy(bytes.data() + paddr, s, std::strlen(s));
  }
  // Sets the byte at checksum_at so that [paddr, +length) sums to 0.
  void fix_checksum(word paddr, word length, word checksum_at) {
    bytes[checksum_at] = 0;
    std::uint8_t sum = 0;
    for (word i = 0; i < length; ++i)
      sum = static_cast<std::uint8_t>(sum + bytes[paddr + i]);
    bytes[checksum_at] = static_cast<std::uint8_t>(-sum);
  }
};

constexpr word kRsdp = 0xf5a40;
constexpr word kXsdt = 0x100000, kMadt = 0x101000, kMcfg = 0x102000, kHpet = 0x103000;
constexpr word kFacp = 0x104000;

void header(FakeMemory& m, word at, const char* signature, std::uint32_t length) {
  m.put_string(at, signature);
  m.put<std::uint32_t>(at + 4, length);
  m.bytes[at + 8] = 1;
  m.put_string(at + 10, "UKTEST");
}
void seal(FakeMemory& m, word at) {
  std::uint32_t length;
  std::memcpy(&length, m.bytes.data() + at + 4, 4);
  m.fix_checksum(at, length, at + 9);
}

// q35 with two CPUs: what QEMU's firmware gives.
FakeMemory q35_tables() {
  FakeMemory m;
  m.put_string(kRsdp, "RSD PTR ");
  m.put_string(kRsdp + 9, "UKTEST");
  m.bytes[kRsdp + 15] = 2;
  m.put<std::uint32_t>(kRsdp + 16, 0);  // no RSDT: the XSDT is used
  m.put<std::uint32_t>(kRsdp + 20, 36);
  m.put<std::uint64_t>(kRsdp + 24, kXsdt);
  m.fix_checksum(kRsdp, 20, kRsdp + 8);
  m.fix_checksum(kRsdp, 36, kRsdp + 32);

  header(m, kXsdt, "XSDT", 36 + 4 * 8);
  m.put<std::uint64_t>(kXsdt + 36, kFacp);
  m.put<std::uint64_t>(kXsdt + 44, kMadt);
  m.put<std::uint64_t>(kXsdt + 52, kMcfg);
  m.put<std::uint64_t>(kXsdt + 60, kHpet);
  seal(m, kXsdt);

  header(m, kFacp, "FACP", 36);  // a table the reader skips
  seal(m, kFacp);

  word at = kMadt + 44;
  auto entry = [&](std::initializer_list<std::uint8_t> bytes) {
    for (std::uint8_t b : bytes)
      m.bytes[at++] = b;
  };
  m.put<std::uint32_t>(kMadt + 36, 0xfee00000);
  m.put<std::uint32_t>(kMadt + 40, 1);                 // PCAT_COMPAT
  entry({0, 8, 0, 0, 1, 0, 0, 0});                     // CPU 0, APIC id 0, enabled
  entry({0, 8, 1, 1, 1, 0, 0, 0});                     // CPU 1, APIC id 1, enabled
  entry({0, 8, 2, 2, 0, 0, 0, 0});                     // disabled: not counted
  entry({1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0});  // I/O APIC 0 at 0xfec00000, GSI 0
  entry({2, 10, 0, 0, 2, 0, 0, 0, 0, 0});              // IRQ 0 -> GSI 2
  entry({2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0});           // IRQ 9 -> GSI 9, level, active high
  entry({4, 6, 0xff, 5, 0, 1});                        // local APIC NMI: skipped
  header(m, kMadt, "APIC", static_cast<std::uint32_t>(at - kMadt));
  seal(m, kMadt);

  header(m, kMcfg, "MCFG", 36 + 8 + 16);
  m.put<std::uint64_t>(kMcfg + 44, 0xb0000000);
  m.put<std::uint16_t>(kMcfg + 52, 0);
  m.bytes[kMcfg + 54] = 0;
  m.bytes[kMcfg + 55] = 0xff;
  seal(m, kMcfg);

  header(m, kHpet, "HPET", 56);
  m.put<std::uint32_t>(kHpet + 36, 0x8086a201);
  m.bytes[kHpet + 40] = 0;  // system memory
  m.put<std::uint64_t>(kHpet + 44, 0xfed00000);
  m.put<std::uint16_t>(kHpet + 53, 0x80);
  seal(m, kHpet);
  return m;
}

Error read(const FakeMemory& m, acpi::Tables* out = nullptr) {
  acpi::Tables t;
  Error e = acpi::read_tables(m, kRsdp, t);
  if (out != nullptr) *out = t;
  return e;
}

}  // namespace

TEST_CASE("acpi: q35-like tables give the I/O APIC, overrides, ECAM and HPET") {
  FakeMemory m = q35_tables();
  word found = 0;
  REQUIRE(acpi::find_rsdp(m, found) == Error::kOk);
  CHECK(found == kRsdp);

  acpi::Tables t;
  REQUIRE(read(m, &t) == Error::kOk);
  CHECK(t.revision == 2);
  CHECK(t.madt.local_apic_address == 0xfee00000);
  CHECK(t.madt.pcat_compatible);
  REQUIRE(t.madt.cpu_count == 2);
  CHECK(t.madt.apic_ids[1] == 1);
  REQUIRE(t.madt.io_apic_count == 1);
  CHECK(t.madt.io_apics[0].address == 0xfec00000);
  CHECK(t.madt.io_apics[0].gsi_base == 0);
  REQUIRE(t.madt.override_count == 2);
  CHECK(t.madt.isa_gsi(0) == 2);
  CHECK(t.madt.isa_gsi(4) == 4);
  CHECK(t.madt.overrides[1].level_triggered());
  CHECK_FALSE(t.madt.overrides[1].active_low());
  REQUIRE(t.ecam_count == 1);
  CHECK(t.ecam[0].base == 0xb0000000);
  CHECK(t.ecam[0].bus_last == 255);
  CHECK(t.ecam[0].size() == 0x10000000);
  CHECK(t.hpet.present);
  CHECK(t.hpet.address == 0xfed00000);
  CHECK(t.hpet.minimum_tick == 0x80);
  // The RSDP, the XSDT and the three tables read, for boot's memory-map check.
  REQUIRE(t.region_count == 5);
  CHECK(t.regions[0].paddr == kRsdp);
  CHECK(t.regions[1].paddr == kXsdt);
  CHECK(t.regions[2].paddr == kMadt);
}

TEST_CASE("acpi: an RSDP v1 leads to the RSDT") {
  FakeMemory m = q35_tables();
  m.bytes[kRsdp + 15] = 0;
  constexpr word kRsdt = 0x105000;
  m.put<std::uint32_t>(kRsdp + 16, kRsdt);
  m.fix_checksum(kRsdp, 20, kRsdp + 8);
  header(m, kRsdt, "RSDT", 36 + 4);
  m.put<std::uint32_t>(kRsdt + 36, kMadt);
  seal(m, kRsdt);
  acpi::Tables t;
  REQUIRE(read(m, &t) == Error::kOk);
  CHECK(t.madt.io_apic_count == 1);
  CHECK(t.ecam_count == 0);
  CHECK_FALSE(t.hpet.present);
}

TEST_CASE("acpi: find_rsdp skips candidates whose checksum fails, and the EBDA comes first") {
  FakeMemory m = q35_tables();
  m.bytes[kRsdp + 8] ^= 1;
  word found = 0;
  CHECK(acpi::find_rsdp(m, found) == Error::kNoRsdp);
  m.bytes[kRsdp + 8] ^= 1;
  std::memcpy(m.bytes.data() + 0x9fc00, m.bytes.data() + kRsdp, 36);
  m.put<std::uint16_t>(0x40e, 0x9fc0);
  REQUIRE(acpi::find_rsdp(m, found) == Error::kOk);
  CHECK(found == 0x9fc00);
}

TEST_CASE("acpi: damaged tables are named and change nothing") {
  const FakeMemory good = q35_tables();
  acpi::Tables before;
  before.revision = 77;
  auto expect = [&](const FakeMemory& m, Error wanted) {
    acpi::Tables t = before;
    CHECK(acpi::read_tables(m, kRsdp, t) == wanted);
    CHECK(t.revision == 77);  // untouched
  };
  FakeMemory m = good;
  m.bytes[kRsdp] = 'X';
  expect(m, Error::kBadRsdp);
  m = good;
  m.bytes[kRsdp + 33] = 1;  // breaks only the extended checksum
  expect(m, Error::kBadRsdp);
  m = good;
  m.put<std::uint32_t>(kRsdp + 20, 8);
  m.fix_checksum(kRsdp, 20, kRsdp + 8);
  expect(m, Error::kBadRsdp);
  m = good;
  m.put<std::uint64_t>(kRsdp + 24, 0x7fffffff000);  // XSDT outside memory
  m.fix_checksum(kRsdp, 36, kRsdp + 32);
  expect(m, Error::kUnreadable);
  m = good;
  m.put_string(kXsdt, "RSDT");
  seal(m, kXsdt);
  expect(m, Error::kBadSignature);
  m = good;
  m.bytes[kMadt + 50] ^= 0x10;  // a MADT byte, checksum not fixed
  expect(m, Error::kBadChecksum);
  m = good;
  m.put<std::uint32_t>(kXsdt + 4, 36 + 4 * 8 + 3);  // length not a whole number of entries
  seal(m, kXsdt);
  expect(m, Error::kBadLength);
  m = good;
  m.put<std::uint32_t>(kMadt + 4, 0x7fffffff);  // too long
  expect(m, Error::kBadLength);
  m = good;
  m.bytes[kMadt + 44 + 1] = 0;  // an entry of length 0 would loop forever
  seal(m, kMadt);
  expect(m, Error::kBadEntry);
  m = good;
  m.bytes[kMadt + 44 + 24 + 1] = 6;  // an I/O APIC entry too short for its fields
  seal(m, kMadt);
  expect(m, Error::kBadEntry);
  m = good;
  m.bytes[kMadt + 44 + 1] = 0xff;  // an entry running past the table
  seal(m, kMadt);
  expect(m, Error::kBadEntry);
  m = good;
  m.put<std::uint32_t>(kMcfg + 4, 36 + 8 + 15);
  seal(m, kMcfg);
  expect(m, Error::kBadLength);
  m = good;
  m.bytes[kMcfg + 54] = 9;  // bus range reversed
  m.bytes[kMcfg + 55] = 8;
  seal(m, kMcfg);
  expect(m, Error::kBadAddress);
  m = good;
  m.bytes[kHpet + 40] = 1;  // the HPET in I/O space
  seal(m, kHpet);
  expect(m, Error::kBadAddress);
  m = good;
  m.put_string(kMadt, "APIX");
  seal(m, kMadt);
  expect(m, Error::kNoMadt);
}

TEST_CASE("acpi: every flipped byte of every table stays inside memory") {
  FakeMemory m = q35_tables();
  for (word table : {kRsdp, kXsdt, kMadt, kMcfg, kHpet}) {
    for (word i = 0; i < 100; ++i) {
      m.bytes[table + i] ^= 0xa5;
      acpi::Tables t;
      (void)read(m, &t);  // any result; ASan checks that no read leaves the memory
      m.bytes[table + i] ^= 0xa5;
    }
  }
  SUCCEED("no out-of-bounds read");
}
