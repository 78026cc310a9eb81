# A sampling guest, like `perf record -b`: counter 0 counts branch instructions retired and
# overflows every PERIOD branches; the PMI handler reads the whole LBR stack and sends it to the
# serial port (COM1) as one binary sample with a single REP OUTSB, then re-arms. By default
# DEBUGCTL = LBR | FREEZE_LBRS_ON_PMI: KVM emulates the freeze for its version-2 vPMU (intel_pmu_legacy_freezing_lbrs_on_pmi),
# clearing DEBUGCTL.LBR before the PMI, so each stack ends with the last branch before the
# interrupt. With DEBUGCTL = 1 (no freeze) the interrupt itself is the newest record (FROM = the
# interrupted RIP, TO = pmi_handler); the handler stops the LBR before any branch of its own
# either way. Workloads: recursive fib(24), then the bytecode dispatcher of dispatch.S. Summary
# text ("samples: N") goes to stdout (guest.program.stdout).
#
# Usage: lbr_sample [PERIOD [DEBUGCTL [ROUNDS [LBR_SELECT [TEXT]]]]]  (guest.program.args; decimal
# or 0x hex). PERIOD defaults to 10000 (at most 2^31-1); 0 = no counter, no PMIs. DEBUGCTL defaults
# to 0x801 (LBR | FREEZE_LBRS_ON_PMI); 1 = LBR without the freeze; 0 = no LBR. ROUNDS (default 1,
# at least 1) repeats both workloads. LBR_SELECT (default 0) is written before the LBR is enabled:
# 0x3c4 is perf's call-stack mode (`perf record --call-graph lbr`: only calls and returns, returns
# pop), which makes every sample the current call chain. TEXT = 1 sends each record below as one
# text line instead (fields in lower-case hex without 0x, separated by spaces; at PERIOD 10000 the
# handler then adds ~47% to the run's instructions, binary ~3%):
#   LBRSMPL1 <format> <depth> <LBR_SELECT> <PERIOD>
#   S <seq> <ip> <n> <from>/<to>/<info> ...      (n records, newest first)
#   E <number of samples>
# `lbrvmm bench sampling` compares PERIOD 10000 with "0 0x801" and "0 0".
#
# Serial stream (little-endian; `lbrvmm report` reads it; SampleFile.java documents the same):
#   header  16 bytes: "LBRSMPL1", u8 LBR format (PERF_CAPABILITIES[5:0]), u8 depth (32 or 16),
#                     u16 LBR_SELECT, u32 PERIOD
#   sample  16 + 24*n bytes: u8 'S', u8 n, u16 0, u32 sequence number (1, 2, ...),
#                     u64 interrupted RIP, then n records newest first, each the raw
#                     u64 FROM_IP, TO_IP and LBR_INFO MSR values; only records with FROM != 0
#   trailer 8 bytes:  u8 'E', 3 zero bytes, u32 number of samples
# Needs guest LBR and a vPMU, and a Nehalem-style LBR at 0x680/0x6c0: PERF_CAPABILITIES format 5
# means 32 entries with LBR_INFO at 0xdc0 (Skylake and later), any other 16 entries without INFO
# (Nehalem to Broadwell; the INFO field of each record is then 0). Exits 0.
        .include "linux.inc"
        .include "idt.inc"
        DEFAULT_PERIOD = 10000
        VECTOR = 0xf0
        COM1 = 0x3f8
# ARG N, VAR: VAR = argv[N] parsed as a number, when the guest has that many arguments (%rbx = argc)
        .macro  ARG n, var
        cmp     $\n+1, %rbx
        jb      9f
        mov     8+8*\n(%rsp), %rsi
        call    parse_u64
        mov     %rax, \var(%rip)
9:
        .endm

        .globl  _start
_start:
        mov     (%rsp), %rbx                    # argc
        movq    $DEFAULT_PERIOD, period(%rip)
        ARG     1, period
        ARG     2, debugctl
        ARG     3, rounds
        ARG     4, lbr_select
        ARG     5, text_mode
        cmpq    $0x7fffffff, period(%rip)       # PMC writes take 32 bits, sign-extended
        ja      bad_period
        cmpq    $0, rounds(%rip)
        je      bad_rounds
        mov     lbr_select(%rip), %ax
        mov     %ax, file_header+10(%rip)
        SET_GATE VECTOR, pmi_handler            # the PMI vector's IDT gate
        lidt    idtr(%rip)

        mov     $0x345, %ecx                    # PERF_CAPABILITIES: the LBR format for the header
        rdmsr
        and     $0x3f, %eax
        mov     %al, file_header+8(%rip)
        cmp     $5, %eax                        # format 5: 32 entries + LBR_INFO; else 16, no INFO
        jne     5f
        movq    $32, depth(%rip)
        movb    $1, has_info(%rip)
5:      mov     depth(%rip), %eax
        mov     %al, file_header+9(%rip)
        mov     period(%rip), %rax
        mov     %eax, file_header+12(%rip)
        lea     file_header(%rip), %rsi
        mov     $16, %ecx
        call    send

        mov     $0x1b, %ecx                     # IA32_APIC_BASE: x2APIC on
        rdmsr
        or      $0xc00, %eax
        wrmsr
        mov     $0x834, %ecx                    # LVT performance counter: vector, unmasked
        mov     $VECTOR, %eax
        xor     %edx, %edx
        wrmsr
        cmpq    $0, debugctl(%rip)
        je      2f
        mov     $0x1c8, %ecx                    # LBR_SELECT (0 = every branch, both rings)
        movzwl  lbr_select(%rip), %eax
        xor     %edx, %edx
        wrmsr
        mov     $0x1d9, %ecx                    # DEBUGCTL
        mov     debugctl(%rip), %eax
        xor     %edx, %edx
        wrmsr
2:      cmpq    $0, period(%rip)
        je      3f
        call    arm
        mov     $0x186, %ecx                    # PERFEVTSEL0: 0xC4 branches, USR|OS|INT|EN
        mov     $0x5300c4, %eax
        xor     %edx, %edx
        wrmsr
        mov     $0x38f, %ecx                    # GLOBAL_CTRL: counter 0
        mov     $1, %eax
        xor     %edx, %edx
        wrmsr
3:      sti

        mov     rounds(%rip), %r15
4:      mov     $24, %edi
        call    fib
        call    dispatch_run
        dec     %r15
        jnz     4b

        cli
        mov     $0x38f, %ecx
        xor     %eax, %eax
        xor     %edx, %edx
        wrmsr
        mov     $0x1d9, %ecx
        wrmsr
        mov     seq(%rip), %eax
        mov     %eax, trailer+4(%rip)
        lea     trailer(%rip), %rsi
        mov     $8, %ecx
        call    send
        PRINT   m_done, m_done_len
        mov     seq(%rip), %rdi
        call    print_u64
        PRINT   newline, 1
        xor     %edi, %edi
        jmp     exit_with

bad_period:
        PRINT   m_bad_period, m_bad_period_len
        mov     $2, %edi
        jmp     exit_with
bad_rounds:
        PRINT   m_bad_rounds, m_bad_rounds_len
        mov     $2, %edi
        jmp     exit_with

# PMC0 = -period: overflows after `period` more branches
arm:
        mov     $0xc1, %ecx
        mov     period(%rip), %rax
        neg     %rax
        mov     %rax, %rdx
        shr     $32, %rdx
        wrmsr
        ret

# send: the binary record (header, sample or trailer) of %ecx bytes at (%rsi) to COM1, as it is
# or, in text mode, as one line
send:
        cmpq    $0, text_mode(%rip)
        je      serial_out
        push    %rbx
        push    %r8
        mov     %rsi, %rbx
        lea     text_buf(%rip), %rdi
        cmpb    $'S', (%rbx)
        je      1f
        cmpb    $'E', (%rbx)
        je      3f
        mov     (%rbx), %rax                    # the header: "LBRSMPL1" then fields
        mov     %rax, (%rdi)
        add     $8, %rdi
        movzbl  8(%rbx), %eax                   # format
        call    put_field
        movzbl  9(%rbx), %eax                   # depth
        call    put_field
        movzwl  10(%rbx), %eax                  # LBR_SELECT
        call    put_field
        mov     12(%rbx), %eax                  # period
        call    put_field
        jmp     4f
3:      movb    $'E', (%rdi)                    # the trailer: E count
        inc     %rdi
        mov     4(%rbx), %eax
        call    put_field
        jmp     4f
1:      movb    $'S', (%rdi)                    # a sample: S seq ip n from/to/info...
        inc     %rdi
        mov     4(%rbx), %eax
        call    put_field
        mov     8(%rbx), %rax
        call    put_field
        movzbl  1(%rbx), %r8d
        mov     %r8, %rax
        call    put_field
        add     $16, %rbx
2:      test    %r8d, %r8d
        jz      4f
        mov     (%rbx), %rax
        call    put_field
        movb    $'/', (%rdi)
        inc     %rdi
        mov     8(%rbx), %rax
        call    put_hex
        movb    $'/', (%rdi)
        inc     %rdi
        mov     16(%rbx), %rax
        call    put_hex
        add     $24, %rbx
        dec     %r8d
        jmp     2b
4:      movb    $'\n', (%rdi)
        inc     %rdi
        lea     text_buf(%rip), %rsi
        mov     %rdi, %rcx
        sub     %rsi, %rcx
        pop     %r8
        pop     %rbx
        # fall through

# serial_out: %ecx bytes at (%rsi) to COM1, one string-I/O exit per page
serial_out:
        mov     $COM1, %dx
        rep outsb
        ret

# put_field: a space, then %rax as put_hex does
put_field:
        movb    $' ', (%rdi)
        inc     %rdi
        # fall through
# put_hex: %rax in lower-case hexadecimal without leading zeros at (%rdi), advancing %rdi.
# Clobbers %rcx and %rdx.
put_hex:
        mov     $60, %ecx
1:      mov     %rax, %rdx
        shr     %cl, %rdx
        test    $15, %dl
        jnz     2f
        sub     $4, %ecx
        jns     1b
        movb    $'0', (%rdi)
        inc     %rdi
        ret
2:      mov     %rax, %rdx
        shr     %cl, %rdx
        and     $15, %edx
        cmp     $10, %edx
        jb      3f
        add     $'a'-'0'-10, %edx
3:      add     $'0', %edx
        mov     %dl, (%rdi)
        inc     %rdi
        sub     $4, %ecx
        jns     2b
        ret

# parse_u64: decimal, or hexadecimal after "0x", string at (%rsi) -> %rax
parse_u64:
        xor     %eax, %eax
        cmpw    $0x7830, (%rsi)                 # "0x"
        je      3f
1:      movzbl  (%rsi), %ecx
        sub     $'0', %ecx
        cmp     $9, %ecx
        ja      2f
        imul    $10, %rax
        add     %rcx, %rax
        inc     %rsi
        jmp     1b
2:      ret
3:      add     $2, %rsi
4:      movzbl  (%rsi), %ecx
        lea     -'0'(%rcx), %edx
        cmp     $9, %edx
        jbe     5f
        or      $0x20, %ecx                     # lower case
        lea     -'a'(%rcx), %edx
        cmp     $5, %edx
        ja      2b
        add     $10, %edx
5:      shl     $4, %rax
        add     %rdx, %rax
        inc     %rsi
        jmp     4b

        .include "fib.inc"

# The dispatcher of dispatch.S, 20000 rounds.
dispatch_run:
        push    %r12
        push    %r13
        push    %r14
        xor     %r13d, %r13d
        mov     $20000, %r14d
        lea     code(%rip), %r12
        .include "dispatch.inc"

dispatch_done:
        pop     %r14
        pop     %r13
        pop     %r12
        ret

# The PMI handler. Stops the LBR first (no branch before that), reads TOS and the records newest
# first into the sample buffer, sends it, clears the overflow, re-arms, unmasks the LVT (delivery
# masked it), EOI, and turns the LBR back on as its last step, so the only handler branch the LBR
# sees is the IRETQ.
pmi_handler:
        push    %rax
        push    %rcx
        push    %rdx
        mov     $0x1d9, %ecx                    # DEBUGCTL = 0 (a no-op if KVM froze it already)
        xor     %eax, %eax
        xor     %edx, %edx
        wrmsr
        push    %rsi
        push    %rdi
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        incq    seq(%rip)
        lea     sample(%rip), %rdi
        mov     seq(%rip), %eax
        mov     %eax, 4(%rdi)
        mov     72(%rsp), %rax                  # the interrupted RIP (above the 9 saved registers)
        mov     %rax, 8(%rdi)
        lea     16(%rdi), %rsi                  # the next record
        mov     $0x1c9, %ecx                    # TOS
        rdmsr
        mov     %eax, %r8d
        mov     depth(%rip), %r11d
        lea     -1(%r11), %r10d                 # depth - 1: the ring's index mask
        xor     %r9d, %r9d                      # records read
1:      mov     %r8d, %ecx
        sub     %r9d, %ecx
        and     %r10d, %ecx
        mov     %ecx, %edi
        add     $0x680, %ecx                    # FROM_IP
        rdmsr
        shl     $32, %rdx
        or      %rdx, %rax
        jz      2f
        mov     %rax, (%rsi)
        lea     0x6c0(%rdi), %ecx               # TO_IP
        rdmsr
        mov     %eax, 8(%rsi)
        mov     %edx, 12(%rsi)
        xor     %eax, %eax
        xor     %edx, %edx
        cmpb    $0, has_info(%rip)
        je      3f
        lea     0xdc0(%rdi), %ecx               # LBR_INFO
        rdmsr
3:      mov     %eax, 16(%rsi)
        mov     %edx, 20(%rsi)
        add     $24, %rsi
        inc     %r9d
        cmp     %r11d, %r9d
        jb      1b
2:      lea     sample(%rip), %rdi
        mov     %r9b, 1(%rdi)
        mov     %rsi, %rcx
        sub     %rdi, %rcx
        mov     %rdi, %rsi
        call    send

        mov     $0x390, %ecx                    # GLOBAL_OVF_CTRL: clear counter 0's overflow
        mov     $1, %eax
        xor     %edx, %edx
        wrmsr
        call    arm
        mov     $0x834, %ecx                    # unmask the LVT entry
        mov     $VECTOR, %eax
        xor     %edx, %edx
        wrmsr
        mov     $0x80b, %ecx                    # EOI
        xor     %eax, %eax
        wrmsr
        mov     $0x1d9, %ecx                    # LBR back on (still frozen until this write)
        mov     debugctl(%rip), %eax
        wrmsr
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rdi
        pop     %rsi
        pop     %rdx
        pop     %rcx
        pop     %rax
        iretq

        .section .rodata
        .align  8
m_done: .ascii  "samples: "
        m_done_len = . - m_done
m_bad_period: .ascii "lbr_sample: PERIOD (argv[1]) must be 0 to 2147483647: counter writes take 32 bits\n"
        m_bad_period_len = . - m_bad_period
m_bad_rounds: .ascii "lbr_sample: ROUNDS (argv[3]) must be at least 1\n"
        m_bad_rounds_len = . - m_bad_rounds

        .data
        .align  16
idtr:   .word   256*16-1
        .quad   idt
seq:    .quad   0
period: .quad   0
debugctl: .quad 0x801                           # LBR | FREEZE_LBRS_ON_PMI
rounds: .quad   1
lbr_select: .quad 0
text_mode: .quad 0
depth:  .quad   16
has_info: .byte 0
file_header:
        .ascii  "LBRSMPL1"
        .byte   0, 0
        .word   0
        .long   0
trailer:
        .byte   'E', 0, 0, 0
        .long   0
        .align  4096
sample: .byte   'S', 0
        .word   0
        .skip   12 + 32*24
        .align  4096
text_buf: .skip 4096                            # one text sample: at most 32 x 52 + 60 bytes
        .align  16
idt:    .skip   256*16
