package dev.lbrvmm.vmm.cpu;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** A bare CPU over 1 MiB of memory for instruction-level tests: code at 0x1000, stack at 0x80000. */
final class CpuHarness {
    static final long CODE = 0x1000;
    static final long STACK = 0x80000;

    final GuestMemory mem = new GuestMemory(1 << 20);
    final Cpu cpu = new Cpu(0, mem);
    final List<long[]> branches = new ArrayList<>();
    final List<BranchKind> kinds = new ArrayList<>();
    CpuExit lastExit;

    CpuHarness(String hex) {
        put(CODE, hex);
        cpu.setRip(CODE);
        cpu.r[Cpu.RSP] = STACK;
    }

    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replaceAll("\\s+", ""));
    }

    CpuHarness put(long addr, String hex) {
        byte[] b = bytes(hex);
        mem.load(addr, b, 0, b.length);
        return this;
    }

    CpuHarness reg(int n, long v) {
        cpu.r[n] = v;
        return this;
    }

    CpuHarness recordBranches() {
        cpu.setBranchListener((from, to, kind, cpl) -> {
            branches.add(new long[] {from, to});
            kinds.add(kind);
        });
        return this;
    }

    /** Runs exactly n instructions (fewer if the CPU exits first). */
    CpuHarness run(int n) {
        lastExit = cpu.run(n);
        return this;
    }

    long r(int n) {
        return cpu.r[n];
    }

    boolean flag(long f) {
        return (cpu.rflags() & f) != 0;
    }

    long read64(long a) {
        return mem.read64(a);
    }

    /** Installs a 64-bit interrupt gate for vector v at handler in an IDT at idt, and runs nothing. */
    CpuHarness gate(long idt, int v, long handler) {
        long lo = (handler & 0xFFFF) | (0x08L << 16) | (0x8EL << 40) | ((handler & 0xFFFF_0000L) << 32);
        long hi = handler >>> 32;
        mem.write64(idt + v * 16L, lo);
        mem.write64(idt + v * 16L + 8, hi);
        return this;
    }
}
