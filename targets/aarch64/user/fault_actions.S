// What the scenario's fault-test thread does, one action per restart (the root task restarts it
// at one of these entry points after each fault). Each faulting instruction has a global label
// (the entry itself, or *_insn after set-up instructions), so that the root task can check the
// reported instruction pointer. Should an action not fault, the thread calls kAbort with code
// 0xbad, which the root task reports as a wrong fault kind.
        .text
        .globl fault_write_kernel, fault_write_kernel_insn, fault_wfi, fault_mmio, fault_mmio_insn
        .globl fault_daif, fault_undefined, fault_breakpoint, fault_bad_capability

fault_write_kernel:                     // data abort, kMemoryAccess at the kernel's text
        ldr x0, =0xffff000040200000
fault_write_kernel_insn:
        str x1, [x0]
        b not_faulted

fault_wfi:                              // trapped WFI (SCTLR_EL1.nTWI = 0), kProtection
        wfi
        b not_faulted

fault_mmio:                             // data abort, kMemoryAccess: the UART is not mapped
        ldr x0, =0x09000000
fault_mmio_insn:
        ldr w1, [x0]
        b not_faulted

fault_daif:                             // trapped MSR (SCTLR_EL1.UMA = 0), kProtection
        msr daifset, #2
        b not_faulted

fault_undefined:                        // undefined instruction, kIllegalInstruction
        udf #0

fault_breakpoint:                       // BRK, kBreakpoint
        brk #0
        b not_faulted

fault_bad_capability:                   // kCapability: slot 100 is outside the thread's CSpace
        mov x0, #7                      // Syscall::kSignal
        mov x1, #100
        mov x2, #0
        svc #0
        b not_faulted

not_faulted:
        mov x0, #11                     // Syscall::kAbort
        mov x1, #0
        mov x2, #1
        mov x4, #0xbad
        svc #0
        udf #1
        .ltorg

        .section .note.GNU-stack, "", %progbits
