# The example multiserver system (docs/example-system.md) on a bare-metal target, included by
# examples/system/<target>/CMakeLists.txt after it set UKERNEL_SYSTEM_PLATFORM to its own folder:
# the servers of examples/system/system.hpp as ELF programs from the same sources as the hosted
# images, with the platform folder's platform.hpp, uart.hpp and clock.hpp on their include path,
# and the supervisor as the root task of one bootable image, example-system.elf
# (build/<target>/run-system boots it).
set(UKERNEL_SYSTEM_SOURCES ${PROJECT_SOURCE_DIR}/examples)

function(ukernel_system_includes target)
  target_include_directories(${target} PRIVATE ${UKERNEL_SYSTEM_SOURCES}
    ${UKERNEL_SYSTEM_SOURCES}/system ${UKERNEL_SYSTEM_PLATFORM})
endfunction()

# Every server: named system_<name>, the boot module the root task looks for.
set(servers)
foreach(server names:system/images/names_image.cpp timer:timer/timer_server.cpp
    console:console/console_server.cpp hello:system/images/hello_image.cpp shell:shell/shell.cpp
    pci:pci/pci_server.cpp blk:blk/blk_server.cpp)
  string(REPLACE ":" ";" parts ${server})
  list(GET parts 0 name)
  list(GET parts 1 source)
  ukernel_baremetal_server(system_${name} ${UKERNEL_SYSTEM_SOURCES}/${source})
  ukernel_system_includes(system_${name})
  list(APPEND servers system_${name})
endforeach()
# The fs server, with the FAT32 library's sources (docs/storage.md); the shell names the file
# system's errors (fat32::describe) without the file system.
set(fat32 boot_sector.cpp fs_error.cpp names.cpp volume.cpp directory.cpp files.cpp tree.cpp
  repair.cpp)
list(TRANSFORM fat32 PREPEND ${UKERNEL_SYSTEM_SOURCES}/fs/fat32/)
ukernel_baremetal_server(system_fs ${UKERNEL_SYSTEM_SOURCES}/fs/fs_image.cpp
  ${UKERNEL_SYSTEM_SOURCES}/fs/server.cpp ${fat32})
ukernel_system_includes(system_fs)
list(APPEND servers system_fs)
target_sources(system_shell PRIVATE ${UKERNEL_SYSTEM_SOURCES}/fs/fat32/fs_error.cpp)

# The root task: boot + supervisor, and the image loader of targets/x86_64/system/ (shared by the
# bare-metal targets), with the target's user/ (arch_kit.hpp).
ukernel_baremetal_user_program(system-supervisor ${CMAKE_CURRENT_LIST_DIR}/main.cpp
  ${UKERNEL_SYSTEM_SOURCES}/supervisor/boot.cpp
  ${UKERNEL_SYSTEM_SOURCES}/supervisor/supervisor.cpp)
ukernel_system_includes(system-supervisor)
target_include_directories(system-supervisor PRIVATE
  ${PROJECT_SOURCE_DIR}/targets/x86_64/system ${PROJECT_SOURCE_DIR}/targets/${UKERNEL_TARGET}/user)

ukernel_baremetal_system_image(example-system ROOT system-supervisor SERVERS ${servers})
