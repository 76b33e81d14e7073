// kernel_main for images that run the kernel core: load the root task, boot the core, run.
//
// How this works: the root task is an ELF executable embedded in the image (root_image.S). Each
// PT_LOAD segment is copied into freshly allocated frames (zero-filled past the file data),
// which the core maps into the root task's address space (RootMapping: read-only and executable
// without PF_W, read-write otherwise), followed by a stack of kRootStackPages below
// kRootStackTop. What the frame allocator still holds then becomes the core's untyped memory,
// except a few frames the back-end keeps for itself.
//
// Boot modules (the other programs of a system image, ukernel/boot_modules.hpp) are linked into
// the image's .modules section, on pages of their own. They are not copied: their frames are
// mapped read-only at kUserBootModules in the root task's space, in as few naturally aligned
// power-of-two frames as the section allows (each one mapping of the space's 128), and BootInfo
// says where. The root task loads them from there.
//
// Device memory: the regions of kDeviceRegions become device untyped for the root task (after
// the RAM blocks), the only way a device's registers reach user space.
#include <array>

#include "arch/boot.hpp"
#include "arch/console.hpp"
#include "arch/entry.hpp"
#include "arch/machine.hpp"
#include "arch/root_task.hpp"
#include "arch/user.hpp"
#include "core/kernel.hpp"

namespace ukernel::aarch64 {
namespace {

// The parts of the ELF-64 header and program header this loader reads.
struct ElfHeader {
  unsigned char ident[16];
  std::uint16_t type, machine;
  std::uint32_t version;
  std::uint64_t entry, phoff, shoff;
  std::uint32_t flags;
  std::uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct ProgramHeader {
  std::uint32_t type, flags;
  std::uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
constexpr std::uint32_t kLoad = 1;
constexpr std::uint32_t kWritable = 2;
constexpr word kKeepFrames = 16;  // for the back-end after boot (it allocates none yet)

// Device regions handed to the root task: the PL031 real-time clock's registers (QEMU virt,
// 0x09010000; its interrupt is SPI 2, line 2). The kernel's own devices, the GIC (0x08000000,
// 0x08010000) and the PL011 console (0x09000000), are not among them, so no thread can
// reprogram them.
constexpr std::array<core::MemoryRegion, 1> kDeviceRegions = {{{0x09010000, kPageSize}}};
constexpr bool outside(const core::MemoryRegion& r, word begin, word size) {
  return r.paddr + r.size <= begin || r.paddr >= begin + size;
}
static_assert(outside(kDeviceRegions[0], 0x08000000, 0x20000) &&
              outside(kDeviceRegions[0], 0x09000000, kPageSize) &&
              outside(kDeviceRegions[0], kRamBase, word{1} << 30));

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
  word begin = reinterpret_cast<word>(__modules_start) - UK_KERNEL_BASE;
  word end = reinterpret_cast<word>(__modules_end) - UK_KERNEL_BASE;
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
  ElfHeader header;
  if (file_size < sizeof header) panic("root task: no ELF image");
  __builtin_memcpy(&header, file, sizeof header);
  if (__builtin_memcmp(header.ident,
                       "\x7f"
                       "ELF",
                       4) != 0 ||
      header.ident[4] != 2 || header.phentsize != sizeof(ProgramHeader) ||
      header.phoff + word{header.phnum} * sizeof(ProgramHeader) > file_size) {
    panic("root task: not an ELF-64 executable");
  }
  for (unsigned i = 0; i < header.phnum; ++i) {
    ProgramHeader ph;
    __builtin_memcpy(&ph, file + header.phoff + i * sizeof(ProgramHeader), sizeof ph);
    if (ph.type != kLoad || ph.memsz == 0) continue;
    if (ph.vaddr % kPageSize != 0 || ph.offset + ph.filesz > file_size || ph.filesz > ph.memsz ||
        ph.vaddr + ph.memsz >= kUserEnd) {
      panic("root task: a segment is not page-aligned or outside the user half");
    }
    Rights rights = (ph.flags & kWritable) ? Rights::kRead | Rights::kWrite : Rights::kRead;
    for (word off = 0; off < ph.memsz; off += kPageSize) {
      word bytes = off < ph.filesz ? ph.filesz - off : 0;
      if (bytes > kPageSize) bytes = kPageSize;
      add_page(ph.vaddr + off, file + ph.offset + off, bytes, rights);
    }
  }
  for (word i = arch::kRootStackPages; i > 0; --i)
    add_page(arch::kRootStackTop - i * kPageSize, nullptr, 0, Rights::kRead | Rights::kWrite);
  return header.entry;
}

}  // namespace

void kernel_main() {
  print("ukernel AArch64: kernel core, root task ",
        static_cast<word>(ukernel_root_elf_end - ukernel_root_elf_start), " bytes, fast path ",
        ukernel_fastpath_option ? "on" : "off", "\n");
  word modules_size = map_boot_modules();
  word entry = load_root_image();
  std::array<PhysicalRange, 64> ranges;
  std::size_t count = release_free_memory(ranges, kKeepFrames);
  for (std::size_t i = 0; i < count; ++i)
    regions[i] = core::MemoryRegion{ranges[i].begin, ranges[i].end - ranges[i].begin};
  core::BootConfig config{};
  config.regions = regions.data();
  config.region_count = count;
  config.device_regions = kDeviceRegions.data();
  config.device_region_count = kDeviceRegions.size();
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
  set_root_thread(core::current());
  resume(core::current()->context);
}

}  // namespace ukernel::aarch64
