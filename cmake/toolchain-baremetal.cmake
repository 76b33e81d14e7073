# What the bare-metal toolchains (cmake/toolchain-<arch>.cmake, which include this file after
# naming their compilers) share: freestanding C and C++ with no exceptions, no RTTI, no hosted
# start-up or library, statically linked at a fixed address. UKERNEL_TOOLCHAIN_ARCH_FLAGS holds
# the architecture's own compiler flags; each toolchain file says why each flag is there.
# -mgeneral-regs-only is not here: it is the kernel's alone (UKERNEL_KERNEL_ONLY_FLAGS, added to
# the kernel's targets by src/arch/baremetal/baremetal.cmake and cmake/baremetal-image.cmake), so
# user programs and servers may use floating point and SIMD, whose state the kernel keeps per
# thread (docs/kernel.md, "Floating point and SIMD").
set(UKERNEL_KERNEL_ONLY_FLAGS -mgeneral-regs-only)
set(CMAKE_SYSTEM_NAME Generic)

# Compiler checks must not try to link a hosted program.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(_ukernel_freestanding
    "-g -ffreestanding -fno-pie ${UKERNEL_TOOLCHAIN_ARCH_FLAGS} -fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-common")
set(CMAKE_C_FLAGS_INIT "${_ukernel_freestanding}")
set(CMAKE_CXX_FLAGS_INIT
    "${_ukernel_freestanding} -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")
set(CMAKE_ASM_FLAGS_INIT "-fno-pie")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib -static -no-pie -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
