# A deep call chain: recursion 200 frames deep, repeated 20,000 times, each frame doing a little
# arithmetic on the way down and up. Exits 0 when the result is right.
        .include "linux.inc"
        DEPTH = 200
        REPS = 20000
        .globl  _start
_start:
        xor     %r12d, %r12d
        mov     $REPS, %r13d
1:      mov     $DEPTH, %edi
        mov     %r12, %rsi
        call    chain
        mov     %rax, %r12
        dec     %r13d
        jnz     1b
        PRINT   msg, msg_len
        mov     %r12, %rdi
        call    print_u64
        PRINT   newline, 1
        EXIT_IF_EQUAL %r12, 0x2980a70c0

# chain(depth %rdi, acc %rsi) -> %rax
        .globl  chain
chain:
        test    %rdi, %rdi
        jnz     2f
        lea     1(%rsi,%rsi,2), %rax
        ret
2:      push    %rdi
        add     %rdi, %rsi
        dec     %rdi
        call    chain
        pop     %rdi
        xor     %rdi, %rax
        movabs  $0xffffffffff, %rcx
        and     %rcx, %rax
        ret

        .section .rodata
msg:    .ascii  "callchain: result = "
        msg_len = . - msg
