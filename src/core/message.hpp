// Typed access to a thread's message words, wherever they live: the first kMessageRegisters in
// its saved registers, the rest in its IPC buffer.
#pragma once

#include "core/kernel.hpp"
#include "core/thread.hpp"

namespace ukernel::core {

inline word get_mr(const Thread& t, std::size_t i) {
  if (i < kMessageRegisters) return t.context.get(SysReg(unsigned(SysReg::kMr0) + i));
  return t.buffer()->msg[i];
}

inline void set_mr(Thread& t, std::size_t i, word value) {
  if (i < kMessageRegisters) {
    t.context.set(SysReg(unsigned(SysReg::kMr0) + i), value);
  } else {
    t.buffer()->msg[i] = value;
  }
}

// How many message words `t` can hold (registers only, without an IPC buffer).
inline std::size_t message_capacity(const Thread& t) {
  return t.buffer() != nullptr ? kMaxMessageWords : kMessageRegisters;
}

inline MessageInfo get_info(const Thread& t) {
  return MessageInfo(t.context.get(SysReg::kInfo));
}

// The arguments of an invocation: the caller's message words, checked against the count the
// invocation needs before any is read.
class InvocationArgs {
 public:
  explicit InvocationArgs(const Thread& t) : thread_(t), count_(get_info(t).length()) {
    if (count_ > message_capacity(t)) count_ = message_capacity(t);
  }
  bool has(std::size_t n) const { return count_ >= n; }
  word operator[](std::size_t i) const { return get_mr(thread_, i); }

 private:
  const Thread& thread_;
  std::size_t count_;
};

// Sets the reply of an invocation: status plus `length` result words (already written with
// set_mr).
inline void set_invocation_reply(Thread& t, Error status, std::size_t length) {
  t.context.set(SysReg::kStatus, word(status));
  t.context.set(SysReg::kInfo, MessageInfo(0, status == Error::kOk ? length : 0).raw());
  t.context.set(SysReg::kBadge, 0);
  trace_result(t);
}

}  // namespace ukernel::core
