# A guest that toggles the LBR: 60 rounds of (LBR on, fib(10), read the stack, LBR off, fib(16)
# without LBR), so KVM's lazy release and re-creation of its host event happen again and again.
# Exits 0 if every record it read was its own, 1 if it saw foreign ones (Skylake layout).
        .include "linux.inc"
        .include "lbr_common.inc"
        .globl  _start
_start:
        xor     %r15d, %r15d
        mov     $60, %r14d
1:      call    lbr_on
        mov     $10, %edi
        call    fib
        call    check_lbr
        call    lbr_off
        mov     $16, %edi
        call    fib
        dec     %r14d
        jnz     1b
        jmp     finish
