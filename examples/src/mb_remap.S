# A Multiboot kernel that changes which code a linear page holds while that code runs hot: linear
# 0x600000 maps through a 4 KiB page table to one of two physical pages, each a function that adds
# up a loop (1 per iteration in `one`, 2 in `two`) and returns the sum. It calls the function at
# 0x600000 200 times, remaps the page to the other function (INVLPG), calls it 200 times, remaps
# back (MOV CR3 this time) and calls it 200 times again. With translated code, the second phase
# must not run the first phase's translation: the sum is right only if every call ran the code
# the page maps at that moment.
        .include "mb_boot.inc"
        .set WINDOW, 0x600000
        .set CALLS, 200
        .text
        .code64
main64:
        lea pt_window(%rip), %rax       # PD[3] (linear 6 MiB..8 MiB) -> the window's page table
        or $3, %rax
        mov %rax, pd + 24(%rip)
        lea one(%rip), %rax             # PT[0]: linear 0x600000 -> `one`
        or $3, %rax
        mov %rax, pt_window(%rip)
        mov %cr3, %rax
        mov %rax, %cr3
        xor %r13d, %r13d                # the sum of every call's result
        call calls
        lea two(%rip), %rax             # remap to `two`, flush that page only
        or $3, %rax
        mov %rax, pt_window(%rip)
        invlpg WINDOW
        call calls
        lea one(%rip), %rax             # and back, flushing everything
        or $3, %rax
        mov %rax, pt_window(%rip)
        mov %cr3, %rax
        mov %rax, %cr3
        call calls
        print_str msg_sum
        print_hex %r13
        mov $1, %eax
        cmp $CALLS * 100 * (1 + 2 + 1), %r13
        jne 1f
        print_str msg_ok
        xor %eax, %eax
        ret
1:      print_str msg_fail
        ret

# calls: the function at WINDOW, CALLS times, each result added to %r13.
calls:
        mov $CALLS, %r12d
2:      mov $WINDOW, %eax
        call *%rax
        add %rax, %r13
        dec %r12d
        jnz 2b
        ret

# A function alone on its page: 100 iterations adding STEP, the sum returned in %eax.
        .macro summer name, step
        .align 4096
\name:  xor %eax, %eax
        mov $100, %ecx
1:      add $\step, %eax
        dec %ecx
        jnz 1b
        ret
        .endm
        summer one, 1
        summer two, 2

        .data
        .align 4096
pt_window: .fill 512, 8, 0
msg_sum:  .asciz "mb_remap: sum of the calls through the remapped page = "
msg_ok:   .asciz "; every call ran the code mapped at the time: ok\n"
msg_fail: .asciz "; FAIL (expected 0x13880)\n"
