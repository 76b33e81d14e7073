# ukernel_x86_64_image(NAME SOURCES...): links a bootable x86-64 kernel image NAME.elf from the
# back-end (ukernel_x86_64) plus SOURCES, which provide ukernel::x86::kernel_main(). The result
# boots with `qemu-system-x86_64 -kernel NAME.elf` (PVH entry, see docs/x86_64.md).
function(ukernel_x86_64_image name)
  add_executable(${name} ${ARGN})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf"
    LINK_DEPENDS ${UKERNEL_X86_64_LINKER_SCRIPT})
  target_link_libraries(${name} PRIVATE ukernel_x86_64)
  target_link_options(${name} PRIVATE -T ${UKERNEL_X86_64_LINKER_SCRIPT}
    # The .boot segment (32-bit code, early page tables) is RWX by design.
    -Wl,--no-warn-rwx-segments)
  ukernel_kernel_code(${name})
endfunction()
