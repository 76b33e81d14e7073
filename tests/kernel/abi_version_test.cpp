// The ABI version (ukernel/abi.hpp kAbiVersion): the kernel refuses to boot a root task built for
// another version, and a root task refuses a kernel of another version (boot_info()).
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "support/root_kit.hpp"

using namespace ukernel;

namespace {

struct {
  bool root_ran = false;
  word kernel_version = 0;
  bool past_check = false;
} g;

void root(word info_address) {
  g.root_ran = true;
  g.kernel_version = boot_info(info_address)->abi_version;
}

// A root task that reads a BootInfo page written by a kernel of the next version: a frame of
// its own, mapped at kFakeInfo, standing in for the page the kernel maps.
constexpr word kFakeInfo = 0x50000000;
void root_under_other_kernel(word info_address) {
  test::RootKit kit(info_address);
  word frame = kit.make(ObjectType::kFrame, 12);
  if (frame == 0 || map_frame(kRootAddressSpaceSlot, frame, kFakeInfo,
                              Rights::kRead | Rights::kWrite) != Error::kOk)
    return;
  auto* fake = static_cast<BootInfo*>(arch::user_pointer(kFakeInfo, sizeof(BootInfo)));
  *fake = kit.info();
  fake->abi_version = kAbiVersion + 1;
  g.root_ran = true;
  (void)boot_info(kFakeInfo);
  g.past_check = true;  // never: boot_info stops the thread
}

}  // namespace

TEST_CASE("abi: a root task of the kernel's ABI version boots, and BootInfo names the version") {
  g = {};
  hosted::Simulation sim;
  CHECK(sim.run(root) == hosted::RunResult::kIdle);
  CHECK(g.root_ran);
  CHECK(g.kernel_version == kAbiVersion);
}

TEST_CASE("abi: the kernel refuses a root task built for another ABI version") {
  for (word version : {word{0}, kAbiVersion - 1, kAbiVersion + 1}) {
    g = {};
    hosted::Simulation sim({.root_abi_version = version});
    CHECK(sim.run(root) == hosted::RunResult::kBootRefused);
    CHECK_FALSE(g.root_ran);
    std::string expected = fmt::format(
        "boot: refused: the root task was built for ABI version 0x{:016x}, this kernel's is "
        "0x{:016x}",
        version, kAbiVersion);
    INFO(sim.console());
    CHECK(sim.console().find(expected) != std::string::npos);
  }
}

TEST_CASE("abi: a root task refuses a kernel of another ABI version") {
  g = {};
  hosted::Simulation sim;
  CHECK(sim.run(root_under_other_kernel) == hosted::RunResult::kIdle);
  CHECK(g.root_ran);
  CHECK_FALSE(g.past_check);
  INFO(sim.console());
  CHECK(sim.console().find("root task: refused: the kernel's ABI version (BootInfo::abi_version) "
                           "is not the one this program was built against") != std::string::npos);
  // The root task stopped itself: an abort carrying the kernel's version, no fault endpoint.
  CHECK(sim.console().find(fmt::format("stopped: abort fault, address 0x{:016x}",
                                       kAbiVersion + 1)) != std::string::npos);
  BootInfo info{};
  info.abi_version = kAbiVersion;
  CHECK(abi_matches(info));
  info.abi_version = kAbiVersion + 1;
  CHECK_FALSE(abi_matches(info));
}
