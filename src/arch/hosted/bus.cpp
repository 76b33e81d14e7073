// The hosted machine's device bus: models attached to the device window, the Bus they reach
// the machine through, and the user side of an MMIO access (ukernel/mmio.hpp).
//
// How an MMIO access works: Mmio::read calls arch::mmio_read on the thread's own fiber. It
// translates the address through the current thread's page table, exactly as the MMU would;
// only a page mapped from a device frame (MemoryType::kDevice), with the rights the access needs,
// reaches the model attached at that physical address. Everything else (no mapping, RAM, a write
// to a read-only page, a misaligned access or a width other than 1/2/4/8) faults the thread with
// kMemoryAccess at that address, so its supervisor hears of it; a device page where no model is
// attached reads all ones and ignores writes, as an unclaimed PCI address does.
#include <cstdio>

#include "arch/user.hpp"
#include "core/address_space.hpp"
#include "state.hpp"
#include "ukernel/hosted/devices.hpp"

namespace ukernel::arch {

void schedule_event(HostedState& s, std::uint64_t at_ns, unsigned line,
                    std::function<void()> work) {
  if (s.faults != nullptr && line != kNoLine) [[unlikely]] {
    if (!fault_at_interrupt(s, line, at_ns)) return;
  }
  insert_event(s, at_ns, line, std::move(work));
}

void insert_event(HostedState& s, std::uint64_t at_ns, unsigned line, std::function<void()> work) {
  auto it = s.events.begin();
  while (it != s.events.end() && it->time_ns <= at_ns)
    ++it;
  s.events.insert(it, Event{at_ns, s.event_sequence++, line, std::move(work)});
}

namespace {

word all_ones(unsigned width) {
  return width == 8 ? ~word{0} : (word{1} << (8 * width)) - 1;
}

// The model and offset an access at `vaddr` reaches, or a fault (never returns).
struct Target {
  hosted::MmioDevice* device;  // nullptr: a device page with no model attached
  word offset;
};

Target device_target(word vaddr, unsigned width, Rights need, word ip) {
  HostedState& s = hosted();
  core::Thread* t = s.running != nullptr ? core::current() : nullptr;
  core::AddressSpace* as = t != nullptr ? t->address_space() : nullptr;
  bool width_ok = width == 1 || width == 2 || width == 4 || width == 8;
  if (as == nullptr || !width_ok || vaddr % width != 0)
    fault_current_thread(FaultKind::kMemoryAccess, vaddr, ip);
  HostedPageTable::Translation tr = as->page_table.translate(vaddr);
  if (tr.paddr == kNoPhysical || tr.type != MemoryType::kDevice || !has_rights(tr.rights, need))
    fault_current_thread(FaultKind::kMemoryAccess, vaddr, ip);
  for (const DeviceAttachment& a : s.devices) {
    if (tr.paddr >= a.base && tr.paddr - a.base < a.bytes) {
      word offset = tr.paddr - a.base;
      // An access that runs past the model's range reaches nothing (it cannot cross a page).
      return {a.bytes - offset >= width ? a.device : nullptr, offset};
    }
  }
  return {nullptr, 0};
}

class MachineBus final : public hosted::Bus {
 public:
  std::byte* dma(word address, std::size_t bytes) override {
    HostedState& s = hosted();
    if (address < Machine::kPhysicalBase) return nullptr;
    word offset = address - Machine::kPhysicalBase;
    if (offset > s.memory_bytes || bytes > s.memory_bytes - offset) return nullptr;
    return s.memory + offset;
  }
  std::uint64_t now_ns() const override { return hosted().now_ns; }
  void at(std::uint64_t at_ns, std::function<void()> work) override {
    HostedState& s = hosted();
    schedule_event(s, at_ns > s.now_ns ? at_ns : s.now_ns, kNoLine, std::move(work));
  }
  void msi(word address, std::uint32_t data) override {
    if (address == hosted::kMsiAddress && data < Machine::kIrqLines) {
      raise_line(data);
      return;
    }
    ++hosted().dropped_msis;
    std::fprintf(stderr,
                 "hosted bus: MSI write of 0x%x to 0x%llx dropped (doorbell 0x%llx, "
                 "lines 0..%u)\n",
                 data, static_cast<unsigned long long>(address),
                 static_cast<unsigned long long>(hosted::kMsiAddress), Machine::kIrqLines - 1);
  }
  void raise_line(unsigned line) override {
    if (line >= Machine::kIrqLines) {
      std::fprintf(stderr, "hosted bus: raise_line(%u): no such line (0..%u), dropped\n", line,
                   Machine::kIrqLines - 1);
      return;
    }
    HostedState& s = hosted();
    schedule_event(s, s.now_ns, line);
  }
};

MachineBus g_bus;

}  // namespace

// The access's "instruction pointer" is where the driver called it from.
[[gnu::noinline]] word mmio_read(word vaddr, unsigned width) {
  auto ip = reinterpret_cast<word>(__builtin_return_address(0));
  Target target = device_target(vaddr, width, Rights::kRead, ip);
  if (target.device == nullptr) return all_ones(width);
  HostedState& s = hosted();
  s.in_user = false;  // the model runs as the machine, not as the thread
  word value = target.device->read(target.offset, width) & all_ones(width);
  s.in_user = true;
  return value;
}

[[gnu::noinline]] void mmio_write(word vaddr, unsigned width, word value) {
  auto ip = reinterpret_cast<word>(__builtin_return_address(0));
  Target target = device_target(vaddr, width, Rights::kWrite, ip);
  if (target.device == nullptr) return;
  HostedState& s = hosted();
  s.in_user = false;
  target.device->write(target.offset, width, value & all_ones(width));
  s.in_user = true;
}

}  // namespace ukernel::arch

namespace ukernel::hosted {

bool attach_device(word base, word bytes, MmioDevice& device) {
  arch::HostedState& s = arch::hosted();
  if (bytes == 0 || base < kDeviceWindowBase || base - kDeviceWindowBase >= kDeviceWindowBytes ||
      bytes > kDeviceWindowBytes - (base - kDeviceWindowBase))
    return false;
  for (const arch::DeviceAttachment& a : s.devices) {
    if (base < a.base + a.bytes && a.base < base + bytes) return false;
  }
  s.devices.push_back({base, bytes, &device});
  return true;
}

bool detach_device(word base) {
  arch::HostedState& s = arch::hosted();
  return std::erase_if(s.devices,
                       [base](const arch::DeviceAttachment& a) { return a.base == base; }) != 0;
}

Bus& machine_bus() {
  return arch::g_bus;
}

std::uint64_t dropped_msis() {
  return arch::hosted().dropped_msis;
}

}  // namespace ukernel::hosted
