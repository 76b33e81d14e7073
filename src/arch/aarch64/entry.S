// Kernel entry and exit: the exception vector table (VBAR_EL1) and the exit to EL0. See
// arch/entry.hpp for the control flow and arch/context.hpp for the frame layout.
//
// From EL0, SP_EL1 points just past the running thread's Context (resume() put it there), so
// the registers land in the Context; then the stack moves to the top of the kernel stack and C++
// takes over (aarch64_user_entry) without ever returning here. From EL1 every exception is a
// kernel bug (the kernel runs with interrupts masked and idles with WFI): the registers land on
// the panic stack and aarch64_kernel_exception() reports them and stops.
#include "arch/aarch64_layout.h"

// Saves x2..x30, SP_EL0, ELR_EL1 and SPSR_EL1 into the frame at sp (x0 and x1 are saved by the
// vector itself, which needs two scratch registers).
.macro SAVE_REST
        stp x2, x3, [sp, #16]
        stp x4, x5, [sp, #32]
        stp x6, x7, [sp, #48]
        stp x8, x9, [sp, #64]
        stp x10, x11, [sp, #80]
        stp x12, x13, [sp, #96]
        stp x14, x15, [sp, #112]
        stp x16, x17, [sp, #128]
        stp x18, x19, [sp, #144]
        stp x20, x21, [sp, #160]
        stp x22, x23, [sp, #176]
        stp x24, x25, [sp, #192]
        stp x26, x27, [sp, #208]
        stp x28, x29, [sp, #224]
        mrs x2, sp_el0
        stp x30, x2, [sp, #UK_CTX_X30]
        mrs x2, elr_el1
        mrs x3, spsr_el1
        stp x2, x3, [sp, #UK_CTX_PC]
.endm

// From EL0: the registers go into the Context that SP_EL1 ends.
.macro USER_VECTOR kind
        .balign 0x80
        sub sp, sp, #UK_CTX_SIZE
        stp x0, x1, [sp]
        mov x1, #\kind
        b user_exception
.endm

// From EL1: a kernel bug, perhaps a stack overflow, so the report runs on a stack of its own.
// The interrupted sp goes into SP_EL0 (saved as the frame's sp; the running thread's user sp is
// in its Context already), x0 through TPIDR_EL1 (used for nothing else).
.macro KERNEL_VECTOR kind
        .balign 0x80
        msr tpidr_el1, x0
        mov x0, sp
        msr sp_el0, x0
        adrp x0, panic_stack_top
        add x0, x0, :lo12:panic_stack_top
        mov sp, x0
        mrs x0, tpidr_el1
        sub sp, sp, #UK_CTX_SIZE
        stp x0, x1, [sp]
        mov x1, #\kind
        b kernel_exception
.endm

        .text
        .balign 2048
        .globl aarch64_vectors
aarch64_vectors:
        // Current EL with SP_EL0 (never used by the kernel), then with SP_EL1: kernel bugs.
        // Kinds 0-3 and 4-7 (sync, IRQ, FIQ, SError); 12-15: lower EL in AArch32 (impossible).
        KERNEL_VECTOR 0
        KERNEL_VECTOR 1
        KERNEL_VECTOR 2
        KERNEL_VECTOR 3
        KERNEL_VECTOR 4
        KERNEL_VECTOR 5
        KERNEL_VECTOR 6
        KERNEL_VECTOR 7
        // Lower EL (EL0) in AArch64: the Context of the running thread.
        USER_VECTOR UK_ENTRY_SYNC
        USER_VECTOR UK_ENTRY_IRQ
        USER_VECTOR UK_ENTRY_FIQ
        USER_VECTOR UK_ENTRY_SERROR
        KERNEL_VECTOR 12
        KERNEL_VECTOR 13
        KERNEL_VECTOR 14
        KERNEL_VECTOR 15

user_exception:
        SAVE_REST
        mov x0, sp
        adrp x2, kernel_stack_top
        add x2, x2, :lo12:kernel_stack_top
        mov sp, x2
        mov x29, #0
        mov x30, #0
        bl aarch64_user_entry           // never returns
        b .

kernel_exception:
        SAVE_REST
        mov x0, sp
        bl aarch64_kernel_exception     // never returns
        b .

// aarch64_exit_to_user(Context* x0): restores the Context and returns to EL0. SP_EL1 is left
// just past the Context, where the next exception from EL0 stores the registers.
        .globl aarch64_exit_to_user
aarch64_exit_to_user:
        add sp, x0, #UK_CTX_SIZE        // one add (ADD immediate writes SP): pays for the msr below
        ldp x2, x3, [x0, #UK_CTX_PC]
        msr elr_el1, x2
        msr spsr_el1, x3
        ldr x2, [x0, #UK_CTX_SP]
        msr sp_el0, x2
        ldp x2, x3, [x0, #UK_CTX_IPC_BUFFER]    // and the thread's CPACR_EL1 (arch/fpu.hpp)
        msr tpidrro_el0, x2
        msr cpacr_el1, x3
        ldp x2, x3, [x0, #16]
        ldp x4, x5, [x0, #32]
        ldp x6, x7, [x0, #48]
        ldp x8, x9, [x0, #64]
        ldp x10, x11, [x0, #80]
        ldp x12, x13, [x0, #96]
        ldp x14, x15, [x0, #112]
        ldp x16, x17, [x0, #128]
        ldp x18, x19, [x0, #144]
        ldp x20, x21, [x0, #160]
        ldp x22, x23, [x0, #176]
        ldp x24, x25, [x0, #192]
        ldp x26, x27, [x0, #208]
        ldp x28, x29, [x0, #224]
        ldr x30, [x0, #UK_CTX_X30]
        ldp x0, x1, [x0]
        eret

        .section .note.GNU-stack, "", %progbits
