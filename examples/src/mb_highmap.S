# A Multiboot kernel that runs its code and reads and writes its data through a non-identity
# mapping: linear 1 GiB + x -> physical x (a 1 GiB page), entered by an indirect jump to the
# alias of its own code. RIP-relative references then name the alias too.
        .include "mb_boot.inc"
        .set ALIAS, 0x40000000
        .text
        .code64
main64:
        movq $0x83, pdpt + 8(%rip)      # PDPT[1]: linear 1 GiB -> physical 0, 1 GiB page
        mov %cr3, %rax
        mov %rax, %cr3
        lea high(%rip), %rax
        add $ALIAS, %rax
        jmp *%rax                       # continue in the alias
high:
        lea 0(%rip), %rdi               # where the code runs now
        mov %rdi, where(%rip)
        movq $0x5a5a, counter(%rip)     # a store through the alias
        print_str msg_at                # (an alias address too)
        print_hex where(%rip)
        lea counter(%rip), %rax
        sub $ALIAS, %rax
        cmpq $0x5a5a, (%rax)            # the same physical bytes through the identity map
        jne 1f
        print_str msg_ok
        lea back(%rip), %rax            # back to identity before returning (the caller is there)
        sub $ALIAS, %rax
        jmp *%rax
back:
        xor %eax, %eax
        ret
1:      print_str msg_fail
        mov $1, %eax
        ret

        .data
where:   .quad 0
counter: .quad 0
msg_at:  .asciz "mb_highmap: code running at "
msg_ok:  .asciz "; data written through the alias reads back through the identity map: ok\n"
msg_fail: .asciz "mb_highmap: FAIL\n"
