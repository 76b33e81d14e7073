// The hosted driver: boots the core on simulated memory and runs fibers until idle.
#include "ukernel/hosted/simulation.hpp"

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>

#include "state.hpp"
#include "ukernel/hosted/devices.hpp"

namespace ukernel::hosted {

namespace {
using arch::hosted;
constexpr std::size_t kTraceCapacity = 1u << 20;
bool g_active = false;
}  // namespace

Simulation::Simulation(const SimulationConfig& config) {
  if (g_active) {
    std::fprintf(stderr, "hosted: only one Simulation may exist at a time\n");
    std::abort();
  }
  g_active = true;
  arch::HostedState& s = hosted();
  s = arch::HostedState{};
  if (config.memory_bytes > kDeviceWindowBase - arch::Machine::kPhysicalBase) {
    std::fprintf(stderr, "hosted: %zu bytes of RAM reach the device window at 0x%llx\n",
                 config.memory_bytes, static_cast<unsigned long long>(kDeviceWindowBase));
    std::abort();
  }
  void* memory = mmap(nullptr, config.memory_bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) {
    std::perror("hosted: physical memory");
    std::abort();
  }
  s.memory = static_cast<std::byte*>(memory);
  s.memory_bytes = config.memory_bytes;
  s.rng = config.seed;
  s.preempt_one_in = config.preempt_one_in;
  s.echo_console = config.echo_console;
  s.syscall_cost_ns = config.syscall_cost_ns;
  s.root_abi_version = config.root_abi_version;
  core::reset_kernel();
  core::kernel().fastpath_enabled = config.fastpath;
  if (config.trace) s.trace.resize(kTraceCapacity);
  arch::install_fault_handlers();
  // The machine's own devices, in the device window like any model (a driver needs their frame).
  if (!attach_platform_devices()) {
    std::fprintf(stderr, "hosted: cannot attach the console and timer models\n");
    std::abort();
  }
  // Armed from the start: interrupts raised before run() count too.
  if (config.faults != nullptr) arch::arm_faults(s, *config.faults);
}

Simulation::~Simulation() {
  arch::HostedState& s = hosted();
  arch::remove_fault_handlers();
  arch::disarm_faults(s);
  arch::free_all_fibers();
  core::reset_kernel();
  munmap(s.memory, s.memory_bytes);
  s = arch::HostedState{};
  g_active = false;
}

RunResult Simulation::run(Entry root, std::uint64_t limit_ns) {
  arch::HostedState& s = hosted();
  bool fastpath = core::kernel().fastpath_enabled;
  core::MemoryRegion region{arch::Machine::kPhysicalBase, s.memory_bytes};
  constexpr std::size_t kDevices = std::size(kDeviceRegions);
  core::MemoryRegion devices[kDevices];
  for (std::size_t i = 0; i < kDevices; ++i)
    devices[i] = {kDeviceRegions[i].base, kDeviceRegions[i].bytes};
  core::BootConfig config{};
  config.root_abi_version = s.root_abi_version;
  config.regions = &region;
  config.region_count = 1;
  config.device_regions = devices;
  config.device_region_count = kDevices;
  config.root_entry = entry_address(root);
  config.root_stack = 0;
  config.ipc_buffer_vaddr = kRootIpcBufferAddress;
  config.boot_info_vaddr = kRootBootInfoAddress;
  // The ECAM host bridge model (ecam.cpp) answers at kEcamAddress when a test or ukernel-system
  // attaches it; nothing runs before the kernel, so the PCI server assigns the BARs.
  config.pci = {.ecam_paddr = kEcamAddress,
                .ecam_size = kEcamBytes,
                .bus_first = 0,
                .bus_last = kEcamBytes / (word{1} << 20) - 1,
                .mmio_paddr = kDeviceBarBase,
                .mmio_size = kDeviceBarBytes,
                .mmio64_paddr = 0,
                .mmio64_size = 0,
                .firmware_assigned = 0};
  if (!core::boot(config)) {
    // A root task of another ABI is the caller's to report (console() holds the kernel's
    // reason); any other boot failure is a broken configuration of this back-end.
    if (s.root_abi_version != kAbiVersion) return RunResult::kBootRefused;
    std::fprintf(stderr, "hosted: boot failed:\n%s", s.console.c_str());
    std::abort();
  }
  core::kernel().fastpath_enabled = fastpath;
  if (!s.trace.empty()) core::kernel().trace.attach(s.trace.data(), s.trace.size());
  return drive(limit_ns);
}

RunResult Simulation::resume(std::uint64_t limit_ns) {
  return drive(limit_ns);
}

RunResult Simulation::drive(std::uint64_t limit_ns) {
  arch::HostedState& s = hosted();
  s.limit_ns = limit_ns;
  s.stop_ns = limit_ns != 0 ? limit_ns : ~std::uint64_t{0};
  s.quiescent = false;
  arch::dispatch(nullptr);
  return s.quiescent ? RunResult::kIdle : RunResult::kTimeLimit;
}

void Simulation::raise_irq(unsigned line, std::uint64_t at_ns) {
  arch::HostedState& s = hosted();
  if (line >= arch::Machine::kIrqLines) {
    std::fprintf(stderr, "hosted: raise_irq: line %u does not exist (0..%u)\n", line,
                 arch::Machine::kIrqLines - 1);
    std::abort();
  }
  arch::schedule_event(s, at_ns, line);
}

std::uint64_t Simulation::now_ns() const {
  return hosted().now_ns;
}
const std::string& Simulation::console() const {
  return hosted().console;
}

const std::string& Simulation::fault_log() const {
  return arch::fault_log();
}

std::size_t Simulation::trace_events() const {
  return core::kernel().trace.recorded();
}

std::vector<TraceRecord> Simulation::trace_records() const {
  const core::Trace& trace = core::kernel().trace;
  std::size_t count = trace.recorded() < trace.capacity() ? trace.recorded() : trace.capacity();
  std::vector<TraceRecord> out;
  out.reserve(count);
  for (std::size_t i = trace.recorded() - count; i < trace.recorded(); ++i) {
    const core::TraceEvent& e = trace.buffer()[i % trace.capacity()];
    out.push_back({e.time_ns, std::uint32_t(e.kind), e.thread, e.a, e.b, e.c, e.d});
  }
  return out;
}

std::string Simulation::trace_text() const {
  return hosted::trace_text(trace_records());
}

}  // namespace ukernel::hosted
