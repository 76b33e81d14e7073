// A stand-in for a back-end's user side, for fuzzing code that only reads and writes message
// words (the RPC dispatcher): one IPC buffer, and no system calls.
#pragma once

#include <cstdlib>

#include "ukernel/abi.hpp"

namespace ukernel::arch {

using UserFrame = word*;
inline constexpr std::size_t kUserMessageRegisters = 4;

inline IpcBuffer* user_ipc_buffer() {
  static IpcBuffer buffer;
  return &buffer;
}
inline UserFrame user_frame() {
  std::abort();
}  // the fuzzed code makes no system calls
inline void user_trap(UserFrame) {
  std::abort();
}
inline void* user_pointer(word, std::size_t) {
  return nullptr;
}

}  // namespace ukernel::arch
