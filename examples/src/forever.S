# A guest that never ends: a loop with a call and a data-dependent branch per iteration, for
# monitor sessions (stop, cont, query-lbr, quit). Leave it with the monitor's "quit".
        .globl  _start
_start:
        mov     $12345, %eax
1:      call    step
        test    $8, %eax
        jz      2f
        inc     %rbx
2:      jmp     1b
step:
        imul    $1103515245, %eax, %eax
        add     $12345, %eax
        ret
