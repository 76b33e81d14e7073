// The entry of an x86-64 user program (the root task, and threads it starts in the same image):
// aligns the stack and calls `extern "C" word user_main(word arg)` with the argument the kernel
// or the creating thread put in rdi. Returning from it is kAbort with the returned value as the
// code (for the root task, that ends the system: 0 = success).
        .section .text.start, "ax"
        .globl _start
_start:
        and $-16, %rsp
        call user_main
        mov %rax, %r8                   // MR0: the code
        mov $11, %eax                   // Syscall::kAbort
        xor %edi, %edi
        mov $1, %esi                    // MessageInfo: label 0, one word
        syscall
        ud2

        .section .note.GNU-stack, "", @progbits
