// Kernel entry and exit: the 256 interrupt/exception stubs, the syscall entry, and the exit to
// user mode. See arch/entry.hpp for the control flow and arch/context.hpp for the frame layout.
//
// From user mode, the frame lands in the running thread's Context (TSS.RSP0 / context_end point
// just past it); then the stack moves to the top of the kernel stack and C++ takes over without
// ever returning here. From kernel mode (only the idle loop runs with interrupts on, plus kernel
// bugs), the frame lands on the kernel stack and the handler may return to iretq.
#include "arch/x86_layout.h"

.macro PUSH_GENERAL
        push %rax
        push %rbx
        push %rcx
        push %rdx
        push %rsi
        push %rdi
        push %rbp
        push %r8
        push %r9
        push %r10
        push %r11
        push %r12
        push %r13
        push %r14
        push %r15
.endm

.macro POP_GENERAL
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %r11
        pop %r10
        pop %r9
        pop %r8
        pop %rbp
        pop %rdi
        pop %rsi
        pop %rdx
        pop %rcx
        pop %rbx
        pop %rax
.endm

// One stub per vector: make every frame look alike (push 0 where the CPU pushes no error code),
// record the vector, and join the common path.
.macro VECTOR_STUB n
        .balign 16
x86_vector_\n:
        .if (\n == 8) || (\n == 10) || (\n == 11) || (\n == 12) || (\n == 13) || (\n == 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
        .else
        pushq $0
        .endif
        pushq $\n
        jmp trap_common
.endm

.macro VECTOR_ADDRESS n
        .quad x86_vector_\n
.endm

        .text
        .altmacro
        .set vector, 0
        .rept 256
        VECTOR_STUB %vector
        .set vector, vector + 1
        .endr

trap_common:
        testb $3, UK_FRAME_CS(%rsp)
        jz 1f
        swapgs
1:      PUSH_GENERAL
        cld
        mov %rsp, %rdi
        testb $3, UK_CTX_CS(%rsp)
        jz from_kernel
        mov %gs:UK_CPU_KERNEL_STACK, %rsp
        xor %ebp, %ebp
        call x86_user_trap              // never returns
        ud2
from_kernel:
        call x86_kernel_trap            // returns only if the interrupted code may continue
        POP_GENERAL
        add $16, %rsp                   // vector, error code
        iretq

        // syscall: rcx = user rip, r11 = user rflags, rsp still the user's, IF already off.
        .globl x86_syscall_entry
x86_syscall_entry:
        swapgs
        mov %rsp, %gs:UK_CPU_USER_RSP
        mov %gs:UK_CPU_CONTEXT_END, %rsp
        pushq $UK_SEL_USER_DATA
        pushq %gs:UK_CPU_USER_RSP
        pushq %r11
        pushq $UK_SEL_USER_CODE
        pushq %rcx
        pushq $0
        pushq $UK_ENTRY_SYSCALL
        PUSH_GENERAL
        mov %rsp, %rdi
        mov %gs:UK_CPU_KERNEL_STACK, %rsp
        xor %ebp, %ebp
        call x86_syscall                // never returns
        ud2

        // x86_exit_to_user(Context*): the caller has validated and sanitised the Context.
        .globl x86_exit_to_user
x86_exit_to_user:
        mov %rdi, %rsp
        POP_GENERAL
        cmpq $UK_ENTRY_SYSCALL, (%rsp)
        je 1f
        add $16, %rsp
        swapgs
        iretq
1:      mov UK_CTX_RIP - UK_CTX_VECTOR(%rsp), %rcx
        mov UK_CTX_RFLAGS - UK_CTX_VECTOR(%rsp), %r11
        mov UK_CTX_RSP - UK_CTX_VECTOR(%rsp), %rsp
        swapgs
        sysretq

        .section .rodata
        .balign 8
        .globl x86_vector_stubs
x86_vector_stubs:
        .set vector, 0
        .rept 256
        VECTOR_ADDRESS %vector
        .set vector, vector + 1
        .endr

        .section .note.GNU-stack, "", @progbits
