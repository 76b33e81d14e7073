// Layout constants shared by the assembly entry code (entry.S, boot.S) and C++.
//
// This header is the only place these numbers are written: the .S files include it through the
// C preprocessor, and context.hpp / cpu_local.hpp static_assert their structs against it.
// Plain macros, because the assembler cannot read C++ constants.
#ifndef UKERNEL_X86_LAYOUT_H
#define UKERNEL_X86_LAYOUT_H

// Virtual address of physical address 0 in the kernel image window (-mcmodel=kernel).
#define UK_KERNEL_VMA 0xffffffff80000000
// Virtual address of physical address 0 in the direct map of physical memory.
#define UK_DIRECT_MAP 0xffff800000000000

// Segment selectors. syscall loads CS=STAR[47:32], SS=+8; sysretq loads SS=STAR[63:48]+8 and
// CS=STAR[63:48]+16, so user data must sit right below user code. Slot 0x18 stays null (it is
// where sysretl would find a 32-bit user code segment; we never allow compatibility mode).
#define UK_SEL_KERNEL_CODE 0x08
#define UK_SEL_KERNEL_DATA 0x10
#define UK_SEL_SYSRET_BASE 0x18
#define UK_SEL_USER_DATA 0x23  // 0x20 | RPL 3
#define UK_SEL_USER_CODE 0x2b  // 0x28 | RPL 3
#define UK_SEL_TSS 0x30

// Context: byte offsets of the saved user registers (see context.hpp). The general registers are
// pushed by entry.S in the reverse of this order; the last five are the hardware trap frame.
#define UK_CTX_R15 0
#define UK_CTX_R14 8
#define UK_CTX_R13 16
#define UK_CTX_R12 24
#define UK_CTX_R11 32
#define UK_CTX_R10 40
#define UK_CTX_R9 48
#define UK_CTX_R8 56
#define UK_CTX_RBP 64
#define UK_CTX_RDI 72
#define UK_CTX_RSI 80
#define UK_CTX_RDX 88
#define UK_CTX_RCX 96
#define UK_CTX_RBX 104
#define UK_CTX_RAX 112
#define UK_CTX_VECTOR 120
#define UK_CTX_ERROR 128
#define UK_CTX_RIP 136
#define UK_CTX_CS 144
#define UK_CTX_RFLAGS 152
#define UK_CTX_RSP 160
#define UK_CTX_SS 168
// The end of the trap frame (Context continues with fields the CPU never sees).
#define UK_CTX_SIZE 176
// Offsets from the vector slot, before the general registers are pushed.
#define UK_FRAME_CS (UK_CTX_CS - UK_CTX_VECTOR)

// The Context.vector value of a thread that entered through `syscall` (it may leave by sysretq),
// and of a thread that must leave by iretq (fresh start, registers written by its supervisor).
#define UK_ENTRY_SYSCALL 0x100
#define UK_ENTRY_IRET 0x101

// CpuLocal (reached through GS while in the kernel): byte offsets of its fields.
#define UK_CPU_SELF 0
#define UK_CPU_KERNEL_STACK 8
#define UK_CPU_USER_RSP 16
#define UK_CPU_CONTEXT_END 24

// Interrupt vectors.
#define UK_VECTOR_PIC_BASE 0x20  // the masked 8259s, so their spurious IRQ 7/15 is recognisable
#define UK_VECTOR_IRQ_BASE 0x30  // line n (I/O APIC input or MSI) arrives at UK_VECTOR_IRQ_BASE + n
#define UK_VECTOR_TIMER 0xef     // local APIC timer
#define UK_VECTOR_SPURIOUS 0xff  // local APIC spurious interrupt

#endif
