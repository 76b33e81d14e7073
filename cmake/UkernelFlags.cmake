# Compiler flags shared by every target of the project, and by the servers and images that users
# build with the package's functions (cmake/UkernelFunctions.cmake; installed with the package).
#
# ukernel_kernel_code(TARGET): kernel and server code: no exceptions, no RTTI, strict warnings.
# ukernel_warnings(TARGET): the warning set for any project code (tests included).
#
# Warnings are errors in ukernel's own code only: a user's project (PROJECT_NAME is the calling
# directory's project) gets the same warnings, and decides for itself whether they fail its build.
include_guard(GLOBAL)

function(ukernel_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow)
  if(PROJECT_NAME STREQUAL "ukernel")
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(ukernel_kernel_code target)
  ukernel_warnings(${target})
  target_compile_options(${target} PRIVATE
    -Wconversion -Wsign-conversion
    $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti>)
endfunction()
