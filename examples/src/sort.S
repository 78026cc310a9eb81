# Insertion sort of 4000 pseudo-random 24-bit numbers (an LCG), then a check that the array is
# sorted and a position-weighted checksum. Data-dependent branches on every comparison.
# Exits 0 when the array is sorted and the checksum is right.
        .include "linux.inc"
        N = 4000
        .globl  _start
_start:
        lea     arr(%rip), %rbx
        mov     $12345, %eax
        xor     %ecx, %ecx
1:      imul    $1103515245, %eax, %eax
        add     $12345, %eax
        mov     %eax, %edx
        shr     $8, %edx
        mov     %edx, (%rbx,%rcx,4)
        inc     %ecx
        cmp     $N, %ecx
        jb      1b

        mov     $1, %ecx
2:      mov     (%rbx,%rcx,4), %eax
        lea     -1(%rcx), %rdx
3:      test    %rdx, %rdx
        js      4f
        mov     (%rbx,%rdx,4), %esi
        cmp     %eax, %esi
        jbe     4f
        mov     %esi, 4(%rbx,%rdx,4)
        dec     %rdx
        jmp     3b
4:      mov     %eax, 4(%rbx,%rdx,4)
        inc     %ecx
        cmp     $N, %ecx
        jb      2b

        xor     %r12d, %r12d            # checksum
        xor     %r13d, %r13d            # pairs out of order
        xor     %ecx, %ecx
5:      mov     (%rbx,%rcx,4), %eax
        lea     1(%rcx), %rdx
        imul    %rdx, %rax
        add     %rax, %r12
        cmp     $N-1, %ecx
        jae     6f
        mov     (%rbx,%rcx,4), %eax
        cmp     4(%rbx,%rcx,4), %eax
        jbe     6f
        inc     %r13
6:      inc     %ecx
        cmp     $N, %ecx
        jb      5b

        PRINT   msg, msg_len
        mov     %r12, %rdi
        call    print_u64
        PRINT   newline, 1
        test    %r13, %r13
        jz      7f
        mov     $-1, %r12               # not sorted: fails the check whatever the checksum
7:      EXIT_IF_EQUAL %r12, 0x51e50490eb83

        .section .rodata
msg:    .ascii  "sort: checksum = "
        msg_len = . - msg

        .bss
        .align  64
arr:    .skip   4*N
