#!/usr/bin/env bash
# Rebuilds the example guest programs in examples/bin from examples/src with GNU as/ld and gcc.
# The binaries are committed, so running the examples needs no toolchain; this script is for
# changing them. Linux-ABI examples are static ELF executables that also run natively.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for name in loop fib sort dispatch callchain pmu_lbr lbr_profile lbr_toggle forever lbr_sample lbr_loop; do
    as --64 -I src -o "$tmp/$name.o" "src/$name.S"
    ld -static -nostdlib -o "bin/$name.elf" "$tmp/$name.o"
done

# The C example, with the flags the interpreter is required to cover.
gcc -O2 -ffreestanding -fcf-protection=none -mgeneral-regs-only -fno-pie -no-pie -static -nostdlib \
    -fno-stack-protector -fno-asynchronous-unwind-tables -o bin/primes.elf src/primes.c

# x87 double arithmetic: what gcc emits without SSE (the interpreter's x87 subset).
gcc -O2 -ffreestanding -fcf-protection=none -mno-sse -mno-sse2 -mno-mmx -fno-pie -no-pie -static -nostdlib \
    -fno-stack-protector -fno-asynchronous-unwind-tables -o bin/x87.elf src/x87.c

# Bare-metal flat binary at 0x100000 (the ELF is kept for disassembly).
as --64 -o "$tmp/serial-idt.o" src/serial-idt.S
ld -static -nostdlib -Ttext=0x100000 -e start -o "$tmp/serial-idt.elf" "$tmp/serial-idt.o"
objcopy -O binary "$tmp/serial-idt.elf" bin/serial-idt.bin

# Multiboot kernels (mb_*): 32-bit entry into long mode, linked at 1 MiB, then turned into an ELF32
# wrapper around the 64-bit code as kvm-unit-tests does (objcopy -O elf32-i386): QEMU's -kernel and
# lbrvmm's run --kernel take them as Multiboot kernels.
for name in mb_longmode mb_pagefault mb_highmap mb_remap; do
    as --64 -I src -o "$tmp/$name.o" "src/$name.S"
    ld -m elf_x86_64 -z max-page-size=0x1000 -z noseparate-code -Ttext=0x100000 -e _start -o "$tmp/$name.elf64" "$tmp/$name.o"
    objcopy -O elf32-i386 "$tmp/$name.elf64" "bin/$name.elf"
done

ls -l bin
