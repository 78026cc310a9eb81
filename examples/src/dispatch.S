# A bytecode interpreter: an indirect-jump dispatch loop (jmp *table(,%rax,8)) whose CALL opcode
# calls through a function-pointer table. Runs the bytecode program 1,000,000 times.
# Exits with the accumulator's low byte.
        .include "linux.inc"
        .globl  _start
_start:
        xor     %r13d, %r13d            # accumulator
        mov     $1000000, %r14d         # loop counter
        lea     code(%rip), %r12        # bytecode pc
dispatch:
        movzbl  (%r12), %eax
        inc     %r12
        jmp     *jump_table(,%rax,8)

op_inc:
        inc     %r13
        jmp     dispatch
op_add:
        movzbl  (%r12), %eax
        inc     %r12
        add     %rax, %r13
        jmp     dispatch
op_xor:
        mov     %r13, %rax
        shr     $3, %rax
        xor     %rax, %r13
        jmp     dispatch
op_loop:
        dec     %r14
        jz      dispatch
        lea     code(%rip), %r12
        jmp     dispatch
op_call:
        movzbl  (%r12), %eax
        inc     %r12
        mov     %r13, %rdi
        call    *fn_table(,%rax,8)
        mov     %rax, %r13
        jmp     dispatch
op_halt:
        PRINT   msg, msg_len
        mov     %r13, %rdi
        call    print_u64
        PRINT   newline, 1
        movzbl  %r13b, %edi
        jmp     exit_with

        .globl  mix5, mix_shift, mix_rot
mix5:   lea     1(%rdi,%rdi,4), %rax
        ret
mix_shift:
        mov     %rdi, %rax
        shr     $7, %rax
        xor     %rdi, %rax
        ret
mix_rot:
        mov     %rdi, %rax
        rol     $13, %rax
        add     $0x5bd1e995, %rax
        ret

        .section .rodata
        .align  8
jump_table:
        .quad   op_halt, op_inc, op_add, op_xor, op_loop, op_call
fn_table:
        .quad   mix5, mix_shift, mix_rot
code:   .byte   1, 2, 7, 5, 0, 3, 5, 1, 2, 3, 5, 2, 4, 0
msg:    .ascii  "dispatch: acc = "
        msg_len = . - msg
