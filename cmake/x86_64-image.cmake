# The x86-64 parts of the bare-metal image functions (cmake/baremetal-image.cmake). An image
# boots with `qemu-system-x86_64 -kernel NAME.elf` (PVH entry, see docs/x86_64.md).
include_guard(GLOBAL)
set(UKERNEL_IMAGE_ARCH x86_64 CACHE INTERNAL "")
# The .boot segment (32-bit code, early page tables) is RWX by design.
set(UKERNEL_IMAGE_LINK_OPTIONS -Wl,--no-warn-rwx-segments CACHE INTERNAL "")
# User code runs in the low 2 GiB: the small code model, not the kernel's.
set(UKERNEL_USER_COMPILE_OPTIONS -mcmodel=small CACHE INTERNAL "")
# User programs bring their own memcpy & co (the kernel's string.cpp).
set(UKERNEL_USER_EXTRA_SOURCES ${UKERNEL_X86_64_STRING_SOURCE} CACHE INTERNAL "")
include(${CMAKE_CURRENT_LIST_DIR}/baremetal-image.cmake)
