// What the scenario's fault-test thread does, one action per restart (the root task restarts it
// at one of these entry points after each fault). Each faulting instruction has a global label
// (the entry itself, or *_insn after set-up instructions), so that the root task can check the reported instruction pointer. Should an action not fault,
// the thread calls kAbort with code 0xbad, which the root task reports as a wrong fault kind.
        .text
        .globl fault_write_kernel, fault_hlt, fault_inb, fault_divide, fault_bad_capability
        .globl fault_inb_insn, fault_divide_insn
        .globl fault_undefined, fault_breakpoint, fault_kernel_address
        .set fault_kernel_address, 0xffffffff80100000

fault_write_kernel:                     // #PF, kMemoryAccess at fault_kernel_address
        movq $1, fault_kernel_address
        jmp not_faulted

fault_hlt:                              // #GP, kProtection
        hlt
        jmp not_faulted

fault_inb:                              // #GP, kProtection: no I/O port rights
        mov $0x3f8, %edx
fault_inb_insn:
        inb %dx, %al
        jmp not_faulted

fault_divide:                           // #DE, kArithmetic
        xor %ecx, %ecx
        mov $1, %eax
        xor %edx, %edx
fault_divide_insn:
        div %rcx
        jmp not_faulted

fault_undefined:                        // #UD, kIllegalInstruction
        ud2

fault_breakpoint:                       // #BP, kBreakpoint
        int3
        jmp not_faulted

fault_bad_capability:                   // kCapability: slot 100 is outside the thread's CSpace
        mov $7, %eax                    // Syscall::kSignal
        mov $100, %edi
        xor %esi, %esi
        syscall
        jmp not_faulted

not_faulted:
        mov $11, %eax                   // Syscall::kAbort
        xor %edi, %edi
        mov $1, %esi
        mov $0xbad, %r8
        syscall
        ud2

        .section .note.GNU-stack, "", @progbits
