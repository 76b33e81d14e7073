# The hosted image function (used in this tree and installed with the package).
include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/UkernelFlags.cmake)

# ukernel_hosted_image(NAME SOURCES...): a server built as a hosted image (a shared object that
# Image::load_fresh loads afresh for every start). -fno-gnu-unique keeps it unloadable.
function(ukernel_hosted_image name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE ukernel::hosted_user)
  target_compile_options(${name} PRIVATE -fno-gnu-unique)
  set_target_properties(${name} PROPERTIES PREFIX "")
  ukernel_kernel_code(${name})
  # Servers are freestanding: their images may need nothing but the system-call entry points
  # (fmt, for logging, is the one library allowed on hosted); devices are reached by MMIO, whose
  # accesses are entry points too (ukernel::arch::mmio_read/mmio_write).
  add_test(NAME image.${name}.freestanding
    COMMAND ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check-freestanding.sh $<TARGET_FILE:${name}>)
endfunction()
