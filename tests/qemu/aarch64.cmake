# AArch64 QEMU scenario tests (included from tests/qemu/CMakeLists.txt, which defines
# ukernel_qemu_test and the expected lines both architectures share). Each boots an image from
# build/aarch64/targets/aarch64/ under -M virt and checks QEMU's exit status and the serial output
# (tests/qemu/run-qemu.sh aarch64). A missing image fails the test: it never skips.

ukernel_qemu_test(aarch64 qemu.aarch64.boot_smoke boot-smoke.elf
  PRINTED "ukernel aarch64 boot-smoke"
  EXPECT
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

ukernel_qemu_test(aarch64 qemu.aarch64.kernel_panic panic-smoke.elf
  STATUS 65
  EXPECT
    "PANIC: EL1 exception: synchronous ESR=0x9600004f EC=0x25 FAR=0xffff0000402"
    "backtrace")

# A kernel stack overflow hits the guard page (a level-3 translation fault) and is reported from
# the panic stack.
ukernel_qemu_test(aarch64 qemu.aarch64.kernel_stack_overflow overflow-smoke.elf
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
# which the scenario prints as "skip:" lines). Once with the IPC fast path, once without,
# and once on QEMU's max CPU.
set(UKERNEL_AARCH64_SCENARIO_LINES
  ${UKERNEL_QEMU_SCENARIO_IPC_LINES}
  "ok: acceptance: write to kernel memory"
  "ok: acceptance: wfi"
  "ok: acceptance: device registers without a mapping"
  "ok: acceptance: mask interrupts (msr daifset)"
  "ok: acceptance: 4 faults reported to the supervisor"
  "ok: acceptance: the system keeps running (IPC after the faults)"
  "ok: faults: undefined instruction"
  "ok: faults: breakpoint"
  "ok: faults: bad capability address"
  "skip: ioports: "
  "ok: device: BootInfo lists a device untyped covering the PL031 RTC (0x09010000), after the RAM ones"
  "ok: device: retype a 4 KiB frame from it: FramePhysicalAddress refuses it (not a DMA frame)"
  "device: PL031 part 0x31, designer 0x41, cell ID 0xb105f00d"
  "ok: device: map it, read the PrimeCell IDs: part 0x031, designer ARM, cell 0xb105f00d"
  "ok: device: retype device memory into an endpoint or CNode: kInvalidArgument"
  "ok: device: a device frame as an IPC buffer: kInvalidArgument"
  "ok: device: RAM untyped still makes endpoints and zeroed frames"
  "ok: device: an 8 KiB DMA frame from RAM tells its address (aligned, in RAM), device untyped makes none: kInvalidArgument"
  "ok: device: map it uncached, write and read back, unmap and delete it"
  "ok: irq: claim line 2 (PL031 RTC), bind a notification with badge 0x100"
  "ok: irq: the RTC's match interrupt arrives as the notification, badge 0x100"
  "ok: irq: no second interrupt before the ack (the device raised it, the line stayed masked)"
  "ok: irq: ack: the pending interrupt arrives"
  "ok: irq: delete the handler: the line is released and can be claimed again"
  "skip: acceptance: inb without an I/O port capability (AArch64 has no I/O ports"
  "skip: acceptance: divide by zero (AArch64 integer division by zero returns 0 and does not trap"
  "scenario: 54 of 54 checks passed"
  "root task: exit 0")
# On QEMU's `max` CPU too: PAN, pointer authentication, BTI, ...
ukernel_qemu_scenario_tests(aarch64 EXPECT ${UKERNEL_AARCH64_SCENARIO_LINES})

# The system image on AArch64 (targets/aarch64/CMakeLists.txt, built from the x86-64 system's
# sources): the root task loads the name service, the hello server and a client from the image's
# boot modules into address spaces of their own; the client reaches hello through the name
# service; a truncated module is refused by name; two threads of one space each reach their own
# IPC buffer (TPIDRRO_EL0).
ukernel_qemu_test(aarch64 qemu.aarch64.system_image system-image.elf
  PRINTED "boot modules: "
  EXPECT
    ${UKERNEL_QEMU_SYSTEM_IMAGE_LINES}
    "root task: exit 0")  # the number of failed checks: 0

# FP/SIMD state per thread (targets/common/user/fpu_root.cpp).
ukernel_qemu_test(aarch64 qemu.aarch64.fpu kernel-fpu.elf EXPECT ${UKERNEL_QEMU_FPU_LINES})
# MSI-X end to end on virt (targets/common/user/msix_root.cpp): BootInfo::pci from the device
# tree, the root task assigns the BARs from the `ranges` windows (no firmware did), and the
# completion arrives through the GICv2m frame on MSI line 48 (SPI 48, INTID 80).
ukernel_qemu_test(aarch64 qemu.aarch64.msix_virtio_blk msix-virtio-blk.elf
  RUNNER ${CMAKE_CURRENT_LIST_DIR}/run-msix.sh
  PRINTED "PCI: ECAM 0x4010000000, 32-bit window 0x10000000+0x2eff0000, 64-bit window 0x8000000000+0x8000000000; MSI lines from 48 (GICv2m 0x8020040)"
  EXPECT
    "msix: ECAM 0x4010000000 buses 0..255, window 0x10000000 +0x2eff0000, firmware assigned 0"
    ${UKERNEL_MSIX_FIND_LINES}
    "ok: msix: BARs assigned from the bridge's windows"
    ${UKERNEL_MSIX_LINES})

# The hostile root task on AArch64 (tests/qemu/CMakeLists.txt says what it does).
ukernel_qemu_test(aarch64 qemu.aarch64.hostile hostile.elf
  PRINTED "hostile: seed " EXPECT ${UKERNEL_QEMU_HOSTILE_LINES})
# Grants refused by the kernel on virt (targets/common/user/grants_root.cpp; the lines are in
# tests/qemu/CMakeLists.txt): the root task places the two functions' BARs itself.
ukernel_qemu_test(aarch64 qemu.aarch64.grants grants.elf
  QEMU_ARGS ${UKERNEL_GRANTS_QEMU_ARGS}
  EXPECT
    ${UKERNEL_GRANTS_FIND_LINE}
    "ok: grants: their BARs placed in the bridge's windows"
    ${UKERNEL_GRANTS_LINES})

# The example system on AArch64 (examples/system/aarch64/): the same scenario and expected lines
# as on hosted and x86-64, typed at the PL011 console driver by build/aarch64/run-system.
add_test(NAME qemu.aarch64.system_scenario
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/run-system-scenario.sh
    ${PROJECT_SOURCE_DIR}/build/aarch64/run-system
    ${PROJECT_SOURCE_DIR}/tests/system/scenario.txt
    ${PROJECT_SOURCE_DIR}/tests/system/scenario.expected
    $<TARGET_FILE:scenario_check>
    ${CMAKE_CURRENT_BINARY_DIR}/aarch64-system-scenario.serial.log)
set_tests_properties(qemu.aarch64.system_scenario PROPERTIES
  TIMEOUT 120
  LABELS qemu
  ENVIRONMENT "UKERNEL_SYSTEM_TIMEOUT=100")

# The file system against the Linux tools on AArch64 (tests/qemu/run-system-fs.sh, as on x86-64):
# the disk is virtio-blk-pci on virt's PCIe, its BARs assigned by the PCI server from the device
# tree's windows, its interrupts MSI-X through the GICv2m frame.
add_test(NAME qemu.aarch64.system_fs
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/run-system-fs.sh
    ${PROJECT_SOURCE_DIR}/build/aarch64/run-system
    $<TARGET_FILE:scenario_check>
    ${CMAKE_CURRENT_BINARY_DIR}/aarch64-system-fs)
set_tests_properties(qemu.aarch64.system_fs PROPERTIES
  TIMEOUT 150
  LABELS qemu
  ENVIRONMENT "UKERNEL_SYSTEM_TIMEOUT=130")

# A machine without what the kernel needs is refused by name: QEMU virt's own devicetree with the
# timer node deleted (dumped by this QEMU, edited with dtc; never checked in) makes the kernel
# panic with the reason and semihosting exit status 65 before anything else runs.
find_program(UKERNEL_QEMU_AARCH64 qemu-system-aarch64 REQUIRED)
find_program(UKERNEL_DTC dtc REQUIRED)
set(virt_dts ${CMAKE_CURRENT_BINARY_DIR}/aarch64/virt.dts)
set(no_timer_dtb ${CMAKE_CURRENT_BINARY_DIR}/aarch64/virt-without-timer.dtb)
add_custom_command(OUTPUT ${no_timer_dtb}
  COMMAND ${UKERNEL_QEMU_AARCH64} -M virt -cpu cortex-a57 -m 128M
          -machine dumpdtb=${virt_dts}.dtb -display none
  COMMAND ${UKERNEL_DTC} -q -I dtb -O dts -o ${virt_dts} ${virt_dts}.dtb
  COMMAND sed -i "/^\\ttimer {/,/^\\t};/d" ${virt_dts}
  COMMAND ${UKERNEL_DTC} -q -I dts -O dtb -o ${no_timer_dtb} ${virt_dts}
  COMMENT "QEMU virt's devicetree without its timer node"
  VERBATIM)
add_custom_target(virt_without_timer_dtb ALL DEPENDS ${no_timer_dtb})
ukernel_qemu_test(aarch64 qemu.aarch64.dtb_without_timer boot-smoke.elf
  STATUS 65
  QEMU_ARGS -dtb ${no_timer_dtb}
  EXPECT "PANIC: devicetree has no arm,armv8-timer (the kernel's clock)")
