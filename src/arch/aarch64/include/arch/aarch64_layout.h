/* Constants shared by the AArch64 assembly (boot.S, entry.S) and C++: the kernel's place in the
   address space and the layout of a thread's Context (arch/context.hpp static_asserts it). */
#ifndef UKERNEL_AARCH64_LAYOUT_H
#define UKERNEL_AARCH64_LAYOUT_H

/* TTBR1 half: physical memory [0, 4 GiB) appears at UK_KERNEL_BASE + paddr. The image is linked
   there too (loaded at physical 0x40200000, linked at UK_KERNEL_BASE + 0x40200000). */
#define UK_KERNEL_BASE 0xffff000000000000

/* Context: x0..x30, sp_el0, elr_el1 (pc), spsr_el1 (pstate), then fields the vectors never
   write (the IPC buffer address). */
#define UK_CTX_X0 0
#define UK_CTX_X30 240
#define UK_CTX_SP 248
#define UK_CTX_PC 256
#define UK_CTX_PSTATE 264
#define UK_CTX_SIZE 272 /* the trap frame: what an exception from EL0 stores */
#define UK_CTX_IPC_BUFFER 272

/* What entry.S passes to the C++ dispatcher: which vector of the lower-EL group was taken. */
#define UK_ENTRY_SYNC 0
#define UK_ENTRY_IRQ 1
#define UK_ENTRY_FIQ 2
#define UK_ENTRY_SERROR 3

#endif
