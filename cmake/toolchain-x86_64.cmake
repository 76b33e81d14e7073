# Toolchain for the freestanding x86-64 kernel images (preset x86_64).
#
# The host GCC builds the kernel: x86-64 is the host architecture, so no cross compiler is needed,
# only the flags that make the code freestanding. Why each flag:
#   -ffreestanding -nostdlib      no hosted library; the kernel supplies memcpy & co itself
#   -mcmodel=kernel -fno-pie      the image runs in the top 2 GiB (0xffffffff80000000 + phys)
#   -mno-red-zone                 interrupts arrive on the kernel stack below the stack pointer
#   -mgeneral-regs-only           (kernel only) the kernel never touches x87/SSE/AVX state, so a
#                                 thread's FPU registers stay live across kernel entries
#   -fno-omit-frame-pointer       the panic handler walks the rbp chain for its backtrace
#   -fno-asynchronous-unwind-tables  no .eh_frame: nothing unwinds
#   -g                            line numbers for addr2line and gdb (not loaded: non-alloc sections)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(CMAKE_C_COMPILER /usr/bin/gcc)
set(CMAKE_CXX_COMPILER /usr/bin/g++)
set(CMAKE_ASM_COMPILER /usr/bin/gcc)

set(UKERNEL_TOOLCHAIN_ARCH_FLAGS "-mno-red-zone -mcmodel=kernel")
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-baremetal.cmake)
