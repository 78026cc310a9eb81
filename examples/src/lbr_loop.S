# The size of kvm-unit-tests' LBR workload: 200 million loop iterations, each a pseudo-random
# step, a data-dependent branch to one of two calls and a return: about 2.6 billion instructions
# and 600 million taken branches with LBR recording (configs/lbr_loop.conf). Exits 0 when the
# accumulated value is right; it runs natively too, which is where the expected value came from.
        .include "linux.inc"
        .globl  _start
_start:
        mov     $200000000, %r15d
        movabs  $0x2545F4914F6CDD1D, %r12       # x, the generator's state
        movabs  $6364136223846793005, %r14      # Knuth's MMIX multiplier
        movabs  $1442695040888963407, %r11      # and increment
        xor     %r13d, %r13d                    # the accumulator
1:      imul    %r14, %r12
        add     %r11, %r12
        mov     %r12, %rdi
        shr     $33, %rdi
        test    $1, %edi
        jz      2f
        call    mix_odd
        jmp     3f
2:      call    mix_even
3:      add     %rax, %r13
        dec     %r15
        jnz     1b
        PRINT   msg, msg_len
        mov     %r13, %rdi
        call    print_u64
        PRINT   newline, 1
        EXIT_IF_EQUAL %r13, 429522187250325904

mix_odd:
        lea     1(%rdi,%rdi,2), %rax
        ret
mix_even:
        mov     %rdi, %rax
        xor     $0x5bd1, %rax
        ret

        .section .rodata
msg:    .ascii  "lbr_loop: acc = "
        msg_len = . - msg
