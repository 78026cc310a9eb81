# Recursive fibonacci: fib(30) = 832040 through 2.7 million calls. Exits 0 when the result is right.
        .include "linux.inc"
        .globl  _start
_start:
        mov     $30, %edi
        call    fib
        mov     %rax, %r12
        PRINT   msg, msg_len
        mov     %r12, %rdi
        call    print_u64
        PRINT   newline, 1
        EXIT_IF_EQUAL %r12, 832040

        .include "fib.inc"

        .section .rodata
msg:    .ascii  "fib(30) = "
        msg_len = . - msg
