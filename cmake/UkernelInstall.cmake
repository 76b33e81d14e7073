# What `cmake --install` puts in place (docs/package.md), for the back-end this configure builds.
# Configures for several back-ends may install into one prefix: the headers and the CMake code are
# the same for all, and each back-end adds its own libraries, back-end headers and export file
# (ukernel-<target>-targets.cmake); ukernelConfig.cmake picks the one of the consumer's configure.
#
#   include/ukernel/                         the public headers
#   include/ukernel/backend/<name>/arch/     the back-end's headers (<arch/user.hpp> & co)
#   lib/ukernel/<target>/                    the libraries (hosted: libukernel_hosted.a;
#                                            bare metal: the kernel's objects, fat LTO)
#   lib/cmake/ukernel/                       ukernelConfig.cmake, the version file, the export,
#                                            the functions, image assembly and toolchain files
#   share/ukernel/<target>/                  bare metal: linker scripts, the root-task template
#                                            and the user runtime's sources
include(CMakePackageConfigHelpers)

set(_ukernel_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/ukernel)
set(_ukernel_lib_dir ${CMAKE_INSTALL_LIBDIR}/ukernel/${UKERNEL_TARGET})
set(_ukernel_backend_include ${CMAKE_INSTALL_INCLUDEDIR}/ukernel/backend)
set(_ukernel_source ${PROJECT_SOURCE_DIR})

install(DIRECTORY ${_ukernel_source}/include/ukernel DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES
  ${_ukernel_source}/cmake/UkernelFlags.cmake
  ${_ukernel_source}/cmake/UkernelFunctions.cmake
  ${_ukernel_source}/cmake/hosted-image.cmake
  ${_ukernel_source}/cmake/baremetal-image.cmake
  ${_ukernel_source}/cmake/x86_64-image.cmake
  ${_ukernel_source}/cmake/aarch64-image.cmake
  ${_ukernel_source}/cmake/toolchain-baremetal.cmake
  ${_ukernel_source}/cmake/toolchain-x86_64.cmake
  ${_ukernel_source}/cmake/toolchain-aarch64.cmake
  DESTINATION ${_ukernel_cmake_dir})
install(PROGRAMS ${_ukernel_source}/cmake/check-freestanding.sh DESTINATION ${_ukernel_cmake_dir})

set(_ukernel_arch_dir ${_ukernel_source}/src/arch/${UKERNEL_TARGET})
install(DIRECTORY ${_ukernel_arch_dir}/include/arch
  DESTINATION ${_ukernel_backend_include}/${UKERNEL_TARGET})
if(UKERNEL_TARGET STREQUAL "hosted")
  install(TARGETS ukernel_abi ukernel_hosted_user ukernel_hosted EXPORT ukernel-hosted
    ARCHIVE DESTINATION ${_ukernel_lib_dir})
  set(UKERNEL_PACKAGE_SETTINGS "")
else()
  install(DIRECTORY ${_ukernel_source}/src/arch/baremetal/include/arch
    DESTINATION ${_ukernel_backend_include}/baremetal)
  # The trace-off variant only (a trace build of the kernel is this tree's test option); its
  # arch/trace_build.hpp goes beside the bare-metal headers.
  install(FILES ${_ukernel_source}/src/arch/baremetal/trace_off/arch/trace_build.hpp
    DESTINATION ${_ukernel_backend_include}/baremetal/arch)
  install(TARGETS ukernel_abi ukernel_${UKERNEL_TARGET} ukernel_${UKERNEL_TARGET}_kernel
    ukernel_${UKERNEL_TARGET}_root_exit_plain ukernel_${UKERNEL_TARGET}_root_exit_invariants
    EXPORT ukernel-${UKERNEL_TARGET}
    OBJECTS DESTINATION ${_ukernel_lib_dir})
  # What the image functions compile and link into every image and user program.
  set(_ukernel_share ${CMAKE_INSTALL_DATADIR}/ukernel/${UKERNEL_TARGET})
  install(FILES ${_ukernel_arch_dir}/linker.ld ${_ukernel_arch_dir}/root_image.S.in
    DESTINATION ${_ukernel_share})
  install(DIRECTORY ${_ukernel_arch_dir}/user DESTINATION ${_ukernel_share})
  install(FILES ${_ukernel_source}/src/arch/baremetal/user/runtime.cpp
    ${_ukernel_source}/src/arch/baremetal/string.cpp DESTINATION ${_ukernel_share}/runtime)
  string(TOUPPER ${UKERNEL_TARGET} _ukernel_var)
  set(_ukernel_string ${UKERNEL_${_ukernel_var}_STRING_SOURCE})
  get_filename_component(_ukernel_string_name ${_ukernel_string} NAME)
  install(FILES ${_ukernel_string} DESTINATION ${_ukernel_share}/runtime/${UKERNEL_TARGET})
  # The cache variables src/arch/baremetal/baremetal.cmake sets in this tree, pointing into the
  # prefix (the config's PACKAGE_PREFIX_DIR).
  set(_p "\${PACKAGE_PREFIX_DIR}/${_ukernel_share}")
  set(_i "\${PACKAGE_PREFIX_DIR}/${_ukernel_backend_include}")
  string(CONCAT UKERNEL_PACKAGE_SETTINGS
    "set(UKERNEL_${_ukernel_var}_LINKER_SCRIPT \"${_p}/linker.ld\" CACHE INTERNAL \"\")\n"
    "set(UKERNEL_${_ukernel_var}_ROOT_IMAGE_TEMPLATE \"${_p}/root_image.S.in\" CACHE INTERNAL \"\")\n"
    "set(UKERNEL_${_ukernel_var}_USER_DIR \"${_p}/user\" CACHE INTERNAL \"\")\n"
    "set(UKERNEL_${_ukernel_var}_USER_RUNTIME \"${_p}/runtime/runtime.cpp;${_p}/runtime/string.cpp\""
    " CACHE INTERNAL \"\")\n"
    "set(UKERNEL_${_ukernel_var}_STRING_SOURCE"
    " \"${_p}/runtime/${UKERNEL_TARGET}/${_ukernel_string_name}\" CACHE INTERNAL \"\")\n"
    "set(UKERNEL_${_ukernel_var}_INCLUDE_DIR \"${_i}/${UKERNEL_TARGET};${_i}/baremetal\""
    " CACHE INTERNAL \"\")\n")
endif()

install(EXPORT ukernel-${UKERNEL_TARGET} NAMESPACE ukernel::
  FILE ukernel-${UKERNEL_TARGET}-targets.cmake DESTINATION ${_ukernel_cmake_dir})

# One settings file per back-end, beside its export (the config includes the consumer's).
set(_ukernel_settings ${PROJECT_BINARY_DIR}/ukernel-${UKERNEL_TARGET}-settings.cmake.in)
file(WRITE ${_ukernel_settings}
  "# Generated by cmake/UkernelInstall.cmake: the ${UKERNEL_TARGET} back-end's settings.\n"
  "@PACKAGE_INIT@\n${UKERNEL_PACKAGE_SETTINGS}")
configure_package_config_file(${_ukernel_settings}
  ${PROJECT_BINARY_DIR}/ukernel-${UKERNEL_TARGET}-settings.cmake
  INSTALL_DESTINATION ${_ukernel_cmake_dir} NO_SET_AND_CHECK_MACRO NO_CHECK_REQUIRED_COMPONENTS_MACRO)
configure_package_config_file(${_ukernel_source}/cmake/ukernelConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ukernelConfig.cmake
  INSTALL_DESTINATION ${_ukernel_cmake_dir} NO_SET_AND_CHECK_MACRO)
# 0.x: a new minor version may change the ABI (ukernel/abi.hpp's kAbiVersion), so only the same
# minor version is compatible. The config picks the back-end itself, so it is architecture-
# independent.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ukernelConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/ukernelConfig.cmake
  ${PROJECT_BINARY_DIR}/ukernelConfigVersion.cmake
  ${PROJECT_BINARY_DIR}/ukernel-${UKERNEL_TARGET}-settings.cmake
  DESTINATION ${_ukernel_cmake_dir})
