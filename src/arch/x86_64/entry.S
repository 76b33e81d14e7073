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
        //
        // The frame is written with stores relative to the end of the Context, not pushed, so
        // that what a system call does not need costs nothing: rcx and r11 are the user's rip
        // and rflags (the ABI says `syscall` clobbers them), so their slots keep the thread's
        // values of its last interrupt or exception; cs and ss always hold the user selectors
        // (start() writes them, and every iretq exit rewrites them), and the error code is read
        // only for an exception vector.
        .globl x86_syscall_entry
x86_syscall_entry:
        swapgs
        mov %rsp, %gs:UK_CPU_USER_RSP
        mov %gs:UK_CPU_CONTEXT_END, %rsp
        mov %rcx, UK_CTX_RIP - UK_CTX_SIZE(%rsp)
        mov %r11, UK_CTX_RFLAGS - UK_CTX_SIZE(%rsp)
        mov %gs:UK_CPU_USER_RSP, %rcx
        mov %rcx, UK_CTX_RSP - UK_CTX_SIZE(%rsp)
        movq $UK_ENTRY_SYSCALL, UK_CTX_VECTOR - UK_CTX_SIZE(%rsp)
        mov %rax, UK_CTX_RAX - UK_CTX_SIZE(%rsp)
        mov %rbx, UK_CTX_RBX - UK_CTX_SIZE(%rsp)
        mov %rdx, UK_CTX_RDX - UK_CTX_SIZE(%rsp)
        mov %rsi, UK_CTX_RSI - UK_CTX_SIZE(%rsp)
        mov %rdi, UK_CTX_RDI - UK_CTX_SIZE(%rsp)
        mov %rbp, UK_CTX_RBP - UK_CTX_SIZE(%rsp)
        mov %r8, UK_CTX_R8 - UK_CTX_SIZE(%rsp)
        mov %r9, UK_CTX_R9 - UK_CTX_SIZE(%rsp)
        mov %r10, UK_CTX_R10 - UK_CTX_SIZE(%rsp)
        mov %r12, UK_CTX_R12 - UK_CTX_SIZE(%rsp)
        mov %r13, UK_CTX_R13 - UK_CTX_SIZE(%rsp)
        mov %r14, UK_CTX_R14 - UK_CTX_SIZE(%rsp)
        mov %r15, UK_CTX_R15 - UK_CTX_SIZE(%rsp)
        lea -UK_CTX_SIZE(%rsp), %rdi
        mov %gs:UK_CPU_KERNEL_STACK, %rsp
        xor %ebp, %ebp
        call x86_syscall                // never returns
        ud2

        // x86_exit_to_user(Context*): the caller has validated and sanitised the Context.
        // Back to a system call: loads from the Context (rdi last), rip and rflags into rcx and
        // r11 for sysretq. Anything else: pop the frame and iretq, which restores all of it.
        .globl x86_exit_to_user
x86_exit_to_user:
        cmpq $UK_ENTRY_SYSCALL, UK_CTX_VECTOR(%rdi)
        jne 1f
        mov UK_CTX_RAX(%rdi), %rax
        mov UK_CTX_RBX(%rdi), %rbx
        mov UK_CTX_RDX(%rdi), %rdx
        mov UK_CTX_RSI(%rdi), %rsi
        mov UK_CTX_RBP(%rdi), %rbp
        mov UK_CTX_R8(%rdi), %r8
        mov UK_CTX_R9(%rdi), %r9
        mov UK_CTX_R10(%rdi), %r10
        mov UK_CTX_R12(%rdi), %r12
        mov UK_CTX_R13(%rdi), %r13
        mov UK_CTX_R14(%rdi), %r14
        mov UK_CTX_R15(%rdi), %r15
        mov UK_CTX_RIP(%rdi), %rcx
        mov UK_CTX_RFLAGS(%rdi), %r11
        mov UK_CTX_RSP(%rdi), %rsp
        mov UK_CTX_RDI(%rdi), %rdi
        swapgs
        sysretq
1:      mov %rdi, %rsp
        POP_GENERAL
        add $16, %rsp                   // vector, error code
        swapgs
        iretq

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
