# The AArch64 parts of the bare-metal image functions (cmake/baremetal-image.cmake). An image
# boots with `qemu-system-aarch64 -M virt -kernel NAME.elf` (see docs/aarch64.md).
include_guard(GLOBAL)
set(UKERNEL_IMAGE_ARCH aarch64 CACHE INTERNAL "")
set(UKERNEL_IMAGE_LINK_OPTIONS "" CACHE INTERNAL "")
set(UKERNEL_USER_COMPILE_OPTIONS "" CACHE INTERNAL "")
# User programs bring their own memcpy & co (the kernel's string.S).
set(UKERNEL_USER_EXTRA_SOURCES ${UKERNEL_AARCH64_STRING_SOURCE} CACHE INTERNAL "")
include(${CMAKE_CURRENT_LIST_DIR}/baremetal-image.cmake)
