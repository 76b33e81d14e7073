# Compiler flags shared by every target of the project.
#
# ukernel_kernel_code(TARGET): kernel and server code: no exceptions, no RTTI, strict warnings.
# ukernel_warnings(TARGET): the warning set for any project code (tests included).

function(ukernel_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Werror)
endfunction()

function(ukernel_kernel_code target)
  ukernel_warnings(${target})
  target_compile_options(${target} PRIVATE
    -Wconversion -Wsign-conversion
    $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti>)
endfunction()

if(UKERNEL_TARGET STREQUAL "hosted" AND UKERNEL_SANITIZE)
  # Every hosted test runs under ASan and UBSan; a UBSan report is a failure, not a warning.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
