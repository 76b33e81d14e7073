// memcpy, memmove, memset and memcmp for the kernel and user programs (the compiler may call
// them even in freestanding code). In assembly so that the compiler cannot turn a loop back into
// a call to the function itself. Word-sized when both pointers are 8-byte aligned.
        .text

        .globl memcpy
memcpy:                                 // x0 = dest, x1 = src, x2 = n; returns dest
        mov x3, x0
        orr x4, x0, x1
        tst x4, #7
        b.ne 2f
1:      cmp x2, #8
        b.lo 2f
        ldr x5, [x1], #8
        str x5, [x3], #8
        sub x2, x2, #8
        b 1b
2:      cbz x2, 3f
        ldrb w5, [x1], #1
        strb w5, [x3], #1
        sub x2, x2, #1
        b 2b
3:      ret

        .globl memmove
memmove:                                // backwards only if dest overlaps src from above
        cmp x0, x1
        b.ls memcpy
        add x4, x1, x2
        cmp x0, x4
        b.hs memcpy
        add x3, x0, x2
1:      cbz x2, 2f
        ldrb w5, [x4, #-1]!
        strb w5, [x3, #-1]!
        sub x2, x2, #1
        b 1b
2:      ret

        .globl memset
memset:                                 // x0 = dest, w1 = byte, x2 = n; returns dest
        mov x3, x0
        and x1, x1, #0xff
        orr x1, x1, x1, lsl #8
        orr x1, x1, x1, lsl #16
        orr x1, x1, x1, lsl #32
        tst x0, #7
        b.ne 2f
1:      cmp x2, #8
        b.lo 2f
        str x1, [x3], #8
        sub x2, x2, #8
        b 1b
2:      cbz x2, 3f
        strb w1, [x3], #1
        sub x2, x2, #1
        b 2b
3:      ret

        .globl memcmp
memcmp:                                 // returns <0, 0, >0 as the first differing byte
        cbz x2, 2f
        ldrb w3, [x0], #1
        ldrb w4, [x1], #1
        subs w5, w3, w4
        b.ne 1f
        sub x2, x2, #1
        b memcmp
1:      mov w0, w5
        ret
2:      mov w0, #0
        ret

        .section .note.GNU-stack, "", %progbits
