// The example system's root task on the bare-metal targets (x86-64, AArch64): the supervisor
// (examples/supervisor/), booted from the same description as on the hosted back-end. Its image
// loader takes each server's ELF file from the system image's boot modules ("system_<name>",
// cmake: ukernel_baremetal_system_image) and loads it with targets/x86_64/system/loader.hpp into
// the address space the supervisor made for the server. A restart reloads only the writable
// pages (data, bss, stack): fresh globals, the same code pages.
#include "loader.hpp"
#include "supervisor/supervisor.hpp"

using namespace system_example;
using ukernel::word;

namespace {

ukernel::boot_modules::Archive g_archive;
ukernel::elf::Program g_programs[kServerCount];
system_image::ProgramPages g_pages[kServerCount];
bool g_loaded[kServerCount];

supervisor::Entry load_image(supervisor::Boot& boot, std::size_t index) {
  std::string_view name = kSystem.servers[index].name;
  if (g_loaded[index]) {
    if (!g_pages[index].reload()) {
      ukernel::log("system: {}: cannot reload its image", name);
      return {};
    }
    return {.ip = g_programs[index].entry, .sp = system_image::kStackTop};
  }
  char module[sysdesc::kMaxNameLength + 8] = "system_";
  std::size_t length = 7;
  for (char c : name)
    module[length++] = c;
  ukernel::boot_modules::Module file;
  if (!system_image::find_program(g_archive, std::string_view(module, length), file,
                                  g_programs[index]))
    return {};
  if (const char* failed =
          g_pages[index].load(boot, boot.caps(index).space, file.data, g_programs[index])) {
    ukernel::log("system: {}: {} failed", name, failed);
    return {};
  }
  g_loaded[index] = true;
  return {.ip = g_programs[index].entry, .sp = system_image::kStackTop};
}

}  // namespace

extern "C" word user_main(word boot_info_address) {
  const ukernel::BootInfo* info = ukernel::boot_info(boot_info_address);
  auto opened = ukernel::boot_modules::Archive::open(
      reinterpret_cast<const void*>(info->modules_vaddr), info->modules_size, g_archive);
  if (opened != ukernel::boot_modules::Error::kOk) {
    ukernel::log("system: boot failed: {}", ukernel::boot_modules::describe(opened));
    return 1;
  }
  supervisor::run(boot_info_address, load_image);
  return 1;  // run() returns only when the boot failed (it logged why)
}
