# A bare-metal flat binary (loaded at 0x100000): it installs an IDT with a #UD handler, prints
# through COM1 (polling the line status register with IN), executes UD2, whose handler reports
# the fault and skips it with IRETQ, then ends the VM through isa-debug-exit at port 0xF4.
# QEMU exit-status rule: writing 21 gives (21 << 1) | 1 = 43.
        .code64
        .text
        .globl  start
start:
        lea     idt(%rip), %rdi
        lea     ud_handler(%rip), %rax
        add     $6*16, %rdi             # vector 6: #UD
        mov     %ax, (%rdi)             # offset 15:0
        movw    $0x08, 2(%rdi)          # code selector
        movb    $0, 4(%rdi)             # no IST
        movb    $0x8E, 5(%rdi)          # present, DPL 0, 64-bit interrupt gate
        shr     $16, %rax
        mov     %ax, 6(%rdi)            # offset 31:16
        shr     $16, %rax
        mov     %eax, 8(%rdi)           # offset 63:32
        movl    $0, 12(%rdi)
        lidt    idtr(%rip)

        lea     hello(%rip), %rsi
        call    puts
        ud2
        lea     after(%rip), %rsi
        call    puts
        mov     $21, %eax
        out     %eax, $0xf4
        hlt

# puts(%rsi): NUL-terminated string to COM1
puts:
        mov     $0x3fd, %dx             # line status register
1:      lodsb
        test    %al, %al
        jz      3f
        mov     %al, %bl
2:      in      %dx, %al
        test    $0x20, %al              # transmitter holding register empty?
        jz      2b
        mov     $0x3f8, %dx
        mov     %bl, %al
        out     %al, %dx
        mov     $0x3fd, %dx
        jmp     1b
3:      ret

ud_handler:
        push    %rsi
        lea     caught(%rip), %rsi
        call    puts
        pop     %rsi
        addq    $2, (%rsp)              # skip the 2-byte UD2
        iretq

        .section .rodata
hello:  .asciz  "serial-idt: hello from COM1\n"
caught: .asciz  "serial-idt: caught #UD, skipping it\n"
after:  .asciz  "serial-idt: back from the handler\n"
        .data
        .align  16
idtr:   .word   256*16-1
        .quad   idt
        .align  16
idt:    .skip   256*16
