# A Multiboot kernel that takes a #PF on a page that is not mapped, maps it in the handler and
# returns to retry the faulting store: the handler sees CR2 and the error code (2: a write to a
# non-present page), installs a 1 GiB page for linear 1 GiB -> physical 0, reloads CR3, IRETQs.
        .include "mb_boot.inc"
        .set TARGET, 0x40000000
        .text
        .code64
main64:
        lea pf_handler(%rip), %rax      # IDT gate 14: 64-bit interrupt gate, selector 0x08
        lea idt(%rip), %rdi
        add $14 * 16, %rdi
        mov %ax, (%rdi)
        movw $0x08, 2(%rdi)
        movw $0x8E00, 4(%rdi)
        shr $16, %rax
        mov %ax, 6(%rdi)
        shr $16, %rax
        mov %eax, 8(%rdi)
        movl $0, 12(%rdi)
        lidt idtr(%rip)
        mov $TARGET, %rax
        movq $0x1234, 0x10(%rax)        # faults once, then succeeds
        mov 0x10, %rbx                  # the same bytes through the identity map
        cmp $0x1234, %rbx
        jne fail
        print_str msg_ok
        print_hex fault_cr2(%rip)
        print_str msg_err
        print_hex fault_err(%rip)
        print_str msg_end
        xor %eax, %eax
        ret
fail:
        print_str msg_fail
        mov $1, %eax
        ret

pf_handler:
        push %rax
        mov 8(%rsp), %rax               # the error code
        mov %rax, fault_err(%rip)
        mov %cr2, %rax
        mov %rax, fault_cr2(%rip)
        movq $0x83, pdpt + 8(%rip)      # PDPT[1]: a 1 GiB page at physical 0
        mov %cr3, %rax
        mov %rax, %cr3                  # flush the TLB
        pop %rax
        add $8, %rsp                    # drop the error code
        iretq

        .data
        .align 16
idt:    .fill 512, 8, 0
idtr:   .word 256 * 16 - 1
        .quad idt
fault_cr2: .quad 0
fault_err: .quad 0
msg_ok:   .asciz "mb_pagefault: #PF at cr2 = "
msg_err:  .asciz ", error code "
msg_end:  .asciz "; mapped and retried: ok\n"
msg_fail: .asciz "mb_pagefault: FAIL: the retried store did not land\n"
