// The AArch64 entry: QEMU virt starts the ELF image at _start (its physical address) at EL1 with
// the MMU off. This code runs at the physical addresses the image was loaded at, and reaches its
// data only through PC-relative addressing (adrp/add), which works before and after the MMU is
// on. It clears the BSS, builds the boot translation tables, turns the MMU on, jumps to the
// linked (high) addresses, installs the exception vectors and calls aarch64_boot() (init.cpp).
//
// Translation (docs/aarch64.md): 48-bit virtual addresses, 4 KiB granule, four levels.
// TTBR1 maps physical [0, 2 GiB) at UK_KERNEL_BASE + paddr: the first GiB (devices) as one
// Device-nGnRnE block, never executable; the second (RAM) in 2 MiB blocks of normal write-back
// memory, read-write and never executable, except the image window (kImageTables * 2 MiB from
// 0x40200000), mapped page by page with the rights of each part of the image: text read-only and
// executable at EL1, rodata read-only, everything else read-write. Nothing is accessible from
// EL0. During the switch TTBR0 maps the same tables at their physical addresses; afterwards it
// holds an empty table until a user space is activated.
#include "arch/aarch64_layout.h"

// MAIR_EL1: attribute 0 = normal memory, write-back read/write-allocate; 1 = Device-nGnRnE;
// 2 = normal memory, inner and outer non-cacheable (DMA frames made kUncached).
#define MAIR_VALUE 0x4400ff
// TCR_EL1: T0SZ = T1SZ = 16 (48-bit), write-back inner-shareable walks for both halves,
// TG0 = 4 KiB, TG1 = 4 KiB, IPS = 40 bits, AS = 16-bit ASIDs (taken from TTBR0).
#define TCR_VALUE ((16 << 0) | (1 << 8) | (1 << 10) | (3 << 12) | (16 << 16) | (1 << 24) | \
                   (1 << 26) | (3 << 28) | (2 << 30) | (2 << 32) | (1 << 36))
// SCTLR_EL1: the ARMv8.0 RES1 bits, MMU (M), data and instruction caches (C, I), stack alignment
// checks at EL1 and EL0 (SA, SA0), EL0 may read CTR_EL0 (UCT) and execute WFE (nTWE); WFI at EL0
// traps (nTWI = 0), as do EL0 writes to DAIF (UMA = 0) and cache maintenance (UCI = 0).
#define SCTLR_VALUE (0x30d00800 | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 12) | \
                     (1 << 15) | (1 << 18))
// Descriptors: block (01) or page (11), AttrIndx, inner shareable (RAM), AF, AP[2] read-only,
// PXN and UXN. AP[1] = 0 everywhere: no EL0 access.
#define BLOCK_DEVICE ((1 << 0) | (1 << 2) | (1 << 10) | (3 << 53))
#define NEVER_EXECUTE (3 << 53)
#define READ_ONLY (1 << 7)
#define BLOCK_RAM ((1 << 0) | (3 << 8) | (1 << 10) | NEVER_EXECUTE)
#define PAGE_RAM ((3 << 0) | (3 << 8) | (1 << 10))
#define PAGE_DATA (PAGE_RAM | NEVER_EXECUTE)
#define PAGE_TEXT (PAGE_RAM | READ_ONLY | (1 << 54))
#define PAGE_RODATA (PAGE_RAM | READ_ONLY | NEVER_EXECUTE)
#define IMAGE_BASE 0x40200000
#define IMAGE_TABLES 4 /* the image window: 8 MiB (linker.ld checks the image fits) */

        .section .text.boot, "ax"
        .globl _start
_start:
        msr daifset, #0xf
        // Clear the BSS (it holds the boot tables and the kernel stack).
        adrp x0, __bss_start
        add x0, x0, :lo12:__bss_start
        adrp x1, __bss_end
        add x1, x1, :lo12:__bss_end
1:      cmp x0, x1
        b.hs 2f
        stp xzr, xzr, [x0], #16
        b 1b
2:
        // boot_l0[0] -> boot_l1; boot_l1[0] = devices at 0, boot_l1[1] -> boot_l2 (RAM).
        adrp x0, boot_l0
        adrp x1, boot_l1
        orr x2, x1, #3
        str x2, [x0]
        ldr x2, =BLOCK_DEVICE
        str x2, [x1]
        adrp x2, boot_l2
        orr x3, x2, #3
        str x3, [x1, #8]
        // boot_l2: 2 MiB blocks of RAM, read-write, never executable...
        ldr x3, =(BLOCK_RAM | 0x40000000)
        mov x4, #0
1:      str x3, [x2, x4, lsl #3]
        add x3, x3, #0x200000
        add x4, x4, #1
        cmp x4, #512
        b.lo 1b
        // ... except the image window, entries 1 .. IMAGE_TABLES -> the boot_l3 tables,
        adrp x5, boot_l3
        mov x4, #1
2:      orr x3, x5, #3
        str x3, [x2, x4, lsl #3]
        add x5, x5, #4096
        add x4, x4, #1
        cmp x4, #(1 + IMAGE_TABLES)
        b.lo 2b
        // which map it page by page: text (from IMAGE_BASE to __text_end) read-only and
        // executable, [__rodata_start, __data_start) read-only, the guard page below the kernel
        // stack not at all, the rest read-write.
        adrp x5, boot_l3
        adrp x6, __text_end
        add x6, x6, :lo12:__text_end
        adrp x7, __rodata_start
        adrp x8, __data_start
        adrp x10, kernel_stack_guard
        ldr x4, =IMAGE_BASE
        ldr x9, =(IMAGE_BASE + IMAGE_TABLES * 0x200000)
3:      ldr x3, =PAGE_DATA
        cmp x4, x6
        b.hs 4f
        ldr x3, =PAGE_TEXT
        b 5f
4:      cmp x4, x7
        b.lo 5f
        cmp x4, x8
        b.hs 5f
        ldr x3, =PAGE_RODATA
5:      orr x3, x3, x4
        cmp x4, x10
        csel x3, xzr, x3, eq
        str x3, [x5], #8
        add x4, x4, #4096
        cmp x4, x9
        b.lo 3b
        dsb sy

        ldr x2, =MAIR_VALUE
        msr mair_el1, x2
        ldr x2, =TCR_VALUE
        msr tcr_el1, x2
        msr ttbr0_el1, x0
        msr ttbr1_el1, x0
        mov x2, #(1 << 20)              // FP/SIMD traps at EL0 only until a thread owns it
        msr cpacr_el1, x2               // (arch/fpu.hpp)
        isb
        tlbi vmalle1
        dsb nsh
        ldr x2, =SCTLR_VALUE
        msr sctlr_el1, x2
        isb
        ldr x2, =high
        br x2

high:
        // Now at the linked addresses: adrp yields UK_KERNEL_BASE + paddr.
        adrp x0, kernel_stack_top
        add x0, x0, :lo12:kernel_stack_top
        mov sp, x0
        adrp x0, aarch64_vectors
        add x0, x0, :lo12:aarch64_vectors
        msr vbar_el1, x0
        // The user half maps nothing until the first address space is activated.
        adrp x0, aarch64_empty_table
        ldr x1, =UK_KERNEL_BASE
        sub x0, x0, x1
        msr ttbr0_el1, x0
        isb
        tlbi vmalle1
        dsb nsh
        isb
        mov x29, #0
        mov x30, #0
        bl aarch64_boot
3:      wfi
        b 3b
        .ltorg

        .section .bss.boot_tables, "aw", %nobits
        .balign 4096
        .globl boot_l0, aarch64_empty_table
boot_l0:
        .space 4096
boot_l1:
        .space 4096
boot_l2:
        .space 4096
boot_l3:
        .space 4096 * IMAGE_TABLES
aarch64_empty_table:
        .space 4096
        // An overflow of the kernel stack runs into this unmapped page: an EL1 data abort, which
        // the exception vectors report on the panic stack (entry.S).
        .globl kernel_stack_guard, kernel_stack_top, panic_stack_top
kernel_stack_guard:
        .space 4096
kernel_stack:
        .space 16384
kernel_stack_top:
panic_stack:
        .space 4096
panic_stack_top:

        .section .note.GNU-stack, "", %progbits
