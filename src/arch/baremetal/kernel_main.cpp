// kernel_main for images that run the kernel core on a bare-metal back-end: load the root task,
// boot the core, run.
//
// How this works: the root task is an ELF executable embedded in the image (root_image.S),
// checked by elf::parse before anything is loaded. Each PT_LOAD segment is copied into freshly
// allocated frames (zero-filled past the file data), which the core maps into the root task's
// address space (RootMapping: read-only and executable without PF_W, read-write otherwise),
// followed by a stack of kRootStackPages below kRootStackTop. What the frame allocator still
// holds then becomes the core's untyped memory, except a few frames the back-end keeps for
// itself.
//
// Boot modules (the other programs of a system image, ukernel/boot_modules.hpp) are linked into
// the image's .modules section, on pages of their own. They are not copied: their frames are
// mapped read-only at kUserBootModules in the root task's space, in as few naturally aligned
// power-of-two frames as the section allows (each one mapping of the space's 128), and BootInfo
// says where. The root task loads them from there.
//
// Device memory: the back-end's root_device_regions() (its root_task.cpp) become device untyped
// for the root task (after the RAM blocks), the only way a device's registers reach user space.
#include <array>

#include "arch/backend.hpp"
#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/entry.hpp"
#include "arch/machine.hpp"
#include "arch/root_task.hpp"
#include "arch/user.hpp"
#include "core/kernel.hpp"
#include "ukernel/elf.hpp"

namespace ukernel {
namespace {

using namespace backend;

constexpr word kKeepFrames = 16;  // for the back-end after boot (it allocates none yet)

std::array<core::RootMapping, 120> mappings;
std::size_t mapping_count = 0;
std::array<core::MemoryRegion, 64> regions;

// Maps one fresh page at `vaddr` holding `bytes` bytes from `data` (the rest zero).
void add_page(word vaddr, const unsigned char* data, word bytes, Rights rights) {
  if (mapping_count == mappings.size()) panic("root task: image has too many pages");
  word frame = frame_alloc();
  if (frame == kNoPhysical) panic("root task: out of memory loading the image");
  if (bytes > 0) __builtin_memcpy(physical_to_virtual(frame), data, bytes);
  mappings[mapping_count++] = core::RootMapping{vaddr, frame, 12, rights};
}

extern "C" const unsigned char __modules_start[], __modules_end[];

// Maps the boot modules' frames (before the root image's, so that the root image's frame
// capabilities stay just below first_free_slot, where root tasks look for them); returns the
// archive's size in bytes.
word map_boot_modules() {
  word begin = reinterpret_cast<word>(__modules_start) - kKernelImageOffset;
  word end = reinterpret_cast<word>(__modules_end) - kKernelImageOffset;
  for (word paddr = begin; paddr < end;) {
    unsigned bits = 12;
    while (bits < 30 && (paddr & ((word{2} << bits) - 1)) == 0 && (word{2} << bits) <= end - paddr)
      ++bits;
    if (mapping_count == mappings.size()) panic("boot modules: too many frames");
    mappings[mapping_count++] =
        core::RootMapping{arch::kUserBootModules + (paddr - begin), paddr, bits, Rights::kRead};
    paddr += word{1} << bits;
  }
  return end - begin;
}

// Loads the embedded ELF; returns its entry point.
word load_root_image() {
  const unsigned char* file = ukernel_root_elf_start;
  auto file_size = static_cast<word>(ukernel_root_elf_end - ukernel_root_elf_start);
  elf::Program program;
  elf::Limits limits{kRootElfMachine, kPageSize, kPageSize, kUserEnd, mappings.size()};
  if (elf::Error error = elf::parse(file, file_size, limits, program); error != elf::Error::kOk) {
    print("root task: ", elf::describe(error), "\n");
    panic("root task: not a loadable ELF executable");
  }
  for (std::size_t i = 0; i < program.count; ++i) {
    const elf::Segment& segment = program.segments[i];
    Rights rights = segment.writable ? Rights::kRead | Rights::kWrite : Rights::kRead;
    for (word off = 0; off < segment.memsz; off += kPageSize) {
      word bytes = off < segment.filesz ? segment.filesz - off : 0;
      if (bytes > kPageSize) bytes = kPageSize;
      add_page(segment.vaddr + off, file + segment.offset + off, bytes, rights);
    }
  }
  for (word i = arch::kRootStackPages; i > 0; --i)
    add_page(arch::kRootStackTop - i * kPageSize, nullptr, 0, Rights::kRead | Rights::kWrite);
  return program.entry;
}

}  // namespace

void backend::kernel_main() {
  print("ukernel ", kMachineName, ": kernel core, root task ",
        static_cast<word>(ukernel_root_elf_end - ukernel_root_elf_start), " bytes, fast path ",
        ukernel_fastpath_option ? "on" : "off", "\n");
  baremetal::print_boot_details();
  word modules_size = map_boot_modules();
  word entry = load_root_image();
  std::array<PhysicalRange, 64> ranges;
  std::size_t count = release_free_memory(ranges, kKeepFrames);
  for (std::size_t i = 0; i < count; ++i)
    regions[i] = core::MemoryRegion{ranges[i].begin, ranges[i].end - ranges[i].begin};
  std::span<const core::MemoryRegion> devices = baremetal::root_device_regions();
  core::BootConfig config{};
  // The root image carries no ABI version the kernel could read yet: it is built from this
  // image's headers, and its own check of BootInfo::abi_version (ukernel/syscall.hpp) stands.
  config.root_abi_version = kAbiVersion;
  config.regions = regions.data();
  config.region_count = count;
  config.device_regions = devices.data();
  config.device_region_count = devices.size();
  config.pci = baremetal::root_pci_host();
  config.image = mappings.data();
  config.image_count = mapping_count;
  config.root_entry = entry;
  config.root_stack = arch::kRootStackTop;
  config.ipc_buffer_vaddr = arch::kUserIpcBuffer;
  config.boot_info_vaddr = arch::kUserBootInfo;
  if (modules_size != 0) {
    config.modules_vaddr = arch::kUserBootModules;
    config.modules_size = modules_size;
    print("boot modules: ", modules_size, " bytes at ", hex(arch::kUserBootModules), "\n");
  }
  if (!core::boot(config)) panic("core::boot failed");
  // boot() resets the kernel state, so the option goes in afterwards.
  core::kernel().fastpath_enabled = ukernel_fastpath_option != 0;
  baremetal::attach_trace();
  baremetal::set_root_thread(core::current());
  resume(core::current()->context);
}

}  // namespace ukernel
