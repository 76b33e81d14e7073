# ukernel_aarch64_image(NAME SOURCES...): links a bootable AArch64 kernel image NAME.elf from the
# back-end (ukernel_aarch64) plus SOURCES, which provide ukernel::aarch64::kernel_main(). The
# result boots with `qemu-system-aarch64 -M virt -kernel NAME.elf` (see docs/aarch64.md).
function(ukernel_aarch64_image name)
  add_executable(${name} ${ARGN})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf"
    LINK_DEPENDS ${UKERNEL_AARCH64_LINKER_SCRIPT})
  target_link_libraries(${name} PRIVATE ukernel_aarch64)
  target_link_options(${name} PRIVATE -T ${UKERNEL_AARCH64_LINKER_SCRIPT})
  # Link-time optimisation across core and back-end (kernel(), the trace, the entry glue).
  set_property(TARGET ${name} PROPERTY INTERPROCEDURAL_OPTIMIZATION ON)
  ukernel_kernel_code(${name})
endfunction()

# ukernel_aarch64_user_program(NAME SOURCES...): an EL0 program NAME (an ELF executable linked
# at kRootImageBase, arch/user.hpp) from SOURCES plus the user runtime; it includes
# ukernel/syscall.hpp and <arch/user.hpp>, and defines `extern "C" word user_main(word)`.
function(ukernel_aarch64_user_program name)
  add_executable(${name} ${ARGN}
    ${UKERNEL_AARCH64_USER_DIR}/start.S
    ${UKERNEL_AARCH64_STRING_SOURCE})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf"
    LINK_DEPENDS ${UKERNEL_AARCH64_USER_DIR}/user.ld)
  target_include_directories(${name} PRIVATE ${UKERNEL_AARCH64_INCLUDE_DIR})
  target_link_libraries(${name} PRIVATE ukernel_abi)
  target_link_options(${name} PRIVATE -T ${UKERNEL_AARCH64_USER_DIR}/user.ld)
  ukernel_kernel_code(${name})
endfunction()

# ukernel_aarch64_kernel_image(NAME ROOT user-program-target [FASTPATH ON|OFF]): a kernel image
# NAME.elf with the kernel core that boots the user program ROOT as its root task, with the IPC
# fast path on (default) or off.
function(ukernel_aarch64_kernel_image name)
  cmake_parse_arguments(ARG "" "ROOT;FASTPATH" "" ${ARGN})
  if(NOT DEFINED ARG_FASTPATH)
    set(ARG_FASTPATH ON)
  endif()
  if(ARG_FASTPATH)
    set(FASTPATH 1)
  else()
    set(FASTPATH 0)
  endif()
  get_target_property(root_dir ${ARG_ROOT} BINARY_DIR)
  set(ROOT_ELF ${root_dir}/${ARG_ROOT}.elf)
  set(root_source ${CMAKE_CURRENT_BINARY_DIR}/${name}-root.S)
  configure_file(${UKERNEL_AARCH64_ROOT_IMAGE_TEMPLATE} ${root_source} @ONLY)
  set_source_files_properties(${root_source} PROPERTIES OBJECT_DEPENDS ${ROOT_ELF})
  ukernel_aarch64_image(${name} ${root_source})
  target_link_libraries(${name} PRIVATE ukernel_aarch64_kernel)
  add_dependencies(${name} ${ARG_ROOT})
endfunction()
