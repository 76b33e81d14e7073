# The bare-metal image functions, one copy for every back-end. A back-end's module
# (cmake/<arch>-image.cmake) sets the few things that differ and includes this one:
#   UKERNEL_IMAGE_ARCH            the back-end (x86_64, aarch64): its libraries ukernel_<arch> and
#                                 ukernel_<arch>_kernel, and the UKERNEL_<ARCH>_* cache variables of
#                                 src/arch/<arch>/CMakeLists.txt (linker script, user runtime...)
#   UKERNEL_IMAGE_LINK_OPTIONS    extra link options of a kernel image
#   UKERNEL_USER_COMPILE_OPTIONS  extra compile options of a user program
#   UKERNEL_USER_EXTRA_SOURCES    extra sources of every user program
# A build tree holds one bare-metal back-end, so the functions need no architecture in their name.
# The settings are cache variables, not directory ones: the functions are called from any
# directory, this project's or (add_subdirectory, FetchContent, find_package) a user's.
include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/UkernelFlags.cmake)
string(TOUPPER ${UKERNEL_IMAGE_ARCH} _ukernel_arch)
set(UKERNEL_IMAGE_LINKER_SCRIPT ${UKERNEL_${_ukernel_arch}_LINKER_SCRIPT} CACHE INTERNAL "")
set(UKERNEL_IMAGE_ROOT_TEMPLATE ${UKERNEL_${_ukernel_arch}_ROOT_IMAGE_TEMPLATE} CACHE INTERNAL "")
set(UKERNEL_USER_DIR ${UKERNEL_${_ukernel_arch}_USER_DIR} CACHE INTERNAL "")
set(UKERNEL_USER_INCLUDE_DIR ${UKERNEL_${_ukernel_arch}_INCLUDE_DIR} CACHE INTERNAL "")
set(UKERNEL_USER_RUNTIME ${UKERNEL_${_ukernel_arch}_USER_RUNTIME} CACHE INTERNAL "")

# ukernel_baremetal_image(NAME SOURCES...): links a bootable kernel image NAME.elf from the
# back-end (ukernel_<arch>) plus SOURCES, which provide the back-end's kernel_main() (see
# docs/<arch>.md for how QEMU boots it).
function(ukernel_baremetal_image name)
  _ukernel_baremetal_image(${name} "" ${ARGN})
endfunction()

# The same, on the back-end's VARIANT ("" or "_trace": src/arch/baremetal/baremetal.cmake).
function(_ukernel_baremetal_image name variant)
  add_executable(${name} ${ARGN})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf"
    LINK_DEPENDS ${UKERNEL_IMAGE_LINKER_SCRIPT})
  target_link_libraries(${name} PRIVATE ukernel::${UKERNEL_IMAGE_ARCH}${variant})
  # The kernel only: user programs may use FP/SIMD. Also at link time, where LTO compiles.
  target_compile_options(${name} PRIVATE ${UKERNEL_KERNEL_ONLY_FLAGS})
  target_link_options(${name} PRIVATE -T ${UKERNEL_IMAGE_LINKER_SCRIPT}
    ${UKERNEL_IMAGE_LINK_OPTIONS} ${UKERNEL_KERNEL_ONLY_FLAGS})
  # Link-time optimisation across core and back-end (kernel(), the trace, the entry glue).
  set_property(TARGET ${name} PROPERTY INTERPROCEDURAL_OPTIMIZATION ON)
  ukernel_kernel_code(${name})
endfunction()

# ukernel_baremetal_user_program(NAME SOURCES...): a user-mode program NAME (an ELF executable
# linked at kRootImageBase, arch/user.hpp) from SOURCES plus the user runtime; it includes
# ukernel/syscall.hpp and <arch/user.hpp>, and defines `extern "C" word user_main(word)`.
function(ukernel_baremetal_user_program name)
  add_executable(${name} ${ARGN}
    ${UKERNEL_USER_DIR}/start.S
    ${UKERNEL_USER_RUNTIME}
    ${UKERNEL_USER_EXTRA_SOURCES})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf"
    LINK_DEPENDS ${UKERNEL_USER_DIR}/user.ld)
  target_include_directories(${name} PRIVATE ${UKERNEL_USER_INCLUDE_DIR})
  target_link_libraries(${name} PRIVATE ukernel::abi)
  target_compile_options(${name} PRIVATE ${UKERNEL_USER_COMPILE_OPTIONS})
  target_link_options(${name} PRIVATE -T ${UKERNEL_USER_DIR}/user.ld)
  ukernel_kernel_code(${name})
endfunction()

# ukernel_baremetal_kernel_image(NAME ROOT user-program-target [FASTPATH ON|OFF] [TRACE ON|OFF]
#                                [INVARIANTS]):
# a kernel image NAME.elf with the kernel core that boots the user program ROOT as its root task,
# with the IPC fast path on (default) or off, and with the kernel trace compiled in, recorded and
# dumped at power-off (TRACE ON; docs/tracing.md) or not at all (default). INVARIANTS: when the
# root task exits, the kernel checks its invariants (src/arch/baremetal/root_exit_invariants.cpp;
# a test image's option).
function(ukernel_baremetal_kernel_image name)
  cmake_parse_arguments(ARG "INVARIANTS" "ROOT;FASTPATH;TRACE" "" ${ARGN})
  set(variant "")
  if(ARG_TRACE)
    set(variant "_trace")
  endif()
  if(NOT DEFINED ARG_FASTPATH OR ARG_FASTPATH)
    set(FASTPATH 1)
  else()
    set(FASTPATH 0)
  endif()
  get_target_property(root_dir ${ARG_ROOT} BINARY_DIR)
  set(ROOT_ELF ${root_dir}/${ARG_ROOT}.elf)
  set(root_source ${CMAKE_CURRENT_BINARY_DIR}/${name}-root.S)
  configure_file(${UKERNEL_IMAGE_ROOT_TEMPLATE} ${root_source} @ONLY)
  set_source_files_properties(${root_source} PROPERTIES OBJECT_DEPENDS ${ROOT_ELF})
  _ukernel_baremetal_image(${name} "${variant}" ${root_source})
  target_link_libraries(${name} PRIVATE ukernel::${UKERNEL_IMAGE_ARCH}${variant}_kernel)
  if(ARG_INVARIANTS)
    target_link_libraries(${name} PRIVATE ukernel::${UKERNEL_IMAGE_ARCH}_root_exit_invariants)
  else()
    target_link_libraries(${name} PRIVATE ukernel::${UKERNEL_IMAGE_ARCH}_root_exit_plain)
  endif()
  add_dependencies(${name} ${ARG_ROOT})
endfunction()

# ukernel_baremetal_server(NAME SOURCES...): a server program NAME for a system image: a user
# program whose SOURCES define `extern "C" void ukernel_image_main(word arg)`, the same entry a
# hosted server image has (include/ukernel/hosted/image.hpp), so one source serves both.
function(ukernel_baremetal_server name)
  ukernel_baremetal_user_program(${name} ${ARGN} ${UKERNEL_USER_DIR}/image_start.cpp)
endfunction()

# ukernel_baremetal_system_image(NAME ROOT root-target [SERVERS target...] [FILES path...]
#                                [FASTPATH ON|OFF]):
# one bootable image NAME.elf holding the kernel, the root task ROOT (loaded by the kernel) and
# every program of SERVERS (targets made with ukernel_baremetal_server) and FILES (any file,
# e.g. a deliberately broken ELF) as boot modules named after the target, or after the file
# without its extension. Servers are stripped before they go in. The root task finds the archive
# through BootInfo::modules_vaddr (format: include/ukernel/boot_modules.hpp).
function(ukernel_baremetal_system_image name)
  # ROOT and FASTPATH go to ukernel_baremetal_kernel_image unchanged.
  cmake_parse_arguments(ARG "" "" "SERVERS;FILES" ${ARGN})
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${name}-modules)
  set(names)
  set(paths)
  foreach(server IN LISTS ARG_SERVERS)
    set(stripped ${dir}/${server}.elf)
    add_custom_command(OUTPUT ${stripped}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
      COMMAND ${CMAKE_OBJCOPY} --strip-all $<TARGET_FILE:${server}> ${stripped}
      DEPENDS ${server} $<TARGET_FILE:${server}>
      COMMENT "Stripping ${server} for ${name}"
      VERBATIM)
    list(APPEND names ${server})
    list(APPEND paths ${stripped})
  endforeach()
  foreach(file IN LISTS ARG_FILES)
    get_filename_component(module ${file} NAME_WE)
    list(APPEND names ${module})
    list(APPEND paths ${file})
  endforeach()

  # The archive: header, table, then each module on its own pages.
  list(LENGTH names count)
  set(table "")
  set(data "")
  set(index 0)
  foreach(module path IN ZIP_LISTS names paths)
    string(LENGTH "${module}" length)
    if(length GREATER_EQUAL 32)
      message(FATAL_ERROR "boot module name '${module}' is longer than 31 characters")
    endif()
    string(APPEND table
      "1:      .ascii \"${module}\"\n"
      "        .fill UKERNEL_MODULE_NAME_BYTES - (. - 1b), 1, 0\n"
      "        .quad module_${index} - modules_start, module_${index}_end - module_${index}\n")
    string(APPEND data
      "        .balign 4096\n"
      "module_${index}:\n"
      "        .incbin \"${path}\"\n"
      "module_${index}_end:\n")
    math(EXPR index "${index} + 1")
  endforeach()
  # %progbits, not @progbits: `@` starts a comment in AArch64 assembly; GAS takes `%` everywhere.
  set(source ${CMAKE_CURRENT_BINARY_DIR}/${name}-modules.S)
  file(CONFIGURE OUTPUT ${source} CONTENT
"// Generated by ukernel_baremetal_system_image() (cmake/baremetal-image.cmake): the boot modules
// of ${name} (format: include/ukernel/boot_modules.hpp).
#include \"ukernel/boot_modules.hpp\"
        .section .modules, \"a\"
        .balign 4096
modules_start:
        .quad UKERNEL_MODULES_MAGIC, ${count}
${table}${data}        .balign 4096

        .section .note.GNU-stack, \"\", %progbits
")
  set_source_files_properties(${source} PROPERTIES OBJECT_DEPENDS "${paths}")
  add_custom_target(${name}-modules DEPENDS ${paths})

  ukernel_baremetal_kernel_image(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_sources(${name} PRIVATE ${source})
  add_dependencies(${name} ${name}-modules)
endfunction()
