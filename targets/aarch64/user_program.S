// The EL0 program of the boot-smoke scenario. Position-independent (PC-relative only): the kernel
// copies [user_program_start, user_program_end) to a user page and starts it at user_entry with
// the action number in x0.
//   0: kDebugWrite a line, check the preserved registers and that integer division by zero
//      gives 0 without a trap, write a line to the UART through its device mapping at 0x600000,
//      then spin (the timer preempts it)
//   1: write to kernel memory            -> data abort         (kMemoryAccess)
//   2: wfi                               -> trapped WFI        (kProtection)
//   3: read the UART's registers         -> data abort         (kMemoryAccess: not mapped)
//   4: mask interrupts (msr daifset)     -> trapped MSR        (kProtection)
//   5: udf                               -> undefined          (kIllegalInstruction)
//   6: brk                               -> breakpoint         (kBreakpoint)
//   7: jump to the stack                 -> instruction abort  (kMemoryAccess: never executable)
//   8: write to its own code             -> data abort         (kMemoryAccess: code is read-only)
//   9: (started at a kernel-half address by the kernel)  -> instruction abort (kMemoryAccess)
// The user_fault_* labels mark the faulting instructions; the scenario checks the reported ip.
        .section .rodata.user_program, "a"
        .balign 16
        .globl user_program_start, user_program_end, user_entry
        .globl user_fault_write, user_fault_wfi, user_fault_mmio, user_fault_daif
        .globl user_fault_undefined, user_fault_brk, user_fault_code_write
user_program_start:
user_entry:
        cbz x0, hello
        cmp x0, #1
        b.eq write_kernel
        cmp x0, #2
        b.eq user_fault_wfi
        cmp x0, #3
        b.eq read_uart
        cmp x0, #4
        b.eq user_fault_daif
        cmp x0, #5
        b.eq user_fault_undefined
        cmp x0, #6
        b.eq user_fault_brk
        cmp x0, #7
        b.eq execute_stack
        cmp x0, #8
        b.eq write_code
        udf #1

hello:
        mov x0, #12                     // Syscall::kDebugWrite
        mov x1, #0                      // Cap: none
        mov x2, #(hello_text_end - hello_text)  // Info: label 0, length in bytes
        adr x10, hello_text
        ldp x4, x5, [x10]
        ldp x6, x7, [x10, #16]
        ldp x8, x9, [x10, #32]
        mov x19, #0x5a5
        mov x28, #0x6b6
        mov x30, #0x7c7
        svc #0
        cbnz x0, broken                 // Error::kOk
        cmp x19, #0x5a5
        b.ne broken
        cmp x28, #0x6b6
        b.ne broken
        cmp x30, #0x7c7
        b.ne broken
        adr x11, hello_text
        cmp x10, x11
        b.ne broken
        mov x12, #1
        sdiv x13, x12, xzr              // AArch64: no divide fault, the result is 0
        cbnz x13, broken
        ldr x10, =0x600000              // the PL011, mapped as device memory by the kernel
        adr x11, uart_text
1:      ldrb w12, [x11], #1
        cbz w12, spin
        str w12, [x10]                  // UARTDR
        b 1b
spin:
        add x19, x19, #1
        b spin
broken:
        udf #2

write_kernel:
        ldr x0, =0xffff000040200000
user_fault_write:
        str x1, [x0]
        udf #3
user_fault_wfi:
        wfi
        udf #3
read_uart:
        ldr x0, =0x09000000
user_fault_mmio:
        ldr w1, [x0]
        udf #3
user_fault_daif:
        msr daifset, #2
        udf #3
user_fault_undefined:
        udf #0
user_fault_brk:
        brk #0
        udf #3
execute_stack:
        mov x0, sp
        sub x0, x0, #64
        br x0
write_code:
        adr x0, user_program_start
user_fault_code_write:
        str xzr, [x0]
        udf #3
        .ltorg

uart_text:
        .asciz "user: EL0 wrote this line to the PL011 through a device mapping\n"
        .balign 8
hello_text:
        .ascii "user: hello from EL0 via kDebugWrite\n"
hello_text_end:
        .skip 48 - (hello_text_end - hello_text)
user_program_end:

        .section .note.GNU-stack, "", %progbits
