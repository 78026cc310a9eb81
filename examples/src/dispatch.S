# A bytecode interpreter: an indirect-jump dispatch loop (jmp *table(,%rax,8)) whose CALL opcode
# calls through a function-pointer table. Runs the bytecode program 1,000,000 times.
# Exits 0 when the accumulator is right.
        .include "linux.inc"
        .globl  _start
_start:
        xor     %r13d, %r13d            # accumulator
        mov     $1000000, %r14d         # loop counter
        lea     code(%rip), %r12        # bytecode pc
        .include "dispatch.inc"

dispatch_done:
        PRINT   msg, msg_len
        mov     %r13, %rdi
        call    print_u64
        PRINT   newline, 1
        EXIT_IF_EQUAL %r13, 0xb7b84c0b9a57b5ef

        .section .rodata
msg:    .ascii  "dispatch: acc = "
        msg_len = . - msg
