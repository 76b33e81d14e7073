// The ring-3 program of the boot-smoke scenario. Position-independent (RIP-relative only): the
// kernel copies [user_program_start, user_program_end) to a user page and starts it at
// user_entry with the action number in rdi.
//   0: kDebugWrite a line, check the preserved registers, then spin (the timer preempts it)
//   1: write to kernel memory   -> #PF   (kMemoryAccess)
//   2: hlt                      -> #GP   (kProtection)
//   3: inb from an I/O port     -> #GP   (kProtection)
//   4: divide by zero           -> #DE   (kArithmetic)
//   5: jump to the stack        -> #PF   (kMemoryAccess: the stack is no-execute)
//   6: write to its own code    -> #PF   (kMemoryAccess: code is read-only)
//   7: (started at a kernel-half address by the kernel: never runs)
// The user_fault_* labels mark the faulting instructions; the scenario checks the reported ip.
        .section .rodata.user_program, "a"
        .balign 16
        .globl user_program_start, user_program_end, user_entry
        .globl user_fault_write, user_fault_hlt, user_fault_inb, user_fault_divide
        .globl user_fault_code_write
user_program_start:
user_entry:
        cmp $0, %rdi
        je hello
        cmp $1, %rdi
        je write_kernel
        cmp $2, %rdi
        je user_fault_hlt
        cmp $3, %rdi
        je user_fault_inb
        cmp $4, %rdi
        je divide
        cmp $5, %rdi
        je execute_stack
        cmp $6, %rdi
        je write_code
        ud2

hello:
        mov $12, %eax                   // Syscall::kDebugWrite
        xor %edi, %edi                  // Cap: none
        mov $(hello_text_end - hello_text), %esi  // Info: label 0, length in bytes
        mov hello_text(%rip), %r8
        mov hello_text + 8(%rip), %r9
        mov hello_text + 16(%rip), %r10
        mov hello_text + 24(%rip), %r12
        mov hello_text + 32(%rip), %r13
        mov hello_text + 40(%rip), %r14
        mov $0x5a5a5a5a, %ebx
        mov $0x6b6b6b6b, %ebp
        mov $0x7c7c7c7c, %r15
        syscall
        test %rax, %rax                 // Error::kOk
        jnz broken
        cmp $0x5a5a5a5a, %rbx
        jne broken
        cmp $0x6b6b6b6b, %rbp
        jne broken
        cmp $0x7c7c7c7c, %r15
        jne broken
spin:
        add $1, %r15
        jmp spin
broken:
        ud2

write_kernel:
        movabs $0xffffffff80100000, %rax
user_fault_write:
        movq $1, (%rax)
        ud2
user_fault_hlt:
        hlt
        ud2
user_fault_inb:
        inb $0x60, %al
        ud2
divide:
        xor %ecx, %ecx
        mov $1, %eax
        xor %edx, %edx
user_fault_divide:
        div %ecx
        ud2

execute_stack:
        lea -64(%rsp), %rax
        jmp *%rax
write_code:
        lea user_program_start(%rip), %rax
user_fault_code_write:
        movq $0, (%rax)
        ud2

        .balign 8
hello_text:
        .ascii "user: hello from ring 3 via kDebugWrite\n"
hello_text_end:
        .skip 48 - (hello_text_end - hello_text)
user_program_end:

        .section .note.GNU-stack, "", @progbits
