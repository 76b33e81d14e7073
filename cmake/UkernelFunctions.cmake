# The functions a user calls to build servers, root tasks and images (docs/package.md). The
# same file serves this tree, a project that adds it with add_subdirectory or FetchContent, and
# the installed package (ukernelConfig.cmake includes it). One configure builds one back-end,
# UKERNEL_TARGET (hosted, x86_64 or aarch64); each function does that back-end's thing.
#
#   ukernel_add_server(NAME SOURCES src... [INCLUDE_DIRECTORIES dir...] [LINK_LIBRARIES lib...])
#       A server program. SOURCES define `extern "C" void ukernel_image_main(ukernel::word arg)`.
#       hosted: a server image NAME.so (ukernel::hosted::Image loads a fresh copy per start);
#       bare metal: an ELF program NAME.elf for ukernel_add_image's SERVERS.
#   ukernel_add_host_program(NAME SOURCES src... [LINK_LIBRARIES lib...])   (hosted only)
#       An executable that runs systems in a ukernel::hosted::Simulation: a host test or a
#       hosted system runner. Server images resolve the system calls against it.
#   ukernel_add_root_task(NAME SOURCES src... [INCLUDE_DIRECTORIES dir...]
#                         [LINK_LIBRARIES lib...])                            (bare metal only)
#       The root task, an ELF program whose SOURCES define `extern "C" word user_main(word)`
#       (its argument is the BootInfo address).
#   ukernel_add_image(NAME ROOT root-task [SERVERS server...] [FILES path...]
#                     [FASTPATH ON|OFF])                                      (bare metal only)
#       One bootable image NAME.elf: the kernel, ROOT and every SERVER and FILE as boot modules
#       (ukernel/boot_modules.hpp), named after the target or the file without its extension.
#
# The bare-metal functions build on cmake/baremetal-image.cmake (ukernel_baremetal_*), which
# this tree's own images use; the hosted ones on cmake/hosted-image.cmake.
include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/UkernelFlags.cmake)
if(UKERNEL_TARGET STREQUAL "hosted")
  include(${CMAKE_CURRENT_LIST_DIR}/hosted-image.cmake)
else()
  include(${CMAKE_CURRENT_LIST_DIR}/${UKERNEL_TARGET}-image.cmake)
endif()

# Parses the common arguments into ARG_SOURCES, ARG_INCLUDE_DIRECTORIES, ARG_LINK_LIBRARIES;
# a call without SOURCES or with stray arguments is an error, not a silent ignore.
macro(_ukernel_parse_program function name)
  cmake_parse_arguments(ARG "" "" "SOURCES;INCLUDE_DIRECTORIES;LINK_LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "${function}(${name}): SOURCES is missing")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${function}(${name}): unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
endmacro()

macro(_ukernel_program_settings name)
  if(ARG_INCLUDE_DIRECTORIES)
    target_include_directories(${name} PRIVATE ${ARG_INCLUDE_DIRECTORIES})
  endif()
  if(ARG_LINK_LIBRARIES)
    target_link_libraries(${name} PRIVATE ${ARG_LINK_LIBRARIES})
  endif()
endmacro()

function(_ukernel_require_target function wanted)
  if(wanted STREQUAL "hosted" AND NOT UKERNEL_TARGET STREQUAL "hosted")
    message(FATAL_ERROR "${function}() builds for the hosted back-end; this configure builds "
      "'${UKERNEL_TARGET}' (use ukernel_add_root_task and ukernel_add_image)")
  elseif(wanted STREQUAL "bare-metal" AND UKERNEL_TARGET STREQUAL "hosted")
    message(FATAL_ERROR "${function}() builds bare-metal images; this configure builds 'hosted' "
      "(configure with the x86_64 or aarch64 toolchain file, or use ukernel_add_host_program)")
  endif()
endfunction()

function(ukernel_add_server name)
  _ukernel_parse_program(ukernel_add_server ${name} ${ARGN})
  if(UKERNEL_TARGET STREQUAL "hosted")
    ukernel_hosted_image(${name} ${ARG_SOURCES})
  else()
    ukernel_baremetal_server(${name} ${ARG_SOURCES})
  endif()
  _ukernel_program_settings(${name})
endfunction()

function(ukernel_add_host_program name)
  _ukernel_require_target(ukernel_add_host_program hosted)
  _ukernel_parse_program(ukernel_add_host_program ${name} ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ukernel::hosted)
  # Server images resolve the system-call entry points against the executable.
  set_target_properties(${name} PROPERTIES ENABLE_EXPORTS ON)
  ukernel_warnings(${name})
  _ukernel_program_settings(${name})
endfunction()

function(ukernel_add_root_task name)
  _ukernel_require_target(ukernel_add_root_task bare-metal)
  _ukernel_parse_program(ukernel_add_root_task ${name} ${ARGN})
  ukernel_baremetal_user_program(${name} ${ARG_SOURCES})
  _ukernel_program_settings(${name})
endfunction()

function(ukernel_add_image name)
  _ukernel_require_target(ukernel_add_image bare-metal)
  cmake_parse_arguments(ARG "" "ROOT;FASTPATH" "SERVERS;FILES" ${ARGN})
  if(NOT ARG_ROOT)
    message(FATAL_ERROR "ukernel_add_image(${name}): ROOT (the root task's target) is missing")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ukernel_add_image(${name}): unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  set(options ROOT ${ARG_ROOT})
  if(DEFINED ARG_FASTPATH)
    list(APPEND options FASTPATH ${ARG_FASTPATH})
  endif()
  if(ARG_SERVERS OR ARG_FILES)
    ukernel_baremetal_system_image(${name} ${options} SERVERS ${ARG_SERVERS} FILES ${ARG_FILES})
  else()
    ukernel_baremetal_kernel_image(${name} ${options})
  endif()
endfunction()
