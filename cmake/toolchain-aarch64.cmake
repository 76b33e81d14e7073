# Toolchain for the freestanding AArch64 kernel images (preset aarch64): Debian's cross compiler
# (packages gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu), with the flags that make the code
# freestanding. Why each flag:
#   -ffreestanding -nostdlib      no hosted library; the kernel supplies memcpy & co itself
#   -fno-pie -no-pie              the kernel is linked at a fixed address (0xffff000040200000)
#   -mgeneral-regs-only           no FP/SIMD in the kernel (user FP/SIMD state stays intact, and
#                                 CPACR_EL1 traps it anyway: no per-thread FP state yet)
#   -mno-outline-atomics         no calls to libgcc's __aarch64_* helpers (there is no libgcc)
#   -fno-omit-frame-pointer       the panic handler walks the x29 chain for its backtrace
#   -fno-asynchronous-unwind-tables  no .eh_frame: nothing unwinds
#   -g                            line numbers for addr2line and gdb (not loaded)
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER /usr/bin/aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER /usr/bin/aarch64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER /usr/bin/aarch64-linux-gnu-gcc)
# Compiler checks must not try to link a hosted program.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(_ukernel_freestanding
    "-g -ffreestanding -fno-pie -mgeneral-regs-only -mno-outline-atomics -fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-common")
set(CMAKE_C_FLAGS_INIT "${_ukernel_freestanding}")
set(CMAKE_CXX_FLAGS_INIT
    "${_ukernel_freestanding} -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")
set(CMAKE_ASM_FLAGS_INIT "-fno-pie")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib -static -no-pie -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
