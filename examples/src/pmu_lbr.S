# What kvm-unit-tests x86/pmu_lbr.c checks, as an lbrvmm guest:
#  1. skip unless Intel, an architectural PMU, PDCM and a non-zero PERF_CAPABILITIES.LBR_FMT;
#  2. probe the LBR base: WRMSR 0 to 0x40/0x60 and, on #GP, to 0x680/0x6c0;
#  3. write LBR_SELECT = 0 and TOS = 0;
#  4. count entries: WRMSR FROM+i/TO+i until the first #GP        (check 1: count > 0);
#  5. DEBUGCTL.LBR = 1, a loop with calls and data-dependent branches, DEBUGCTL = 0;
#  6. RDMSR TOS                                                  (check 2: TOS != 0);
#  7. RDMSR every FROM+i and TO+i                                (check 3: all non-zero);
#  8. beyond kvm-unit-tests: every FROM/TO lies in this program's own image (check 4: records
#     the guest did not make - a host's, after a context switch nobody saved - are non-zero too).
# #GP is caught by an IDT handler that sets a flag and skips the 2-byte WRMSR/RDMSR.
# Prints PASS/FAIL per check and exits with the number of failures (0 on SKIP).
        .include "linux.inc"
        .include "idt.inc"
        .globl  _start
_start:
        SET_GATE 13, gp_handler
        lidt    idtr(%rip)
        xor     %r15d, %r15d                    # failures

        # 1. capability checks
        xor     %eax, %eax
        cpuid
        cmp     $0x756e6547, %ebx               # "Genu"
        jne     skip_cpu
        cmp     $0xa, %eax
        jb      skip_cpu
        mov     $0xa, %eax
        cpuid
        test    %al, %al
        jz      skip_cpu
        mov     $1, %eax
        cpuid
        bt      $15, %ecx                       # PDCM
        jnc     skip_cpu
        mov     $0x345, %ecx                    # IA32_PERF_CAPABILITIES
        rdmsr
        and     $0x3f, %eax
        jz      skip_cpu
        mov     %eax, %ebx
        PRINT   m_fmt, m_fmt_len
        mov     %rbx, %rdi
        call    print_u64
        PRINT   newline, 1

        # 2. probe the base
        mov     $0x40, %r12d
        mov     $0x60, %r13d
        call    probe
        jnc     2f
        mov     $0x680, %r12d
        mov     $0x6c0, %r13d
        call    probe
        jc      skip_platform
2:
        # 3. LBR_SELECT = 0, TOS = 0
        xor     %eax, %eax
        xor     %edx, %edx
        mov     $0x1c8, %ecx
        wrmsr
        mov     $0x1c9, %ecx
        wrmsr

        # 4. count entries
        xor     %r14d, %r14d
3:      cmp     $32, %r14d
        jae     4f
        movb    $0, gp_flag(%rip)
        xor     %eax, %eax
        xor     %edx, %edx
        lea     (%r12,%r14), %ecx
        wrmsr
        lea     (%r13,%r14), %ecx
        wrmsr
        cmpb    $0, gp_flag(%rip)
        jne     4f
        inc     %r14d
        jmp     3b
4:      PRINT   m_count, m_count_len
        mov     %r14, %rdi
        call    print_u64
        PRINT   newline, 1
        test    %r14d, %r14d
        setz    %al
        lea     m_c1(%rip), %rsi
        mov     $m_c1_len, %edx
        call    report

        # 5. record a workload
        mov     $0x1d9, %ecx
        mov     $1, %eax
        xor     %edx, %edx
        wrmsr
        call    lbr_loop
        mov     $0x1d9, %ecx
        xor     %eax, %eax
        xor     %edx, %edx
        wrmsr

        # 6. TOS != 0
        mov     $0x1c9, %ecx
        rdmsr
        test    %eax, %eax
        setz    %al
        lea     m_c2(%rip), %rsi
        mov     $m_c2_len, %edx
        call    report

        # 7. every FROM/TO != 0
        xor     %ebx, %ebx
        xor     %r8d, %r8d
5:      cmp     %r14d, %r8d
        jae     6f
        lea     (%r12,%r8), %ecx
        rdmsr
        or      %edx, %eax
        jz      7f
        lea     (%r13,%r8), %ecx
        rdmsr
        or      %edx, %eax
        jz      7f
        inc     %r8d
        jmp     5b
7:      mov     $1, %ebx
6:      mov     %bl, %al
        lea     m_c3(%rip), %rsi
        mov     $m_c3_len, %edx
        call    report

        # 8. every record is the guest's own
        xor     %ebx, %ebx
        xor     %r8d, %r8d
5:      cmp     %r14d, %r8d
        jae     6f
        lea     (%r12,%r8), %ecx
        rdmsr
        call    foreign
        lea     (%r13,%r8), %ecx
        rdmsr
        call    foreign
        inc     %r8d
        jmp     5b
6:      mov     %bl, %al
        lea     m_c4(%rip), %rsi
        mov     $m_c4_len, %edx
        call    report

        mov     %r15d, %edi
        jmp     exit_with

# foreign: %edx:%eax = FROM/TO value (flag bits 63:61 dropped, address sign-extended); sets %bl = 1 if it
# is non-zero and outside [__executable_start, etext)
foreign:
        shl     $32, %rdx
        mov     %eax, %eax
        or      %rdx, %rax
        jz      2f
        shl     $3, %rax                        # drop MISPRED/IN_TX/ABORT (bits 63:61, formats 3-7)
        sar     $3, %rax
        lea     __executable_start(%rip), %rdx
        cmp     %rdx, %rax
        jb      1f
        lea     etext(%rip), %rdx
        cmp     %rdx, %rax
        jb      2f
1:      mov     $1, %bl
2:      ret

skip_cpu:
        PRINT   m_skip_cpu, m_skip_cpu_len
        xor     %edi, %edi
        jmp     exit_with
skip_platform:
        PRINT   m_skip_plat, m_skip_plat_len
        xor     %edi, %edi
        jmp     exit_with

# probe: WRMSR 0 to %r12 and %r13; CF = 1 if either raised #GP
probe:
        movb    $0, gp_flag(%rip)
        xor     %eax, %eax
        xor     %edx, %edx
        mov     %r12d, %ecx
        wrmsr
        mov     %r13d, %ecx
        wrmsr
        cmpb    $0, gp_flag(%rip)
        je      1f
        stc
        ret
1:      clc
        ret

# report: %al = 1 for failure; %rsi/%rdx = check description
report:
        push    %rsi
        push    %rdx
        test    %al, %al
        jnz     1f
        PRINT   m_pass, m_pass_len
        jmp     2f
1:      inc     %r15d
        PRINT   m_fail, m_fail_len
2:      pop     %rdx
        pop     %rsi
        call    write_out
        PRINT   newline, 1
        ret

# The recorded workload: calls and a data-dependent branch per iteration.
        .globl  lbr_loop, lbr_step
lbr_loop:
        mov     $1000, %ecx
        mov     $12345, %eax
1:      call    lbr_step
        test    $4, %eax
        jz      2f
        inc     %r9
2:      dec     %ecx
        jnz     1b
        ret
lbr_step:
        imul    $1103515245, %eax, %eax
        add     $12345, %eax
        ret

gp_handler:
        add     $8, %rsp                        # error code
        addq    $2, (%rsp)                      # skip WRMSR/RDMSR
        movb    $1, gp_flag(%rip)
        iretq

        .section .rodata
m_fmt:  .ascii  "pmu_lbr: LBR format "
        m_fmt_len = . - m_fmt
m_count: .ascii "pmu_lbr: LBR entries: "
        m_count_len = . - m_count
m_pass: .ascii  "PASS: "
        m_pass_len = . - m_pass
m_fail: .ascii  "FAIL: "
        m_fail_len = . - m_fail
m_c1:   .ascii  "the LBR has entries (WRMSR to FROM/TO succeeds)"
        m_c1_len = . - m_c1
m_c2:   .ascii  "LBR_TOS is non-zero after the workload"
        m_c2_len = . - m_c2
m_c3:   .ascii  "every FROM and TO entry is non-zero"
        m_c3_len = . - m_c3
m_c4:   .ascii  "every FROM and TO entry is one of the guest's own branches"
        m_c4_len = . - m_c4
m_skip_cpu: .ascii "pmu_lbr: SKIP: LBR not supported (no Intel PMU with PDCM and an LBR format)\n"
        m_skip_cpu_len = . - m_skip_cpu
m_skip_plat: .ascii "pmu_lbr: SKIP: LBR on this platform is not supported!\n"
        m_skip_plat_len = . - m_skip_plat

        .data
        .align  16
idtr:   .word   256*16-1
        .quad   idt
gp_flag: .byte  0
        .align  16
idt:    .skip   256*16
