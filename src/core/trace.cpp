// The trace's out-of-line recording: only reached when a ring is attached (Trace::enabled()),
// so the untraced kernel entries never read the registers recorded here.
#include "core/kernel.hpp"
#include "core/thread.hpp"

namespace ukernel::core {

void Trace::record_event(const TraceEvent& event) {
  TraceEvent& slot = buffer_[count_ % capacity_];
  slot = event;
  slot.time_ns = Machine::now_ns();
  // Written as the back-end wants them compared across runs (hosted: a host address inside a
  // server image, which moves with ASLR, relative to its image), while the image is still there.
  slot.a = Machine::trace_word(event.a);
  slot.b = Machine::trace_word(event.b);
  slot.c = Machine::trace_word(event.c);
  slot.d = Machine::trace_word(event.d);
  ++count_;
}

void trace_syscall_registers(const Thread& t, word number) {
  kernel().trace.record(TraceKind::kSyscall, t.id, number, t.context.get(SysReg::kCap),
                        t.context.get(SysReg::kInfo), t.context.get(SysReg::kMr0));
}

void trace_fastpath_registers(const Thread& from, word number, const Thread& to) {
  Trace& trace = kernel().trace;
  trace.record(TraceKind::kFastpath, from.id, number, from.context.get(SysReg::kCap),
               from.context.get(SysReg::kInfo), from.context.get(SysReg::kMr0));
  trace.record(TraceKind::kDirectSwitch, from.id, from.id, to.id);
}

void trace_result_registers(const Thread& t) {
  kernel().trace.record(TraceKind::kResult, t.id, t.context.get(SysReg::kStatus),
                        t.context.get(SysReg::kInfo), t.context.get(SysReg::kBadge),
                        t.context.get(SysReg::kMr0));
}

}  // namespace ukernel::core
