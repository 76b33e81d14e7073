// Physical memory: the device tree (every device the kernel uses is found there), the frame
// allocator, and the hand-over of the free RAM to the kernel core.
//
// QEMU virt puts the flattened device tree at the start of RAM (0x40000000) and the image at
// 0x40200000. Free RAM is everything from the end of the image to the end of RAM, clipped to the
// 1 GiB the boot tables map (boot.S). Frames are handed out from that range (bump) or from a
// list of returned frames.
#include "arch/memory.hpp"

#include <cstdint>

#include "arch/console.hpp"
#include "ukernel/fdt.hpp"

extern "C" char __kernel_end[];

namespace ukernel::aarch64 {
namespace {

constexpr word kMappedRamEnd = kRamBase + (word{1} << 30);

fdt::Platform platform_;
bool platform_read_ = false;
word ram_base_ = 0;
word ram_size_ = 0;
word free_begin = 0;
word free_end = 0;
word free_list = kNoPhysical;  // linked through the first word of each frame
word free_list_count = 0;

constexpr word align_up(word v, word a) {
  return (v + a - 1) & ~(a - 1);
}

// The machine as the device tree describes it, through the checked reader (ukernel/fdt.hpp):
// RAM, the GIC, the timers' PPIs, the PL011, PCIe. A blob the reader refuses, or one without
// what the kernel needs (fdt::kernel_requirement_missing), is a machine this kernel cannot run:
// it panics with the reason (semihosting exit status 65).
void read_platform(const unsigned char* fdt, word bytes) {
  fdt::Blob blob;
  fdt::Error e = fdt::Blob::open(fdt, bytes, blob);
  if (e == fdt::Error::kOk) e = fdt::read_platform(blob, platform_);
  if (e != fdt::Error::kOk) panic(fdt::describe(e));
  if (platform_.uart.present) console_attach(platform_.uart.registers.base);
  if (const char* missing = fdt::kernel_requirement_missing(platform_)) panic(missing);
  platform_read_ = true;
  ram_base_ = platform_.memory[0].base;
  ram_size_ = platform_.memory[0].size;
}

// The blob lies below the image (QEMU: at the start of RAM, the image 2 MiB above).
constexpr word kDeviceTreeMaxBytes = 0x200000;

}  // namespace

const fdt::Platform* platform() {
  return platform_read_ ? &platform_ : nullptr;
}

void memory_init() {
  const auto* fdt = static_cast<const unsigned char*>(physical_to_virtual(kRamBase));
  read_platform(fdt, kDeviceTreeMaxBytes);
  word image_end = align_up(virtual_to_physical(__kernel_end), kPageSize);
  word ram_end = ram_base_ + ram_size_;
  if (ram_base_ != kRamBase || ram_end <= image_end) panic("unexpected RAM layout");
  if (ram_end > kMappedRamEnd) {
    print("memory: using the first GiB of ", ram_size_ >> 20, " MiB RAM\n");
    ram_end = kMappedRamEnd;
    ram_size_ = ram_end - ram_base_;
  }
  free_begin = image_end;
  free_end = ram_end & ~(kPageSize - 1);
}

word ram_base() {
  return ram_base_;
}
word ram_size() {
  return ram_size_;
}

word frame_alloc() {
  word frame = kNoPhysical;
  if (free_list != kNoPhysical) {
    frame = free_list;
    free_list = *static_cast<word*>(physical_to_virtual(frame));
    --free_list_count;
  } else if (free_begin < free_end) {
    frame = free_begin;
    free_begin += kPageSize;
  }
  if (frame != kNoPhysical) __builtin_memset(physical_to_virtual(frame), 0, kPageSize);
  return frame;
}

void frame_free(word paddr) {
  *static_cast<word*>(physical_to_virtual(paddr)) = free_list;
  free_list = paddr;
  ++free_list_count;
}

word frames_free_count() {
  return free_list_count + (free_end - free_begin) / kPageSize;
}

std::size_t release_free_memory(std::span<PhysicalRange> out, word keep_frames) {
  // The returned frames stay with the back-end; enough of them come from the range first.
  while (free_list_count < keep_frames && free_begin < free_end) {
    frame_free(free_begin);
    free_begin += kPageSize;
  }
  if (out.empty() || free_begin >= free_end) return 0;
  out[0] = PhysicalRange{free_begin, free_end};
  free_begin = free_end;
  return 1;
}

}  // namespace ukernel::aarch64
