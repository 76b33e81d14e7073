# What every bare-metal target builds the same way (included from targets/<arch>/CMakeLists.txt,
# after cmake/<arch>-image.cmake): the smoke images, the kernel-core scenario and benchmark
# images and build/<arch>/run-bench, and the system image of targets/x86_64/system/
# (architecture-neutral: what differs comes from the target's user/arch_kit.hpp). Relative paths
# are the target's (user_program.S; user/: arch_kit.hpp, fault_cases.hpp, fault_actions.S).
set(UKERNEL_COMMON_USER_DIR ${CMAKE_CURRENT_LIST_DIR}/user)
set(UKERNEL_SMOKE_DIR ${CMAKE_CURRENT_LIST_DIR})

# ukernel_smoke_image(NAME SOURCES...): a kernel image without the kernel core, from SOURCES
# (targets/common/*_smoke.cpp, the target's own) and the target's smoke/target.hpp (the
# back-end's side of the shared sources).
function(ukernel_smoke_image name)
  ukernel_baremetal_image(${name} ${ARGN})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${UKERNEL_SMOKE_DIR})
endfunction()

# The back-end on its own: boot, user mode, system call, faults, timer, a device interrupt
# (boot_smoke.cpp with the target's user_program.S and smoke/target.hpp). And a kernel bug, a write
# to the kernel's code, which must panic with a register dump and exit status 65.
ukernel_smoke_image(boot-smoke ${UKERNEL_SMOKE_DIR}/boot_smoke.cpp user_program.S)
ukernel_smoke_image(panic-smoke ${UKERNEL_SMOKE_DIR}/kernel_bug_smoke.cpp
  ${UKERNEL_SMOKE_DIR}/panic_smoke.cpp)

# The kernel core: the scenario root task (targets/common/user/scenario_root.cpp), run with the
# IPC fast path on and off.
ukernel_baremetal_user_program(scenario-root ${UKERNEL_COMMON_USER_DIR}/scenario_root.cpp
  user/fault_actions.S)
target_include_directories(scenario-root PRIVATE user ${UKERNEL_COMMON_USER_DIR})
ukernel_baremetal_kernel_image(kernel-scenarios ROOT scenario-root)
ukernel_baremetal_kernel_image(kernel-scenarios-slowpath ROOT scenario-root FASTPATH OFF)
# The same scenario in a trace build: the kernel trace it dumps at power-off (through the debug
# console on x86-64, semihosting on AArch64) becomes Chrome JSON (scripts/trace-json; the
# qemu.<arch>.trace_json test).
ukernel_baremetal_kernel_image(kernel-scenarios-trace ROOT scenario-root TRACE ON)

# The FP/SIMD test (targets/common/user/fpu_root.cpp): threads doing FP and SIMD work under
# preemption, and restarted threads' FP state. No FMA contraction, so that every thread's
# arithmetic is the same instructions as the root task's reference run.
ukernel_baremetal_user_program(fpu-root ${UKERNEL_COMMON_USER_DIR}/fpu_root.cpp)
target_include_directories(fpu-root PRIVATE user ${UKERNEL_COMMON_USER_DIR})
target_compile_options(fpu-root PRIVATE -ffp-contract=off)
ukernel_baremetal_kernel_image(kernel-fpu ROOT fpu-root)
# MSI-X end to end (targets/common/user/msix_root.cpp): a virtio-blk-pci function found through
# the ECAM device untyped, read with the virtio-blk driver core, its completion raised by MSI-X on
# a kernel MSI line (tests/qemu/run-msix.sh gives QEMU the disk).
ukernel_baremetal_user_program(msix-root ${UKERNEL_COMMON_USER_DIR}/msix_root.cpp)
target_include_directories(msix-root PRIVATE user ${UKERNEL_COMMON_USER_DIR}
  ${PROJECT_SOURCE_DIR}/examples)
ukernel_baremetal_kernel_image(msix-virtio-blk ROOT msix-root)

# The hostile root task (targets/common/user/hostile_root.cpp, docs/fuzzing.md): seeded random
# system calls from user mode, then a short scenario; its kernel checks the core's invariants
# when the root task exits. `hostile` makes UKERNEL_HOSTILE_CALLS calls (the suite's
# qemu.<arch>.hostile), `hostile-million` 10^6 (scripts/hostile). The seed is a build setting
# too (the root task has no command line): cmake -DUKERNEL_HOSTILE_SEED=N.
set(UKERNEL_HOSTILE_SEED 1 CACHE STRING "seed of the hostile root task's random system calls")
set(UKERNEL_HOSTILE_CALLS 200000 CACHE STRING "system calls of the hostile image the suite runs")
foreach(variant IN ITEMS hostile hostile-million)
  ukernel_baremetal_user_program(${variant}-root ${UKERNEL_COMMON_USER_DIR}/hostile_root.cpp)
  target_include_directories(${variant}-root PRIVATE user ${UKERNEL_COMMON_USER_DIR})
  ukernel_baremetal_kernel_image(${variant} ROOT ${variant}-root INVARIANTS)
endforeach()
target_compile_definitions(hostile-root PRIVATE UKERNEL_HOSTILE_SEED=${UKERNEL_HOSTILE_SEED}
  UKERNEL_HOSTILE_CALLS=${UKERNEL_HOSTILE_CALLS})
target_compile_definitions(hostile-million-root PRIVATE
  UKERNEL_HOSTILE_SEED=${UKERNEL_HOSTILE_SEED} UKERNEL_HOSTILE_CALLS=1000000)
# Grants refused by the kernel (targets/common/user/grants_root.cpp): a driver thread holding
# one function's BAR frame and one MSI line, refused everything else (tests/qemu gives QEMU two
# virtio-rng-pci functions).
ukernel_baremetal_user_program(grants-root ${UKERNEL_COMMON_USER_DIR}/grants_root.cpp)
target_include_directories(grants-root PRIVATE user ${UKERNEL_COMMON_USER_DIR})
ukernel_baremetal_kernel_image(grants ROOT grants-root)

# The IPC benchmark (targets/common/user/bench_root.cpp), fast path on and off;
# build/<arch>/run-bench runs both under -icount and prints the figures (scripts/bench).
ukernel_baremetal_user_program(bench-root ${UKERNEL_COMMON_USER_DIR}/bench_root.cpp)
target_include_directories(bench-root PRIVATE user ${UKERNEL_COMMON_USER_DIR})
ukernel_baremetal_kernel_image(kernel-bench ROOT bench-root)
ukernel_baremetal_kernel_image(kernel-bench-slowpath ROOT bench-root FASTPATH OFF)
set(UKERNEL_BENCH_DIR ${CMAKE_CURRENT_BINARY_DIR})
set(UKERNEL_QEMU_RUNNER ${PROJECT_SOURCE_DIR}/tests/qemu/run-qemu.sh)
configure_file(${CMAKE_CURRENT_LIST_DIR}/run-bench.in ${PROJECT_BINARY_DIR}/run-bench
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
  WORLD_EXECUTE @ONLY)

# The system image: one bootable file with the kernel, a root task that loads programs from the
# image's boot modules, and the programs: the name service, the hello server built from
# examples/hello/hello_image.cpp (the hosted image's source), a client, and a truncated copy of
# the hello server that the loader must refuse.
set(UKERNEL_SYSTEM_DIR ${PROJECT_SOURCE_DIR}/targets/x86_64/system)
ukernel_baremetal_server(names_server ${UKERNEL_SYSTEM_DIR}/names_server.cpp)
ukernel_baremetal_server(hello_server ${PROJECT_SOURCE_DIR}/examples/hello/hello_image.cpp)
ukernel_baremetal_server(hello_client ${UKERNEL_SYSTEM_DIR}/hello_client.cpp)
foreach(program names_server hello_server hello_client)
  target_include_directories(${program} PRIVATE ${PROJECT_SOURCE_DIR}/examples)
endforeach()
ukernel_baremetal_user_program(system-root ${UKERNEL_SYSTEM_DIR}/system_root.cpp)
target_include_directories(system-root PRIVATE user)  # arch_kit.hpp
set(bad_hello ${CMAKE_CURRENT_BINARY_DIR}/bad_hello.elf)
add_custom_command(OUTPUT ${bad_hello}
  COMMAND head -c 120 $<TARGET_FILE:hello_server> > ${bad_hello}
  DEPENDS hello_server
  COMMENT "A truncated hello server (ELF header only) for the system image")
ukernel_baremetal_system_image(system-image ROOT system-root
  SERVERS names_server hello_server hello_client
  FILES ${bad_hello})
