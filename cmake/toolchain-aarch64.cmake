# Toolchain for the freestanding AArch64 kernel images (preset aarch64): Debian's cross compiler
# (packages gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu), with the flags that make the code
# freestanding. Why each flag:
#   -ffreestanding -nostdlib      no hosted library; the kernel supplies memcpy & co itself
#   -fno-pie -no-pie              the kernel is linked at a fixed address (0xffff000040200000)
#   -mgeneral-regs-only           (kernel only) no FP/SIMD in the kernel, so a thread's V
#                                 registers stay live across kernel entries
#   -mno-outline-atomics         no calls to libgcc's __aarch64_* helpers (there is no libgcc)
#   -fno-omit-frame-pointer       the panic handler walks the x29 chain for its backtrace
#   -fno-asynchronous-unwind-tables  no .eh_frame: nothing unwinds
#   -g                            line numbers for addr2line and gdb (not loaded)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER /usr/bin/aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER /usr/bin/aarch64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER /usr/bin/aarch64-linux-gnu-gcc)

set(UKERNEL_TOOLCHAIN_ARCH_FLAGS "-mno-outline-atomics")
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-baremetal.cmake)
