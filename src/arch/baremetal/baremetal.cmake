# What the bare-metal back-ends (src/arch/x86_64, src/arch/aarch64) share: the code in this
# directory and the way each back-end's targets are set up.
#
# A back-end's CMakeLists includes this file and calls ukernel_baremetal_backend(). The shared
# sources are compiled into each back-end's targets, against that back-end's headers: its
# include/arch/ comes first and this directory's include/arch/ second, so every back-end provides
# the per-architecture headers at the same path (arch/console.hpp, arch/context.hpp, ...) and the
# shared ones are found once, here.
set(UKERNEL_BAREMETAL_DIR ${CMAKE_CURRENT_LIST_DIR})

# ukernel_baremetal_backend(<name> <VAR> SOURCES <source>...)
#
# Defines, for the back-end in the calling directory (ukernel_<name> and ukernel_<name>_kernel):
#   ukernel_<name>         the back-end (OBJECT library, so that every object, the boot entry in
#                          particular, ends up in each image that links it): SOURCES plus the
#                          shared kernel-side sources;
#   ukernel_<name>_kernel  the kernel core on this back-end: the core's sources, the glue from the
#                          trap handlers to core::handle_* and kernel_main() booting the root task
#                          an image embeds (root_task.cpp of the back-end);
#   ukernel_<name>_trace, ukernel_<name>_trace_kernel  the same, compiled with the kernel trace
#                          (images made with TRACE ON; docs/tracing.md);
# and, for the images (cmake/<name>-image.cmake), the cache variables UKERNEL_<VAR>_LINKER_SCRIPT,
# UKERNEL_<VAR>_ROOT_IMAGE_TEMPLATE, UKERNEL_<VAR>_USER_DIR, UKERNEL_<VAR>_USER_RUNTIME (the
# shared user runtime; with UKERNEL_<VAR>_STRING_SOURCE, the back-end's memcpy & co) and
# UKERNEL_<VAR>_INCLUDE_DIR (the header directories of user programs: <arch/user.hpp>).
function(ukernel_baremetal_backend name var)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "" "" "SOURCES")
  set(dir ${CMAKE_CURRENT_SOURCE_DIR})
  set(include_dirs ${dir}/include ${UKERNEL_BAREMETAL_DIR}/include)

  # Two variants of both libraries, told apart by which arch/trace_build.hpp they find (a file per
  # variant, no macro): "" records no trace (Machine::kTrace false: the recording points compile to
  # nothing), "_trace" records one into a ring it dumps at power-off (trace_ring.cpp). An image
  # picks one (ukernel_baremetal_kernel_image's TRACE); the trace variant is compiled only for
  # the images that ask for it.
  foreach(variant "" "_trace")
    if(variant STREQUAL "")
      set(trace_dir ${UKERNEL_BAREMETAL_DIR}/trace_off)
    else()
      set(trace_dir ${UKERNEL_BAREMETAL_DIR}/trace_on)
    endif()
    set(backend ukernel_${name}${variant})
    add_library(${backend} OBJECT ${ARG_SOURCES}
      ${UKERNEL_BAREMETAL_DIR}/console.cpp
      ${UKERNEL_BAREMETAL_DIR}/runtime.cpp
      ${UKERNEL_BAREMETAL_DIR}/string.cpp)
    # Installed, the header folders keep their roles (cmake/UkernelInstall.cmake installs the
    # trace-off variant only, its arch/trace_build.hpp beside the bare-metal headers).
    target_include_directories(${backend} PUBLIC
      $<BUILD_INTERFACE:${dir}/include>
      $<BUILD_INTERFACE:${UKERNEL_BAREMETAL_DIR}/include>
      $<BUILD_INTERFACE:${trace_dir}>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/ukernel/backend/${name}>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/ukernel/backend/baremetal>
      PRIVATE ${dir})
    target_link_libraries(${backend} PUBLIC ukernel_abi)
    ukernel_kernel_code(${backend})
    target_compile_options(${backend} PRIVATE ${UKERNEL_KERNEL_ONLY_FLAGS})
    # Images link with LTO (cmake/<name>-image.cmake), so every kernel object is compiled for it.
    # Fat LTO objects carry machine code beside GCC's intermediate form: the package's users link
    # them with LTO under this GCC, and still link them without LTO (or with another GCC version,
    # whose LTO reader refuses this one's intermediate form) from the machine code.
    set_property(TARGET ${backend} PROPERTY INTERPROCEDURAL_OPTIMIZATION ON)
    target_compile_options(${backend} PRIVATE -ffat-lto-objects)

    add_library(${backend}_kernel OBJECT
      ${UKERNEL_CORE_SOURCES}
      ${UKERNEL_BAREMETAL_DIR}/core_entry.cpp
      ${UKERNEL_BAREMETAL_DIR}/kernel_main.cpp
      ${UKERNEL_BAREMETAL_DIR}/trace_ring.cpp
      ${dir}/root_task.cpp)
    target_include_directories(${backend}_kernel PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${backend}_kernel PUBLIC ${backend})
    ukernel_kernel_code(${backend}_kernel)
    target_compile_options(${backend}_kernel PRIVATE ${UKERNEL_KERNEL_ONLY_FLAGS})
    set_property(TARGET ${backend}_kernel PROPERTY INTERPROCEDURAL_OPTIMIZATION ON)
    target_compile_options(${backend}_kernel PRIVATE -ffat-lto-objects)
  endforeach()

  # check_at_root_exit() (arch/root_task.hpp), one variant per image: nothing, or the core's
  # invariant checker (the hostile image; ukernel_baremetal_kernel_image's INVARIANTS option).
  add_library(ukernel_${name}_root_exit_plain OBJECT ${UKERNEL_BAREMETAL_DIR}/root_exit_plain.cpp)
  add_library(ukernel_${name}_root_exit_invariants OBJECT
    ${UKERNEL_BAREMETAL_DIR}/root_exit_invariants.cpp
    ${PROJECT_SOURCE_DIR}/src/core/debug/invariants.cpp)
  foreach(variant plain invariants)
    target_include_directories(ukernel_${name}_root_exit_${variant} PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(ukernel_${name}_root_exit_${variant} PUBLIC ukernel_${name})
    ukernel_kernel_code(ukernel_${name}_root_exit_${variant})
    target_compile_options(ukernel_${name}_root_exit_${variant} PRIVATE ${UKERNEL_KERNEL_ONLY_FLAGS})
    set_property(TARGET ukernel_${name}_root_exit_${variant} PROPERTY
      INTERPROCEDURAL_OPTIMIZATION ON)
    target_compile_options(ukernel_${name}_root_exit_${variant} PRIVATE -ffat-lto-objects)
  endforeach()

  set(UKERNEL_${var}_LINKER_SCRIPT ${dir}/linker.ld
      CACHE INTERNAL "linker script of the ${name} kernel images")
  set(UKERNEL_${var}_ROOT_IMAGE_TEMPLATE ${dir}/root_image.S.in
      CACHE INTERNAL "per-image embedding of the root task")
  set(UKERNEL_${var}_USER_DIR ${dir}/user
      CACHE INTERNAL "${name} user runtime and linker script")
  set(UKERNEL_${var}_USER_RUNTIME
      ${UKERNEL_BAREMETAL_DIR}/user/runtime.cpp ${UKERNEL_BAREMETAL_DIR}/string.cpp
      CACHE INTERNAL "${name} user runtime sources (with the back-end's string source)")
  set(UKERNEL_${var}_INCLUDE_DIR ${include_dirs}
      CACHE INTERNAL "${name} back-end headers (<arch/user.hpp> for user programs)")
endfunction()
