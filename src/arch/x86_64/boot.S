// PVH entry: from 32-bit protected mode to 64-bit C++ in the higher half.
//
// QEMU (and Xen, Firecracker, cloud-hypervisor) start a PVH kernel at the physical address in
// the XEN_ELFNOTE_PHYS32_ENTRY note, in 32-bit protected mode with flat segments, paging and
// interrupts off, no stack, and %ebx = physical address of struct hvm_start_info.
//
// The early page tables map physical [0, 1 GiB) three times with 2 MiB pages, all through one
// page directory:
//   identity            0x0000000000000000   (only until the kernel's own GDT is loaded)
//   direct map          0xffff800000000000   (UK_DIRECT_MAP; init extends it past 1 GiB)
//   kernel image        0xffffffff80000000   (UK_KERNEL_VMA; where the image is linked)
// PML4[0] and PML4[256] share one PDPT; PML4[511] has its own, whose entry 510 is the same PD.
#include "arch/x86_layout.h"

#define PHYS(symbol) ((symbol) - UK_KERNEL_VMA)

        .section .note.Xen, "a"
        .balign 4
        .long 4                 // name size ("Xen\0")
        .long 4                 // descriptor size
        .long 18                // XEN_ELFNOTE_PHYS32_ENTRY
        .asciz "Xen"
        .balign 4
        .long pvh_start32
        .balign 4

        .section .boot.text, "ax"
        .code32
        .globl pvh_start32
pvh_start32:
        cli
        cld
        mov %ebx, %esi                  // hvm_start_info (kept in esi until C++)
        mov $boot_stack_top, %esp

        // Zero the early tables (PML4, two PDPTs, one PD).
        mov $boot_pml4, %edi
        xor %eax, %eax
        mov $(4 * 4096 / 4), %ecx
        rep stosl

        mov $(boot_pdpt_low + 0x3), %eax        // present | writable
        mov %eax, boot_pml4
        mov %eax, boot_pml4 + 256 * 8
        mov $(boot_pdpt_high + 0x3), %eax
        mov %eax, boot_pml4 + 511 * 8
        mov $(boot_pd + 0x3), %eax
        mov %eax, boot_pdpt_low
        mov %eax, boot_pdpt_high + 510 * 8

        // 512 large pages: present | writable | page size (2 MiB).
        mov $boot_pd, %edi
        mov $0x83, %eax
        mov $512, %ecx
1:      mov %eax, (%edi)
        add $0x200000, %eax
        add $8, %edi
        loop 1b

        // Long mode needs CPUID 0x80000001 EDX.LM; without it there is nothing to do but stop.
        mov $0x80000000, %eax
        cpuid
        cmp $0x80000001, %eax
        jb no_long_mode
        mov $0x80000001, %eax
        cpuid
        test $(1 << 29), %edx
        jz no_long_mode
        mov %edx, %ebp                  // remember NX support (bit 20)

        mov %cr4, %eax
        or $((1 << 5) | (1 << 7)), %eax // PAE, PGE
        mov %eax, %cr4
        mov $boot_pml4, %eax
        mov %eax, %cr3

        mov $0xc0000080, %ecx           // EFER
        rdmsr
        or $(1 << 8), %eax              // LME
        test $(1 << 20), %ebp
        jz 2f
        or $(1 << 11), %eax             // NXE
2:      wrmsr

        mov %cr0, %eax
        or $((1 << 31) | (1 << 16) | 1), %eax   // PG, WP (ring 0 honours read-only), PE
        mov %eax, %cr0

        lgdt boot_gdtr
        ljmp $UK_SEL_KERNEL_CODE, $long_mode_low

no_long_mode:
        hlt
        jmp no_long_mode

        .code64
long_mode_low:
        mov $UK_SEL_KERNEL_DATA, %eax
        mov %eax, %ds
        mov %eax, %es
        mov %eax, %ss
        xor %eax, %eax
        mov %eax, %fs
        mov %eax, %gs
        movabs $long_mode_high, %rax
        jmp *%rax

        .section .boot.data, "aw"
        .balign 8
boot_gdt:
        .quad 0
        .quad 0x00af9a000000ffff        // 0x08: 64-bit code, ring 0
        .quad 0x00cf92000000ffff        // 0x10: data, ring 0
boot_gdt_end:
boot_gdtr:
        .word boot_gdt_end - boot_gdt - 1
        .long boot_gdt

        .section .boot.bss, "aw", @nobits
        .balign 4096
        .globl boot_pml4
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096
        .skip 4096
boot_stack_top:

        .text
        .code64
long_mode_high:
        // Zero .bss (the loader zeroes it too, but a restart by a debugger or kexec may not).
        movabs $__bss_start, %rdi
        movabs $__bss_end, %rcx
        sub %rdi, %rcx
        xor %eax, %eax
        rep stosb

        movabs $x86_boot_stack_top, %rsp
        xor %ebp, %ebp                  // ends the backtrace
        mov %esi, %edi                  // hvm_start_info (zero-extended)
        call x86_boot                   // never returns
1:      hlt
        jmp 1b

        // The kernel stack: boot runs on it, and every kernel entry from user mode starts again
        // at its top (the kernel keeps no state on it between entries).
        .bss
        .balign 16
        .globl x86_boot_stack_top
x86_boot_stack:
        .skip 16384
x86_boot_stack_top:

        .section .note.GNU-stack, "", @progbits
