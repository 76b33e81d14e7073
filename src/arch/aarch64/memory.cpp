// Physical memory: the device tree's memory node, the frame allocator, and the hand-over of the
// free RAM to the kernel core.
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

constexpr std::uint32_t kFdtMagic = 0xd00dfeed;
constexpr std::uint32_t kBeginNode = 1;
constexpr std::uint32_t kEndNode = 2;
constexpr std::uint32_t kProperty = 3;
constexpr std::uint32_t kNop = 4;
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

std::uint32_t be32(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
word be_cells(const unsigned char* p, std::uint32_t cells) {
  word value = 0;
  for (std::uint32_t i = 0; i < cells; ++i)
    value = value << 32 | be32(p + 4 * i);
  return value;
}
bool starts_with(const char* text, const char* prefix) {
  for (; *prefix != '\0'; ++text, ++prefix) {
    if (*text != *prefix) return false;
  }
  return true;
}
bool equals(const char* a, const char* b) {
  for (; *a != '\0' && *a == *b; ++a, ++b) {
  }
  return *a == *b;
}

// The first range of the first /memory node (root #address-cells and #size-cells apply).
void read_device_tree(const unsigned char* fdt) {
  if (be32(fdt) != kFdtMagic) panic("no device tree at the start of RAM");
  const unsigned char* structure = fdt + be32(fdt + 8);
  const auto* strings = reinterpret_cast<const char*>(fdt + be32(fdt + 12));
  std::uint32_t address_cells = 2, size_cells = 1;
  int depth = 0;
  bool in_memory = false;
  for (const unsigned char* p = structure;;) {
    std::uint32_t token = be32(p);
    p += 4;
    if (token == kBeginNode) {
      const auto* name = reinterpret_cast<const char*>(p);
      std::size_t length = 0;
      while (name[length] != '\0')
        ++length;
      p += align_up(length + 1, 4);
      ++depth;
      in_memory = depth == 2 && starts_with(name, "memory");
    } else if (token == kEndNode) {
      --depth;
      in_memory = false;
    } else if (token == kProperty) {
      std::uint32_t length = be32(p);
      const char* name = strings + be32(p + 4);
      const unsigned char* value = p + 8;
      p += 8 + align_up(length, 4);
      if (depth == 1 && equals(name, "#address-cells")) address_cells = be32(value);
      if (depth == 1 && equals(name, "#size-cells")) size_cells = be32(value);
      if (in_memory && equals(name, "reg") && length >= 4 * (address_cells + size_cells)) {
        ram_base_ = be_cells(value, address_cells);
        ram_size_ = be_cells(value + 4 * address_cells, size_cells);
        return;
      }
    } else if (token != kNop) {
      break;
    }
  }
  panic("the device tree has no memory node");
}

}  // namespace

namespace {

// The devices the kernel and the root task use, through the checked reader (ukernel/fdt.hpp).
// A blob it refuses leaves platform_read_ false: the kernel then keeps QEMU virt's GIC
// constants and reports no MSI frame and no PCI host, and says why on the console.
void read_platform(const unsigned char* fdt, word bytes) {
  fdt::Blob blob;
  fdt::Error e = fdt::Blob::open(fdt, bytes, blob);
  if (e == fdt::Error::kOk) e = fdt::read_platform(blob, platform_);
  platform_read_ = e == fdt::Error::kOk;
  if (!platform_read_) {
    print("device tree: ", fdt::describe(e),
          "; no MSI frame and no PCI host, GIC at QEMU virt's addresses\n");
  }
}

// The blob lies below the image (QEMU: at the start of RAM, the image 2 MiB above).
constexpr word kDeviceTreeMaxBytes = 0x200000;

}  // namespace

const fdt::Platform* platform() {
  return platform_read_ ? &platform_ : nullptr;
}

void memory_init() {
  const auto* fdt = static_cast<const unsigned char*>(physical_to_virtual(kRamBase));
  read_device_tree(fdt);
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
