// ukernel/fdt.hpp on the real devicetree of QEMU 7.2's `virt` (cortex-a57, 128 MiB: what the
// AArch64 scenarios boot), and on copies damaged one way at a time: each gives its Error, and
// no damage (truncation at every length, every byte flipped) reads outside the blob (ASan).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "ukernel/fdt.hpp"

namespace fdt = ukernel::fdt;
using fdt::Error;

namespace {

void put_be32(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint32_t value) {
  for (unsigned i = 0; i < 4; ++i)
    bytes[at + i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
}

std::vector<std::uint8_t> virt_dtb() {
  std::vector<std::uint8_t> bytes;
  std::FILE* file = std::fopen(UKERNEL_VIRT_DTB, "rb");
  REQUIRE(file != nullptr);
  std::uint8_t buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0)
    bytes.insert(bytes.end(), buffer, buffer + n);
  std::fclose(file);
  // QEMU pads the blob to 1 MiB; the tests cut it where its last block ends (a few KiB), so
  // that ASan sees any read past the end.
  REQUIRE(bytes.size() >= 40);
  std::uint32_t struct_end = fdt::read_be32(bytes.data() + 8) + fdt::read_be32(bytes.data() + 36);
  std::uint32_t strings_end = fdt::read_be32(bytes.data() + 12) + fdt::read_be32(bytes.data() + 32);
  std::uint32_t end = std::max(struct_end, strings_end);
  REQUIRE(end <= bytes.size());
  bytes.resize(end);
  put_be32(bytes, 4, end);
  return bytes;
}

Error read_dtb(const std::vector<std::uint8_t>& bytes, fdt::Platform* out = nullptr) {
  fdt::Blob blob;
  Error e = fdt::Blob::open(bytes.data(), bytes.size(), blob);
  if (e != Error::kOk) return e;
  fdt::Platform platform;
  e = fdt::read_platform(blob, platform);
  if (out != nullptr) *out = platform;
  return e;
}

// The offset of the first property named `name` in the structure block (its PROP token).
std::size_t find_property(const std::vector<std::uint8_t>& bytes, std::string_view name) {
  std::uint32_t off_struct = fdt::read_be32(bytes.data() + 8);
  std::uint32_t off_strings = fdt::read_be32(bytes.data() + 12);
  for (std::size_t at = off_struct; at + 12 <= bytes.size(); at += 4) {
    if (fdt::read_be32(bytes.data() + at) != 3) continue;
    std::uint32_t name_offset = fdt::read_be32(bytes.data() + at + 8);
    if (off_strings + name_offset >= bytes.size()) continue;
    const char* candidate = reinterpret_cast<const char*>(bytes.data() + off_strings + name_offset);
    if (std::strncmp(candidate, name.data(), name.size()) == 0 && candidate[name.size()] == 0)
      return at;
  }
  FAIL("no property " << name);
  return 0;
}

}  // namespace

TEST_CASE("fdt: QEMU virt's devicetree gives the machine's addresses") {
  fdt::Platform p;
  REQUIRE(read_dtb(virt_dtb(), &p) == Error::kOk);
  REQUIRE(p.memory_count == 1);
  CHECK(p.memory[0].base == 0x40000000);
  CHECK(p.memory[0].size == 128 << 20);
  CHECK(p.gic.distributor.base == 0x08000000);
  CHECK(p.gic.distributor.size == 0x10000);
  CHECK(p.gic.cpu_interface.base == 0x08010000);
  CHECK(p.gic.has_v2m);
  CHECK(p.gic.v2m.base == 0x08020000);
  CHECK(p.gic.v2m.size == 0x1000);
  CHECK(p.gic.v2m_spi_count == 0);  // QEMU leaves the SPI range to the frame's MSI_TYPER
  CHECK(p.uart.present);
  CHECK(p.uart.registers.base == 0x09000000);
  CHECK(p.uart.interrupt.gic_id() == 33);
  CHECK(p.rtc.present);
  CHECK(p.rtc.registers.base == 0x09010000);
  CHECK(p.rtc.interrupt.gic_id() == 34);
}

TEST_CASE("fdt: QEMU virt's PCIe host: ECAM, bus range, windows and INTx map") {
  fdt::Platform p;
  REQUIRE(read_dtb(virt_dtb(), &p) == Error::kOk);
  const fdt::PciHost& pci = p.pci;
  REQUIRE(pci.present);
  CHECK(pci.ecam.base == 0x4010000000);  // the high ECAM: 256 buses
  CHECK(pci.ecam.size == 0x10000000);
  CHECK(pci.bus_first == 0);
  CHECK(pci.bus_last == 255);
  REQUIRE(pci.window_count == 3);
  CHECK(pci.windows[0].space == fdt::PciWindow::Space::kIo);
  CHECK(pci.windows[0].cpu_address == 0x3eff0000);
  CHECK(pci.windows[1].space == fdt::PciWindow::Space::kMemory32);
  CHECK(pci.windows[1].pci_address == 0x10000000);
  CHECK(pci.windows[1].cpu_address == 0x10000000);
  CHECK(pci.windows[1].size == 0x2eff0000);
  CHECK(pci.windows[2].space == fdt::PciWindow::Space::kMemory64);
  CHECK(pci.windows[2].cpu_address == 0x8000000000);
  CHECK(pci.map_mask_address == 0x1800);
  CHECK(pci.map_mask_pin == 7);
  REQUIRE(pci.route_count == 16);
  // Device d, pin p (1..4) raises SPI 3 + (d + p - 1) % 4: the standard swizzle on SPIs 3-6.
  for (std::size_t i = 0; i < pci.route_count; ++i) {
    const fdt::PciInterruptRoute& r = pci.routes[i];
    CHECK(r.interrupt.type == 0);
    CHECK(r.interrupt.flags == 4);
    CHECK(r.interrupt.number == 3 + (r.device + r.pin - 1) % 4);
  }
}

TEST_CASE("fdt: a damaged header is named") {
  auto good = virt_dtb();
  auto bytes = good;
  bytes[0] ^= 1;
  CHECK(read_dtb(bytes) == Error::kBadMagic);
  bytes = good;
  put_be32(bytes, 4, static_cast<std::uint32_t>(good.size() + 1));
  CHECK(read_dtb(bytes) == Error::kTruncated);
  bytes = good;
  put_be32(bytes, 20, 16);
  CHECK(read_dtb(bytes) == Error::kBadVersion);
  bytes = good;
  put_be32(bytes, 8, 0xfffffff0);  // structure block outside
  CHECK(read_dtb(bytes) == Error::kBadBlocks);
  bytes = good;
  put_be32(bytes, 36, fdt::read_be32(good.data() + 36) + 0x100000);  // structure size too large
  CHECK(read_dtb(bytes) == Error::kBadBlocks);
  bytes = good;
  put_be32(bytes, 12, static_cast<std::uint32_t>(good.size()));  // strings past the end
  put_be32(bytes, 32, 4);
  CHECK(read_dtb(bytes) == Error::kBadBlocks);
  CHECK(read_dtb(std::vector<std::uint8_t>(good.begin(), good.begin() + 39)) == Error::kTruncated);
}

TEST_CASE("fdt: damaged structure and properties are named") {
  auto good = virt_dtb();
  std::uint32_t off_struct = fdt::read_be32(good.data() + 8);
  std::uint32_t size_struct = fdt::read_be32(good.data() + 36);

  auto bytes = good;
  put_be32(bytes, off_struct, 7);  // not a token
  CHECK(read_dtb(bytes) == Error::kBadToken);

  bytes = good;
  put_be32(bytes, off_struct, 3);  // a property before the root node
  CHECK(read_dtb(bytes) == Error::kBadToken);

  bytes = good;  // the END token becomes a NOP: the block runs out
  REQUIRE(fdt::read_be32(good.data() + off_struct + size_struct - 4) == 9);
  put_be32(bytes, off_struct + size_struct - 4, 4);
  CHECK(read_dtb(bytes) == Error::kNoEnd);

  bytes = good;  // the root's END_NODE becomes END: END inside a node
  put_be32(bytes, off_struct + size_struct - 8, 9);
  CHECK(read_dtb(bytes) == Error::kUnbalanced);

  bytes = good;  // a property length past the block
  std::size_t prop = find_property(good, "compatible");
  put_be32(bytes, prop + 4, 0x7fffffff);
  CHECK(read_dtb(bytes) == Error::kBadProperty);

  bytes = good;  // a property name offset past the strings
  put_be32(bytes, prop + 8, 0x7fffffff);
  CHECK(read_dtb(bytes) == Error::kBadName);

  bytes = good;  // a cells value out of range
  std::size_t cells = find_property(good, "#address-cells");
  put_be32(bytes, cells + 12, 7);
  CHECK(read_dtb(bytes) == Error::kBadCells);

  bytes = good;  // interrupt-map naming a phandle nobody has
  std::size_t map = find_property(good, "interrupt-map");
  put_be32(bytes, map + 12 + 16, 0x7777);
  CHECK(read_dtb(bytes) == Error::kUnknownPhandle);

  bytes = good;  // interrupt-map one cell short
  put_be32(bytes, map + 4, fdt::read_be32(good.data() + map + 4) - 4);
  CHECK(read_dtb(bytes) == Error::kBadCells);

  bytes = good;  // bus-range reversed
  std::size_t range = find_property(good, "bus-range");
  put_be32(bytes, range + 12, 5);
  put_be32(bytes, range + 16, 4);
  CHECK(read_dtb(bytes) == Error::kBadCells);
}

namespace {

// The offset of the first node whose name starts with `prefix` (its BEGIN_NODE token).
std::size_t find_node(const std::vector<std::uint8_t>& bytes, std::string_view prefix) {
  std::uint32_t off_struct = fdt::read_be32(bytes.data() + 8);
  for (std::size_t at = off_struct; at + 4 + prefix.size() <= bytes.size(); at += 4) {
    if (fdt::read_be32(bytes.data() + at) == 1 &&
        std::memcmp(bytes.data() + at + 4, prefix.data(), prefix.size()) == 0)
      return at;
  }
  FAIL("no node " << prefix);
  return 0;
}

// The first property `name` at or after `from` (PROP token; its name through the strings block).
std::size_t find_property_after(const std::vector<std::uint8_t>& bytes, std::size_t from,
                                std::string_view name) {
  std::uint32_t off_strings = fdt::read_be32(bytes.data() + 12);
  for (std::size_t at = from; at + 12 <= bytes.size(); at += 4) {
    if (fdt::read_be32(bytes.data() + at) != 3) continue;
    const char* candidate = reinterpret_cast<const char*>(bytes.data() + off_strings +
                                                          fdt::read_be32(bytes.data() + at + 8));
    if (std::strncmp(candidate, name.data(), name.size()) == 0 && candidate[name.size()] == 0)
      return at;
  }
  FAIL("no property " << name);
  return 0;
}

// Replaces the first occurrence of `from` in the blob by `to` (same length): renames a compatible.
void rename(std::vector<std::uint8_t>& bytes, std::string_view from, std::string_view to) {
  REQUIRE(from.size() == to.size());
  auto at = std::search(bytes.begin(), bytes.end(), from.begin(), from.end());
  REQUIRE(at != bytes.end());
  std::copy(to.begin(), to.end(), at);
}

}  // namespace

TEST_CASE("fdt: the architected timer's PPIs from QEMU virt's devicetree") {
  fdt::Platform p;
  REQUIRE(read_dtb(virt_dtb(), &p) == Error::kOk);
  REQUIRE(p.timer.present);
  CHECK(p.timer.secure_physical.gic_id() == 29);
  CHECK(p.timer.physical.gic_id() == 30);
  CHECK(p.timer.virtual_timer.gic_id() == 27);
  CHECK(fdt::kernel_requirement_missing(p) == nullptr);
}

TEST_CASE("fdt: a devicetree without the timer or the UART is refused by name") {
  auto good = virt_dtb();
  auto bytes = good;
  rename(bytes, "arm,armv8-timer", "arm,armv8-timex");
  rename(bytes, "arm,armv7-timer", "arm,armv7-timex");
  fdt::Platform p;
  REQUIRE(read_dtb(bytes, &p) == Error::kOk);  // the reader keeps going; the kernel refuses it
  CHECK_FALSE(p.timer.present);
  CHECK(std::string_view(fdt::kernel_requirement_missing(p)) ==
        "devicetree has no arm,armv8-timer (the kernel's clock)");

  bytes = good;
  rename(bytes, "arm,pl011", "arm,pl012");
  REQUIRE(read_dtb(bytes, &p) == Error::kOk);
  CHECK_FALSE(p.uart.present);
  CHECK(std::string_view(fdt::kernel_requirement_missing(p)) ==
        "devicetree has no arm,pl011 UART (the kernel's console)");
}

TEST_CASE("fdt: a short or wrong timer node is refused") {
  auto good = virt_dtb();
  std::size_t timer = find_node(good, "timer");
  std::size_t interrupts = find_property_after(good, timer, "interrupts");
  std::uint32_t length = fdt::read_be32(good.data() + interrupts + 4);
  REQUIRE(length >= 36);

  auto bytes = good;  // two entries instead of (at least) three; the rest become NOPs
  put_be32(bytes, interrupts + 4, 24);
  for (std::uint32_t at = 24; at < length; at += 4)
    put_be32(bytes, interrupts + 12 + at, 4);
  CHECK(read_dtb(bytes) == Error::kBadCells);

  bytes = good;  // not a whole number of three-cell entries
  put_be32(bytes, interrupts + 4, length - 4);
  put_be32(bytes, interrupts + 12 + length - 4, 4);
  CHECK(read_dtb(bytes) == Error::kBadCells);

  bytes = good;  // the virtual timer (third entry) an SPI: read, but not what the kernel needs
  put_be32(bytes, interrupts + 12 + 24, 0);
  fdt::Platform p;
  REQUIRE(read_dtb(bytes, &p) == Error::kOk);
  CHECK(std::string_view(fdt::kernel_requirement_missing(p)) ==
        "devicetree's timer interrupts are not PPIs");
}

TEST_CASE("fdt: every truncation and every flipped byte stays inside the blob") {
  auto good = virt_dtb();
  for (std::size_t length = 0; length < good.size(); ++length) {
    std::vector<std::uint8_t> bytes(good.begin(), good.begin() + static_cast<long>(length));
    CHECK(read_dtb(bytes) == Error::kTruncated);  // totalsize says more than there is
  }
  auto bytes = good;
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    bytes[at] ^= 0xa5;
    fdt::Platform p;
    (void)read_dtb(bytes, &p);  // any result; ASan checks that no read leaves the blob
    bytes[at] ^= 0xa5;
  }
  SUCCEED("no out-of-bounds read");
}
