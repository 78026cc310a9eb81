# A guest that profiles with the LBR: DEBUGCTL.LBR on for the whole run, 300 rounds of fib(14)
# each followed by a read of the whole LBR stack (as a PMI handler would). Exits 0 if every record
# it read was its own, 1 if it saw foreign ones. Needs a 32-entry LBR at 0x680/0x6c0 (Skylake).
        .include "linux.inc"
        .include "lbr_common.inc"
        .globl  _start
_start:
        xor     %r15d, %r15d
        call    lbr_on
        mov     $300, %r14d
1:      mov     $14, %edi
        call    fib
        call    check_lbr
        dec     %r14d
        jnz     1b
        call    lbr_off
        jmp     finish
