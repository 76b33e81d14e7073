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
# and, for the images (cmake/<name>-image.cmake), the cache variables UKERNEL_<VAR>_LINKER_SCRIPT,
# UKERNEL_<VAR>_ROOT_IMAGE_TEMPLATE, UKERNEL_<VAR>_USER_DIR, UKERNEL_<VAR>_USER_RUNTIME (the
# shared user runtime; with UKERNEL_<VAR>_STRING_SOURCE, the back-end's memcpy & co) and
# UKERNEL_<VAR>_INCLUDE_DIR (the header directories of user programs: <arch/user.hpp>).
function(ukernel_baremetal_backend name var)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "" "" "SOURCES")
  set(dir ${CMAKE_CURRENT_SOURCE_DIR})
  set(include_dirs ${dir}/include ${UKERNEL_BAREMETAL_DIR}/include)

  add_library(ukernel_${name} OBJECT ${ARG_SOURCES}
    ${UKERNEL_BAREMETAL_DIR}/console.cpp
    ${UKERNEL_BAREMETAL_DIR}/runtime.cpp
    ${UKERNEL_BAREMETAL_DIR}/string.cpp)
  target_include_directories(ukernel_${name} PUBLIC ${include_dirs} PRIVATE ${dir})
  target_link_libraries(ukernel_${name} PUBLIC ukernel_abi)
  ukernel_kernel_code(ukernel_${name})
  # Images link with LTO (cmake/<name>-image.cmake), so every kernel object is compiled for it.
  set_property(TARGET ukernel_${name} PROPERTY INTERPROCEDURAL_OPTIMIZATION ON)

  add_library(ukernel_${name}_kernel OBJECT
    ${UKERNEL_CORE_SOURCES}
    ${UKERNEL_BAREMETAL_DIR}/core_entry.cpp
    ${UKERNEL_BAREMETAL_DIR}/kernel_main.cpp
    ${dir}/root_task.cpp)
  target_include_directories(ukernel_${name}_kernel PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(ukernel_${name}_kernel PUBLIC ukernel_${name})
  ukernel_kernel_code(ukernel_${name}_kernel)
  set_property(TARGET ukernel_${name}_kernel PROPERTY INTERPROCEDURAL_OPTIMIZATION ON)

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
    set_property(TARGET ukernel_${name}_root_exit_${variant} PROPERTY
      INTERPROCEDURAL_OPTIMIZATION ON)
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
