# AArch64 QEMU scenario tests (included from tests/qemu/CMakeLists.txt). Each boots an image from
# build/aarch64/ under -M virt and checks QEMU's exit status and the serial output
# (tests/qemu/run-qemu-aarch64.sh). A missing image fails the test: it never skips.
set(UKERNEL_AARCH64_IMAGES ${PROJECT_SOURCE_DIR}/build/aarch64/targets/aarch64)
set(UKERNEL_QEMU_AARCH64_RUNNER ${CMAKE_CURRENT_SOURCE_DIR}/run-qemu-aarch64.sh)
# Logs of their own: the x86-64 tests' images have the same names (kernel-scenarios.elf, ...), and
# ctest -j may run both at once.
set(UKERNEL_QEMU_AARCH64_LOG_DIR ${CMAKE_CURRENT_BINARY_DIR}/aarch64)
file(MAKE_DIRECTORY ${UKERNEL_QEMU_AARCH64_LOG_DIR})

# ukernel_qemu_aarch64_test(NAME IMAGE [STATUS n] [CPU model] EXPECT line...): QEMU gets 50 s,
# ctest 60 s. CPU replaces the runner's cortex-a57.
function(ukernel_qemu_aarch64_test name image)
  cmake_parse_arguments(ARG "" "STATUS;CPU" "EXPECT" ${ARGN})
  set(status_args)
  if(DEFINED ARG_STATUS)
    set(status_args --status ${ARG_STATUS})
  endif()
  if(DEFINED ARG_CPU)
    list(APPEND status_args --cpu ${ARG_CPU})
  endif()
  add_test(NAME ${name}
    COMMAND ${UKERNEL_QEMU_AARCH64_RUNNER} ${status_args} 50 ${image} ${ARG_EXPECT})
  set_tests_properties(${name} PROPERTIES
    TIMEOUT 60
    LABELS qemu
    ENVIRONMENT "QEMU_LOG_DIR=${UKERNEL_QEMU_AARCH64_LOG_DIR}")
endfunction()

ukernel_qemu_aarch64_test(qemu.aarch64.boot_smoke ${UKERNEL_AARCH64_IMAGES}/boot-smoke.elf
  EXPECT
    "ukernel aarch64 boot-smoke"
    "irq: PL011 line 1 delivered through the GIC"
    "user: hello from EL0 via kDebugWrite"
    "user: EL0 wrote this line to the PL011 through a device mapping"
    "timer: 3 ticks preempted the spinning program"
    "fault: kind=memory addr=0xffff000040200000"
    "smoke: write to kernel memory reported"
    "smoke: wfi reported"
    "smoke: device registers without a mapping reported"
    "smoke: mask interrupts reported"
    "smoke: 4 faults reported"
    "smoke: undefined instruction reported"
    "smoke: brk reported"
    "smoke: execute on the stack (UXN) reported"
    "smoke: write to read-only code reported"
    "smoke: kernel-half ip reported"
    "smoke: 5 further checks passed")

ukernel_qemu_aarch64_test(qemu.aarch64.kernel_panic ${UKERNEL_AARCH64_IMAGES}/panic-smoke.elf
  STATUS 65
  EXPECT
    "PANIC: EL1 exception: synchronous ESR=0x9600004f EC=0x25 FAR=0xffff0000402"
    "backtrace")

# A kernel stack overflow hits the guard page (a level-3 translation fault) and is reported from
# the panic stack.
ukernel_qemu_aarch64_test(qemu.aarch64.kernel_stack_overflow
  ${UKERNEL_AARCH64_IMAGES}/overflow-smoke.elf
  STATUS 65
  EXPECT
    "PANIC: kernel stack overflow"
    "PANIC: EL1 exception: synchronous ESR=0x96000047 EC=0x25"
    "backtrace")

# The kernel core on AArch64, driven by the EL0 root task shared with x86-64
# (targets/common/user/scenario_root.cpp): IPC between two address spaces, notifications,
# capabilities, round-robin by the timer, device memory and a device interrupt (the PL031 RTC;
# targets/aarch64/user/device_checks.hpp), and the acceptance test (four faults of an EL0 program
# reported to its supervisor; two of x86's four have no AArch64 counterpart and are replaced,
# which the scenario prints as "skip:" lines). Once with the IPC fast path, once without.
set(UKERNEL_AARCH64_SCENARIO_LINES
  "ok: ipc: call/reply_recv, 0 words"
  "ok: ipc: call/reply_recv, 6 words (registers)"
  "ok: ipc: call/reply_recv, 7 words (IPC buffer)"
  "ok: ipc: call/reply_recv, 64 words"
  "ok: ipc: badges identify the caller"
  "ok: notify: wait returns the accumulated bits 0x5"
  "ok: caps: revoked copies: kInvalidCapability"
  "ok: timer: the timer preempts the root task for a peer thread"
  "ok: faults: undefined instruction"
  "ok: faults: breakpoint"
  "ok: faults: bad capability address"
  "ok: acceptance: write to kernel memory"
  "ok: acceptance: wfi"
  "ok: acceptance: device registers without a mapping"
  "ok: acceptance: mask interrupts (msr daifset)"
  "ok: acceptance: 4 faults reported to the supervisor"
  "ok: acceptance: the system keeps running (IPC after the faults)"
  "skip: acceptance: inb without an I/O port capability (AArch64 has no I/O ports"
  "skip: acceptance: divide by zero (AArch64 integer division by zero returns 0 and does not trap"
  "skip: ioports: "
  "ok: device: BootInfo lists a device untyped covering the PL031 RTC (0x09010000), after the RAM ones"
  "ok: device: retype a 4 KiB frame from it: FramePhysicalAddress 0x09010000"
  "device: PL031 part 0x31, designer 0x41, cell ID 0xb105f00d"
  "ok: device: map it, read the PrimeCell IDs: part 0x031, designer ARM, cell 0xb105f00d"
  "ok: device: retype device memory into an endpoint, untyped or CNode: kInvalidArgument"
  "ok: device: a device frame as an IPC buffer: kInvalidArgument"
  "ok: device: RAM untyped still makes endpoints and zeroed frames"
  "ok: irq: claim line 2 (PL031 RTC), bind a notification with badge 0x100"
  "ok: irq: the RTC's match interrupt arrives as the notification, badge 0x100"
  "ok: irq: no second interrupt before the ack (the device raised it, the line stayed masked)"
  "ok: irq: ack: the pending interrupt arrives"
  "ok: irq: delete the handler: the line is released and can be claimed again"
  "scenario: 52 of 52 checks passed"
  "root task: exit 0")
ukernel_qemu_aarch64_test(qemu.aarch64.kernel_scenarios
  ${UKERNEL_AARCH64_IMAGES}/kernel-scenarios.elf
  EXPECT "fast path on" ${UKERNEL_AARCH64_SCENARIO_LINES})
ukernel_qemu_aarch64_test(qemu.aarch64.kernel_scenarios_slowpath
  ${UKERNEL_AARCH64_IMAGES}/kernel-scenarios-slowpath.elf
  EXPECT "fast path off" ${UKERNEL_AARCH64_SCENARIO_LINES})
# The same image on QEMU's `max` CPU (every architecture extension QEMU has: PAN, pointer
# authentication, BTI, ...), which the back-end must not depend on or trip over.
ukernel_qemu_aarch64_test(qemu.aarch64.kernel_scenarios_cpu_max
  ${UKERNEL_AARCH64_IMAGES}/kernel-scenarios.elf CPU max
  EXPECT "fast path on" ${UKERNEL_AARCH64_SCENARIO_LINES})

# The system image on AArch64 (targets/aarch64/CMakeLists.txt, built from the x86-64 system's
# sources): the root task loads the name service, the hello server and a client from the image's
# boot modules into address spaces of their own; the client reaches hello through the name
# service; a truncated module is refused by name; two threads of one space each reach their own
# IPC buffer (TPIDRRO_EL0).
ukernel_qemu_aarch64_test(qemu.aarch64.system_image ${UKERNEL_AARCH64_IMAGES}/system-image.elf
  EXPECT
    "boot modules: "
    "ok: system: the module archive is valid"
    "ok: system: a boot module frame cannot be mapped writable"
    "ok: ipc buffers: 10 words each way between two threads of one space"
    "ok: ipc buffers: the peer sees its own buffer"
    "ok: ipc buffers: the root task still sees its own buffer"
    "loader: names_server: started"
    "loader: hello_server: started"
    "ok: system: \"hello\" registered with the name server"
    "loader: bad_hello: bad ELF: program headers run past the end of the file (truncated?)"
    "loader: no_such_module: no such boot module"
    "loader: hello_client: started"
    "client: hello Add(2, 40) = 42"
    "ok: client: Add(2, 40) through the name service is 42"
    "ok: system: the client finished and all its checks passed"
    "root task: exit 0")  # the number of failed checks: 0
