# A counted loop: sum of (i * 3) ^ i for i < 10,000,000. Exits 0 when the sum is right.
        .include "linux.inc"
        .globl  _start
_start:
        xor     %eax, %eax
        xor     %ecx, %ecx
        mov     $10000000, %r8d
1:      imul    $3, %rcx, %rdx
        xor     %rcx, %rdx
        add     %rdx, %rax
        inc     %rcx
        cmp     %r8, %rcx
        jb      1b
        mov     %rax, %r12
        PRINT   msg, msg_len
        mov     %r12, %rdi
        call    print_u64
        PRINT   newline, 1
        EXIT_IF_EQUAL %r12, 0x711b4aa14680

        .section .rodata
msg:    .ascii  "loop: sum = "
        msg_len = . - msg
