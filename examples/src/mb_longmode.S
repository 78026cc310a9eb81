# A Multiboot kernel that boots from 32-bit protected mode into long mode with paging (mb_boot.inc)
# and prints what it found: the loader's magic, its command line, CR0 and EFER.
        .include "mb_boot.inc"
        .text
        .code64
main64:
        print_str msg_hello
        mov mb_magic(%rip), %edi
        call puthex
        print_str msg_cmdline
        mov mbi_ptr(%rip), %ebx
        testl $4, (%rbx)                # flags bit 2: cmdline present
        jz 1f
        mov 16(%rbx), %esi
        call puts
1:      print_str msg_cr0
        print_hex %cr0
        print_str msg_efer
        mov $0xC0000080, %ecx
        rdmsr
        mov %eax, %edi
        call puthex
        mov $'\n', %edi
        call putc
        xor %eax, %eax
        ret

        .data
msg_hello:   .asciz "mb_longmode: in long mode with paging; loader magic "
msg_cmdline: .asciz "\ncmdline: "
msg_cr0:     .asciz "\ncr0 = "
msg_efer:    .asciz ", efer = "
