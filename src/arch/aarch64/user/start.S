// The entry of an AArch64 user program (the root task, and threads it starts in the same image):
// calls `extern "C" word user_main(word arg)` with the argument the kernel or the creating
// thread put in x0 (sp is 16-byte aligned already). Returning from it is kAbort with the
// returned value as the code (for the root task, that ends the system: 0 = success).
        .section .text.start, "ax"
        .globl _start
_start:
        mov x29, #0
        bl user_main
        mov x4, x0                      // MR0: the code
        mov x0, #11                     // Syscall::kAbort
        mov x1, #0
        mov x2, #1                      // MessageInfo: label 0, one word
        svc #0
        udf #0

        .section .note.GNU-stack, "", %progbits
