// ukernel/elf.hpp and ukernel/boot_modules.hpp: every error a loader reports, from a valid file
// changed in one place at a time, and the truncation of a valid file at every length.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "ukernel/boot_modules.hpp"
#include "ukernel/elf.hpp"

using namespace ukernel;
using ElfError = elf::Error;

namespace {

constexpr elf::Limits kLimits{elf::kMachineX86_64, 4096, 0x1000, 0x10000000, 16};

struct Phdr {
  std::uint32_t type, flags;
  std::uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

// A valid executable: code at 0x400000 (R+X, one page of file data), data at 0x401000 (R+W,
// 0x20 bytes of file data, two pages in memory).
struct File {
  elf::detail::Header header{};
  std::vector<Phdr> phdrs;
  std::size_t data_bytes = 0x1020;  // the file ends where the data segment's file data does

  File() {
    std::memcpy(header.ident,
                "\x7f"
                "ELF\x02\x01\x01",
                7);
    header.type = 2;
    header.machine = elf::kMachineX86_64;
    header.version = 1;
    header.entry = 0x400010;
    header.phoff = 64;
    header.phentsize = 56;
    phdrs.push_back({1, 5, 0x0, 0x400000, 0x400000, 0x1000, 0x1000, 0x1000});
    phdrs.push_back({1, 6, 0x1000, 0x401000, 0x401000, 0x20, 0x2000, 0x1000});
  }
  std::vector<unsigned char> bytes() {
    header.phnum = static_cast<std::uint16_t>(phdrs.size());
    std::vector<unsigned char> out(data_bytes, 0);
    std::memcpy(out.data(), &header, sizeof header);
    std::memcpy(out.data() + 64, phdrs.data(), phdrs.size() * sizeof(Phdr));
    return out;
  }
};

ElfError parse_file(const std::vector<unsigned char>& bytes, elf::Program* out = nullptr) {
  elf::Program program;
  ElfError e = elf::parse(bytes.data(), bytes.size(), kLimits, program);
  if (out != nullptr) *out = program;
  return e;
}

}  // namespace

TEST_CASE("elf: a valid executable becomes its segments") {
  File f;
  elf::Program p;
  REQUIRE(parse_file(f.bytes(), &p) == ElfError::kOk);
  CHECK(p.entry == 0x400010);
  REQUIRE(p.count == 2);
  CHECK(p.segments[0].vaddr == 0x400000);
  CHECK(p.segments[0].executable);
  CHECK_FALSE(p.segments[0].writable);
  CHECK(p.segments[1].writable);
  CHECK(p.segments[1].filesz == 0x20);
  CHECK(p.segments[1].pages(4096) == 2);
}

TEST_CASE("elf: each broken field gets its error") {
  auto broken = [](auto change) {
    File f;
    change(f);
    return parse_file(f.bytes());
  };
  CHECK(broken([](File& f) { f.header.ident[0] = 0; }) == ElfError::kBadMagic);
  CHECK(broken([](File& f) { f.header.ident[4] = 1; }) == ElfError::kNotElf64);
  CHECK(broken([](File& f) { f.header.ident[5] = 2; }) == ElfError::kNotLittleEndian);
  CHECK(broken([](File& f) { f.header.version = 2; }) == ElfError::kBadVersion);
  CHECK(broken([](File& f) { f.header.type = 3; }) == ElfError::kNotExecutable);
  CHECK(broken([](File& f) { f.header.machine = elf::kMachineAArch64; }) ==
        ElfError::kWrongMachine);
  CHECK(broken([](File& f) { f.header.phentsize = 32; }) == ElfError::kBadProgramHeaders);
  CHECK(broken([](File& f) { f.phdrs.clear(); }) == ElfError::kBadProgramHeaders);
  CHECK(broken([](File& f) { f.header.phoff = 0x1000; }) == ElfError::kProgramHeadersOutside);
  CHECK(broken([](File& f) { f.header.phoff = ~std::uint64_t{0} - 8; }) ==
        ElfError::kProgramHeadersOutside);
  CHECK(broken([](File& f) {
          f.phdrs.push_back({3, 4, 0, 0, 0, 0, 0, 0});
        }) == ElfError::kUnsupportedSegment);
  CHECK(
      broken([](File& f) {
        for (int i = 0; i < 8; ++i)
          f.phdrs.push_back({1, 4, 0, 0x500000 + std::uint64_t(i) * 0x1000, 0, 0, 0x1000, 0x1000});
      }) == ElfError::kTooManySegments);
  CHECK(broken([](File& f) { f.phdrs[1].filesz = 0x200; }) == ElfError::kSegmentOutsideFile);
  CHECK(broken([](File& f) { f.phdrs[1].offset = ~std::uint64_t{0}; }) ==
        ElfError::kSegmentOutsideFile);
  CHECK(broken([](File& f) { f.phdrs[1].memsz = 0x10; }) == ElfError::kSegmentSizes);
  CHECK(broken([](File& f) { f.phdrs[1].vaddr = 0x401008; }) == ElfError::kSegmentMisaligned);
  CHECK(broken([](File& f) { f.phdrs[1].align = 0x1800; }) == ElfError::kSegmentMisaligned);
  CHECK(broken([](File& f) { f.phdrs[1].vaddr = 0; }) == ElfError::kSegmentOutsideUser);
  CHECK(broken([](File& f) { f.phdrs[1].vaddr = 0xfffff000; }) == ElfError::kSegmentOutsideUser);
  CHECK(broken([](File& f) { f.phdrs[1].vaddr = ~std::uint64_t{0xfff}; }) ==
        ElfError::kSegmentOutsideUser);
  CHECK(broken([](File& f) { f.phdrs[1].flags = 7; }) == ElfError::kWritableAndExecutable);
  CHECK(broken([](File& f) { f.phdrs[1].vaddr = 0x400000; }) == ElfError::kSegmentsOverlap);
  CHECK(broken([](File& f) { f.phdrs[1].memsz = 0x10000; }) == ElfError::kTooLarge);
  CHECK(broken([](File& f) {
          f.phdrs.clear();
          f.phdrs.push_back({6, 4, 0, 0, 0, 0, 0, 0});  // PT_PHDR only
        }) == ElfError::kNoSegments);
  CHECK(broken([](File& f) { f.header.entry = 0x401000; }) == ElfError::kEntryOutside);
  CHECK(broken([](File& f) { f.header.entry = 0x300000; }) == ElfError::kEntryOutside);
}

TEST_CASE("elf: every truncation of a valid file is refused, never read past") {
  auto full = File().bytes();
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<unsigned char> cut(full.begin(), full.begin() + static_cast<long>(n));
    ElfError e = parse_file(cut);
    INFO("length " << n);
    CHECK(e != ElfError::kOk);
    if (n < 64) CHECK(e == ElfError::kTruncated);
  }
}

TEST_CASE("elf: every error has its own description") {
  for (int i = int(ElfError::kOk); i <= int(ElfError::kEntryOutside); ++i) {
    for (int j = i + 1; j <= int(ElfError::kEntryOutside); ++j)
      CHECK(std::strcmp(elf::describe(ElfError(i)), elf::describe(ElfError(j))) != 0);
  }
}

namespace {

// An archive with the modules `names` whose contents are `sizes` bytes of their index.
std::vector<unsigned char> archive(const std::vector<std::string>& names,
                                   const std::vector<std::size_t>& sizes) {
  std::vector<unsigned char> out(16 + 48 * names.size(), 0);
  boot_modules::Header h{boot_modules::kMagic, names.size()};
  std::memcpy(out.data(), &h, sizeof h);
  for (std::size_t i = 0; i < names.size(); ++i) {
    boot_modules::Entry e{};
    std::memcpy(e.name, names[i].data(), names[i].size());
    e.offset = out.size();
    e.size = sizes[i];
    std::memcpy(out.data() + 16 + 48 * i, &e, sizeof e);
    out.resize(out.size() + sizes[i], static_cast<unsigned char>(i));
  }
  return out;
}

boot_modules::Error open(const std::vector<unsigned char>& bytes) {
  boot_modules::Archive a;
  return boot_modules::Archive::open(bytes.data(), bytes.size(), a);
}

}  // namespace

TEST_CASE("boot modules: a valid archive is read by name") {
  auto bytes = archive({"names", "hello"}, {10, 3});
  boot_modules::Archive a;
  REQUIRE(boot_modules::Archive::open(bytes.data(), bytes.size(), a) == boot_modules::Error::kOk);
  REQUIRE(a.count() == 2);
  CHECK(a.module(0).name == "names");
  boot_modules::Module m;
  REQUIRE(a.find("hello", m));
  CHECK(m.size == 3);
  CHECK(m.data[0] == 1);
  CHECK_FALSE(a.find("hell", m));
}

TEST_CASE("boot modules: each broken archive gets its error") {
  using E = boot_modules::Error;
  auto good = archive({"a", "b"}, {4, 4});
  CHECK(open(std::vector<unsigned char>(good.begin(), good.begin() + 8)) == E::kTruncated);
  CHECK(open(std::vector<unsigned char>(good.begin(), good.begin() + 60)) == E::kTruncated);
  auto bad = good;
  bad[0] ^= 1;
  CHECK(open(bad) == E::kBadMagic);
  bad = good;
  bad[8] = 65;  // count
  CHECK(open(bad) == E::kBadCount);
  bad = good;
  bad[16] = 0;  // an empty name
  CHECK(open(bad) == E::kBadName);
  bad = good;
  std::memset(bad.data() + 16, 'x', 32);  // not terminated
  CHECK(open(bad) == E::kBadName);
  bad = good;
  bad[16 + 48 + 40] = 0xff;  // the second module's size
  CHECK(open(bad) == E::kOutOfRange);
  bad = good;
  std::memset(bad.data() + 16 + 32, 0xff, 8);  // the first module's offset
  CHECK(open(bad) == E::kOutOfRange);
  CHECK(open(std::vector<unsigned char>(good.begin(), good.end() - 1)) == E::kOutOfRange);
}
