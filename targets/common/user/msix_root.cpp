// The MSI-X root task: a virtio-blk-pci function's interrupt, end to end through the kernel,
// without the example system (tests/qemu: qemu.<arch>.msix_virtio_blk).
//
// How this works: the root task maps bus 0 of the ECAM window (BootInfo::pci; its device
// untyped split down to the 1 MiB of the bus, then cut into frames), enumerates it with
// ukernel/pci.hpp and finds the virtio-blk function. It maps the function's memory BARs the
// same way (after assigning them from the bridge's window when no firmware did), claims the first
// interrupt line whose IrqHandlerMsiMessage answers (the wired lines refuse it), binds a
// notification to it, and brings the device up with the virtio-blk driver core
// (examples/blk/virtio_blk.hpp), which programs MSI-X entry 0 with the kernel's message. It reads
// sector 0 into a DMA frame, waits for the notification, and checks the bytes against the
// pattern the test wrote into the disk image (byte i of sector 0 is (i * 7 + 3) & 0xff). A
// second read completes while the line is still masked (before the ack): its message must be
// kept pending by the kernel and delivered when the ack unmasks the line.
// A hang (no interrupt) ends at the runner's timeout.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "blk/virtio_blk.hpp"
#include "log.hpp"
#include "pci_kit.hpp"
#include "root_kit.hpp"
#include "ukernel/caps.hpp"
#include "ukernel/mmio.hpp"
#include "ukernel/pci.hpp"
#include "ukernel/virtio/pci_layout.hpp"

namespace {

using namespace ukernel;
using user::hex;
using user::Line;

constexpr word kEcamMapping = 0x60000000;  // bus 0's 1 MiB
constexpr word kBarMapping = 0x61000000;   // each BAR's block, 16 MiB apart at most
constexpr word kDmaMapping = 0x62000000;
constexpr unsigned kDmaBits = 14;  // queue rings, request slots, one 4 KiB data buffer
constexpr word kVirtioVendor = 0x1af4;
constexpr word kVirtioBlkModern = 0x1042, kVirtioBlkTransitional = 0x1001;
constexpr word kIrqBadge = 0x1;

user::RootKit root;
user::Checks checks;

void report(bool ok, std::string_view what) {
  checks.report("msix", ok, what);
}

user::DeviceBlocks devices;

pci::Functions functions;
std::uint8_t config_copy[4096];
Mmio bar_windows[pci::kBars];
virtio_blk::VirtioBlk<Mmio> driver;

word run() {
  const BootInfo& info = *root.info;
  devices.add_boot(root);
  const BootInfo::PciHost& host = info.pci;
  {
    Line line;
    line << "msix: ECAM " << hex(host.ecam_paddr) << " buses " << host.bus_first << ".."
         << host.bus_last << ", window " << hex(host.mmio_paddr) << " +" << hex(host.mmio_size)
         << ", firmware assigned " << host.firmware_assigned;
    line.end();
  }
  report(host.ecam_size != 0 && host.mmio_size != 0, "BootInfo::pci names the ECAM and a window");
  bool ecam_mapped = host.ecam_size != 0 && devices.map(host.ecam_paddr, 20, kEcamMapping);
  report(ecam_mapped, "bus 0 of the ECAM window mapped from its device untyped");
  if (!ecam_mapped) return 1;
  auto bus = static_cast<std::uint8_t>(host.bus_first);
  user::EcamBus config{Mmio(kEcamMapping, word{1} << 20), bus};
  bool enumerated = pci::enumerate(config, bus, bus, functions) == pci::Error::kOk;
  pci::Function* blk = nullptr;
  for (std::size_t i = 0; enumerated && i < functions.count; ++i) {
    pci::Function& f = functions.items[i];
    if (f.vendor == kVirtioVendor &&
        (f.device == kVirtioBlkModern || f.device == kVirtioBlkTransitional))
      blk = &f;
  }
  report(blk != nullptr, "enumeration finds the virtio-blk function");
  if (blk == nullptr) return 1;
  {
    Line line;
    line << "msix: virtio-blk at 00:" << blk->address.device << "." << blk->address.function
         << ", MSI-X table of " << blk->msix.table_size << " in BAR " << blk->msix.table_bar;
    line.end();
  }
  if (host.firmware_assigned == 0) {
    pci::Windows windows;
    windows.memory32 = {host.mmio_paddr, host.mmio_paddr, host.mmio_size};
    windows.memory64 = {host.mmio64_paddr, host.mmio64_paddr, host.mmio64_size};
    report(pci::assign_bars(config, *blk, windows) == pci::Error::kOk,
           "BARs assigned from the bridge's windows");
  }
  pci::enable(config, blk->address);

  virtio::BarSizes sizes;
  virtio::BarWindows<Mmio> windows;
  bool bars_mapped = true;
  word vaddr = kBarMapping;
  for (unsigned i = 0; i < pci::kBars; ++i) {
    const pci::Bar& bar = blk->bars[i];
    if (bar.kind != pci::Bar::Kind::kMemory32 && bar.kind != pci::Bar::Kind::kMemory64) continue;
    unsigned bits = user::log2_at_least_page(bar.size);
    word block = bar.address & ~((word{1} << bits) - 1);
    bars_mapped = bars_mapped && devices.map(block, bits, vaddr);
    bar_windows[i] = Mmio(vaddr + (bar.address - block), bar.size);
    windows.bar[i] = &bar_windows[i];
    sizes.size[i] = bar.size;
    vaddr += word{1} << bits;
  }
  report(bars_mapped, "its memory BARs mapped from the window's device untyped");
  for (std::uint16_t at = 0; at < sizeof config_copy; at += 4) {
    std::uint32_t value = config.read32(blk->address, at);
    for (unsigned b = 0; b < 4; ++b)
      config_copy[at + b] = static_cast<std::uint8_t>(value >> (8 * b));
  }
  virtio::PciLayout layout;
  report(bars_mapped && virtio::parse_pci_layout(config_copy, sizeof config_copy, sizes, layout) ==
                            virtio::LayoutError::kOk,
         "virtio capabilities parsed");

  word line = 0, address = 0, data = 0;
  bool wired_refused = false;
  word handler = user::claim_msi_line(root, 0, line, address, data, wired_refused);
  {
    Line text;
    text << "msix: line " << line << " answers MSI message " << hex(address) << " data "
         << hex(data);
    text.end();
  }
  report(handler != 0 && wired_refused && line > 0,
         "the wired lines refuse IrqHandlerMsiMessage, the first MSI line answers");
  word notification = root.make(ObjectType::kNotification);
  word badged = root.mint(notification, Rights::kWrite, kIrqBadge);
  report(handler != 0 && badged != 0 && irq_set_notification(handler, badged) == Error::kOk,
         "a notification bound to the MSI line");

  word dma = root.slot();
  bool dma_ok = retype(root.untyped, ObjectType::kFrame, kDmaBits, kRootCNodeSlot, dma, 1,
                       FrameAttributes::kDma) == Error::kOk;
  Message where = invoke(dma, Invocation::kFramePhysicalAddress);
  dma_ok = dma_ok && where.ok() &&
           map_frame(kRootAddressSpaceSlot, dma, kDmaMapping, Rights::kRead | Rights::kWrite) ==
               Error::kOk;
  report(dma_ok, "a 16 KiB DMA frame for the rings, requests and data");
  if (!dma_ok || handler == 0) return 1;
  virtio::DmaRegion memory{reinterpret_cast<std::byte*>(kDmaMapping), message_word(where, 0),
                           word{1} << kDmaBits};
  virtio::DmaRegion queue_memory = memory.slice(0, 8192);
  virtio::DmaRegion request_memory = memory.slice(8192, 4096);
  virtio::DmaRegion sector = memory.slice(12288, 4096);
  for (std::size_t i = 0; i < sector.bytes; ++i)
    sector.cpu[i] = std::byte{0xee};

  report(pci::enable_msix(config, *blk) == pci::Error::kOk, "MSI-X enabled in config space");
  using Blk = virtio_blk::VirtioBlk<Mmio>;
  Blk::Interrupts interrupts{.queue_vector = 0,
                             .program_entry = true,
                             .msix_address = address,
                             .msix_data = static_cast<std::uint32_t>(data)};
  virtio_blk::Error up = driver.init(layout, windows, queue_memory, request_memory, interrupts);
  {
    Line text;
    text << "msix: driver init: " << virtio_blk::describe(up) << ", capacity "
         << driver.capacity_sectors() << " sectors";
    text.end();
  }
  report(up == virtio_blk::Error::kOk, "the virtio-blk driver core brings the device up");
  if (up != virtio_blk::Error::kOk) return 1;

  virtio::DmaRegion first = sector.slice(0, virtio_blk::kSectorBytes);
  report(driver.submit(virtio_blk::Operation::kRead, 0, first, 7) == virtio_blk::Error::kOk,
         "read of sector 0 submitted");
  Message woken = wait(notification);
  report(woken.ok() && woken.badge == kIrqBadge,
         "the device's MSI-X message arrives as the notification");
  virtio_blk::Completion done;
  bool completed = driver.next_completion(done) == virtio_blk::Error::kOk && done.tag == 7 &&
                   done.result == virtio_blk::Error::kOk;
  report(completed, "the read completed with status OK");
  bool same = completed;
  for (std::size_t i = 0; same && i < first.bytes; ++i)
    same = first.cpu[i] == static_cast<std::byte>((i * 7 + 3) & 0xff);
  report(same, "sector 0 holds the pattern the test wrote into the image");

  // The line stays masked until the ack: a second read's message arrives while it is, and the
  // kernel keeps it pending (no notification) and raises it on the ack.
  virtio::DmaRegion second = sector.slice(512, virtio_blk::kSectorBytes);
  bool submitted =
      driver.submit(virtio_blk::Operation::kRead, 0, second, 8) == virtio_blk::Error::kOk;
  bool finished = false;
  for (unsigned spin = 0; submitted && !finished && spin < 100'000'000; ++spin)
    finished = driver.next_completion(done) == virtio_blk::Error::kOk;
  Message early = poll(notification);
  report(finished && done.tag == 8 && early.ok() && early.badge == 0,
         "a second read completes while the line is masked: no notification yet");
  report(irq_ack(handler) == Error::kOk, "ack unmasks the line");
  Message late = wait(notification);
  report(late.ok() && late.badge == kIrqBadge,
         "the message that arrived while masked is delivered on the ack");
  return 0;
}

}  // namespace

extern "C" ukernel::word user_main(ukernel::word boot_info_address) {
  root.init(boot_info_address);
  (void)run();
  return checks.summarise("msix") == 0 ? 0 : 1;
}
