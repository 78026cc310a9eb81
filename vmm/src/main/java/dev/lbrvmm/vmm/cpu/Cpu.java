package dev.lbrvmm.vmm.cpu;

import java.util.Arrays;

/**
 * One x86-64 logical processor in 64-bit mode: registers, lazily computed flags, a cache of
 * decoded blocks, and the interpreter loop.
 *
 * <p>Design (after blink): instructions are decoded once into {@link Insn}s grouped in
 * {@link Block}s that end at control transfers; the loop executes a block's instructions through
 * one dense switch. Arithmetic flags are not computed when an instruction runs: the operands and
 * result are kept and each flag is derived only when something reads it (a Jcc after a CMP reads
 * the operands directly). The loop allocates nothing and logs nothing; faults are preallocated or
 * thrown only on the (rare) faulting path.
 *
 * <p>Not modelled: paging (CR0/CR3/CR4 are stored, memory stays identity mapped), segmentation
 * limits and descriptor tables (selectors are stored; only FS/GS bases apply), the TSS (interrupts
 * never switch stacks), x87/SSE state. Instructions outside the decoder's set raise #UD.
 */
public final class Cpu {
    public static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
    public static final int R8 = 8, R9 = 9, R10 = 10, R11 = 11;
    public static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

    public static final long CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200;
    public static final long DF = 0x400, OF = 0x800, IOPL = 0x3000, NT = 0x4000, RF = 0x10000, AC = 0x40000;
    public static final long ID = 0x200000;
    private static final long ARITH = CF | PF | AF | ZF | SF | OF;
    private static final long POPF_MASK = ARITH | TF | IF | DF | IOPL | NT | AC | ID;

    public static final long EFER_SCE = 1, EFER_LME = 1 << 8, EFER_LMA = 1 << 10;

    static final long[] MASK = {0, 0xFFL, 0xFFFFL, 0, 0xFFFF_FFFFL, 0, 0, 0, -1L};
    private static final long[] SIGN = {0, 0x80L, 0x8000L, 0, 0x8000_0000L, 0, 0, 0, Long.MIN_VALUE};
    /** Left shift that moves an operand's sign bit to bit 63 (for sign extension). */
    private static final int[] SX_SHIFT = {0, 56, 48, 0, 32, 0, 0, 0, 0};

    // Lazy-flag operations.
    static final int F_LOGIC = 0, F_ADD = 1, F_ADC = 2, F_SUB = 3, F_SBB = 4, F_INC = 5, F_DEC = 6;
    static final int F_SHIFT = 7, F_EXPLICIT = 8;

    private static final int STOP_CHECK_INTERVAL = 64;
    private static final int CACHE_BITS = 16;
    private static final int CACHE_MASK = (1 << CACHE_BITS) - 1;

    /** vCPU index (names the vCPU in messages). */
    public final int index;
    private final GuestMemory mem;
    private final Decoder decoder;

    /** General-purpose registers RAX..R15. */
    public final long[] r = new long[16];
    long rip;

    // Lazy flags: operation, operand size, operands, result (all masked to size), auxiliary bits.
    int fOp = F_EXPLICIT;
    int fSize = 8;
    long fA, fB, fRes, fAux;
    /** RFLAGS bits other than the arithmetic ones (bit 1 always set). */
    private long rfl = 2;

    private final int[] sel = new int[6];
    /** CPL = CS.RPL, kept in step with sel[CS] (read on every branch). */
    private int cpl;
    private long fsBase, gsBase, kernelGsBase, efer, star, lstar, cstar, fmask, tscAux, apicBase;
    private final long[] cr = new long[9];
    private long idtBase, gdtBase;
    private int idtLimit, gdtLimit;
    private boolean idtLoaded;

    private long retired;
    /** Instructions of the current block counted at a branch (see instructionsAtBranch). */
    private int blockLen;
    private long tscOffset;

    /** The processor's LBR while it records: called directly (no interface dispatch on the hot path). */
    private LbrUnit lbr;
    /** Other observers of branches (tracers, profilers). */
    private BranchListener listener;
    /**
     * Branches retired (taken or not) since creation, counted unconditionally so the cost is the
     * same whether or not a vPMU branch event counts (no profile-dependent path in the hook).
     */
    long branches;
    /** When {@link #branches} reaches this, the attached {@link BranchCounter}'s alarm runs. */
    long branchAlarmAt = Long.MAX_VALUE;
    private BranchCounter branchCounter;
    private MsrBus msrBus;
    private CpuidTable cpuid = new CpuidTable();
    private final int[] cpuidOut = new int[4];

    private volatile boolean stopRequested;
    /** An external interrupt waiting for IF = 1 (the local APIC's output), or -1. */
    private int pendingVector = -1;
    private CpuExit exit;
    private boolean shutdown;
    private String shutdownReason;
    private int ioPort, ioSize;
    private long ioValue;
    /** OUTS: the bytes of the elements sent by this exit (-1 = a plain OUT); at most one page. */
    private final byte[] ioString = new byte[4096];
    private int ioStringLength = -1;
    private boolean pendingIn;

    private final Block[] cache = new Block[1 << CACHE_BITS];
    private int seenEpoch;

    // Results of a 128-by-64-bit division.
    private long divQ, divR;

    public Cpu(int index, GuestMemory mem) {
        this.index = index;
        this.mem = mem;
        this.decoder = new Decoder(mem);
        this.msrBus = new MsrBus() {
            @Override
            public long read(int idx) {
                return readCoreMsr(idx);
            }

            @Override
            public void write(int idx, long value) {
                writeCoreMsr(idx, value);
            }
        };
        reset();
    }

    /** Architectural state after RESET, already switched to 64-bit mode at CPL 0. */
    public void reset() {
        Arrays.fill(r, 0);
        rip = 0;
        fOp = F_EXPLICIT;
        fAux = 0;
        rfl = 2;
        Arrays.fill(sel, 0x10);
        sel[CS] = 0x08;
        cpl = 0;
        fsBase = gsBase = kernelGsBase = star = lstar = cstar = fmask = tscAux = 0;
        efer = EFER_LME | EFER_LMA | EFER_SCE;
        apicBase = 0xFEE0_0000L | (1 << 11) | (index == 0 ? 1 << 8 : 0);
        Arrays.fill(cr, 0);
        cr[0] = 0x8000_0031L; // PG | NE | ET | PE
        cr[4] = 0x20; // PAE
        idtBase = gdtBase = 0;
        idtLimit = gdtLimit = 0;
        idtLoaded = false;
        retired = 0;
        tscOffset = 0;
        exit = null;
        shutdown = false;
        shutdownReason = null;
        pendingIn = false;
        pendingVector = -1;
        flushCodeCache();
    }

    // ------------------------------------------------------------------ public state access

    public GuestMemory memory() {
        return mem;
    }

    public long rip() {
        return rip;
    }

    public void setRip(long v) {
        rip = v;
    }

    public int cpl() {
        return cpl;
    }

    public int selector(int seg) {
        return sel[seg];
    }

    public void setSelector(int seg, int value) {
        sel[seg] = value & 0xFFFF;
        cpl = sel[CS] & 3;
    }

    public long controlRegister(int n) {
        return cr[n];
    }

    public long idtBase() {
        return idtBase;
    }

    public int idtLimit() {
        return idtLimit;
    }

    /** Instructions retired since reset. */
    public long retired() {
        return retired;
    }

    /**
     * Instructions retired up to and including the branch being reported, valid inside a branch
     * hook call (branches end their block, so this is the block's start count plus its length).
     */
    public long instructionsAtBranch() {
        return retired + blockLen;
    }

    /** Time-stamp counter: one tick per retired instruction plus the written offset (deterministic). */
    public long tsc() {
        return retired + tscOffset;
    }

    /** Attaches an observer of every branch (null detaches). */
    public void setBranchListener(BranchListener l) {
        listener = l;
    }

    /** Attaches the LBR unit to the branch hook (null detaches; attach only while it records). */
    public void setLbrUnit(LbrUnit unit) {
        lbr = unit;
    }

    public BranchListener branchListener() {
        return listener;
    }

    public void setMsrBus(MsrBus bus) {
        msrBus = bus;
    }

    public void setCpuid(CpuidTable table) {
        cpuid = table;
    }

    public CpuidTable cpuid() {
        return cpuid;
    }

    /** Makes {@link #run(long)} return {@link CpuExit#STOPPED} at the next block boundary (any thread). */
    public void requestStop() {
        stopRequested = true;
    }

    public boolean isShutdown() {
        return shutdown;
    }

    public String shutdownReason() {
        return shutdownReason;
    }

    public int ioPort() {
        return ioPort;
    }

    public int ioSize() {
        return ioSize;
    }

    public long ioValue() {
        return ioValue;
    }

    /** For an OUTS exit, a copy of the bytes sent (elements of {@link #ioSize()} bytes each); else null. */
    public byte[] ioString() {
        return ioStringLength < 0 ? null : java.util.Arrays.copyOf(ioString, ioStringLength);
    }

    /** OUTS: the elements are read; the exit hands them to userspace like KVM's string PIO (io.count). */
    void stringOut(int port, int size, int length) {
        ioPort = port;
        ioSize = size;
        ioStringLength = length;
        exit = CpuExit.IO_OUT;
    }

    byte[] ioStringBuffer() {
        return ioString;
    }

    /** Finishes a pending IN: the value lands in AL/AX/EAX. */
    public void completeIn(long value) {
        if (!pendingIn) {
            throw new IllegalStateException("vCPU " + index + " has no IN instruction waiting for data");
        }
        pendingIn = false;
        setReg(RAX, ioSize, value & MASK[ioSize]);
    }

    /** Full RFLAGS with the lazily kept arithmetic flags materialized. */
    public long rflags() {
        long f = rfl & ~ARITH;
        if (cf()) f |= CF;
        if (pf()) f |= PF;
        if (af()) f |= AF;
        if (zf()) f |= ZF;
        if (sf()) f |= SF;
        if (of()) f |= OF;
        return f | 2;
    }

    public void setRflags(long v) {
        fOp = F_EXPLICIT;
        fAux = v & ARITH;
        rfl = (v & ~ARITH) | 2;
    }

    // ------------------------------------------------------------------ core MSRs

    /** True for the MSRs this CPU implements itself (not PMU/LBR ones, which the hypervisor routes). */
    public static boolean isCoreMsr(int idx) {
        return switch (idx) {
            case Msr.IA32_TIME_STAMP_COUNTER, Msr.IA32_APIC_BASE, Msr.IA32_EFER, Msr.IA32_STAR, Msr.IA32_LSTAR,
                    Msr.IA32_CSTAR, Msr.IA32_FMASK, Msr.IA32_FS_BASE, Msr.IA32_GS_BASE, Msr.IA32_KERNEL_GS_BASE,
                    Msr.IA32_TSC_AUX -> true;
            default -> false;
        };
    }

    public long readCoreMsr(int idx) {
        return switch (idx) {
            case Msr.IA32_TIME_STAMP_COUNTER -> tsc();
            case Msr.IA32_APIC_BASE -> apicBase;
            case Msr.IA32_EFER -> efer;
            case Msr.IA32_STAR -> star;
            case Msr.IA32_LSTAR -> lstar;
            case Msr.IA32_CSTAR -> cstar;
            case Msr.IA32_FMASK -> fmask;
            case Msr.IA32_FS_BASE -> fsBase;
            case Msr.IA32_GS_BASE -> gsBase;
            case Msr.IA32_KERNEL_GS_BASE -> kernelGsBase;
            case Msr.IA32_TSC_AUX -> tscAux;
            default -> throw CpuFault.gp();
        };
    }

    public void writeCoreMsr(int idx, long v) {
        switch (idx) {
            case Msr.IA32_TIME_STAMP_COUNTER -> tscOffset = v - retired;
            case Msr.IA32_APIC_BASE -> apicBase = v;
            case Msr.IA32_EFER -> {
                if ((v & ~(EFER_SCE | EFER_LME | EFER_LMA | (1 << 11))) != 0) {
                    throw CpuFault.gp();
                }
                efer = v | EFER_LMA | EFER_LME; // long mode cannot be left here
            }
            case Msr.IA32_STAR -> star = v;
            case Msr.IA32_LSTAR -> lstar = canonical(v);
            case Msr.IA32_CSTAR -> cstar = canonical(v);
            case Msr.IA32_FMASK -> fmask = v & 0xFFFF_FFFFL;
            case Msr.IA32_FS_BASE -> fsBase = canonical(v);
            case Msr.IA32_GS_BASE -> gsBase = canonical(v);
            case Msr.IA32_KERNEL_GS_BASE -> kernelGsBase = canonical(v);
            case Msr.IA32_TSC_AUX -> tscAux = v & 0xFFFF_FFFFL;
            default -> throw CpuFault.gp();
        }
    }

    /** True when bits 63:47 of v are all equal (48-bit linear addresses). */
    public static boolean isCanonical(long v) {
        return (v << 16 >> 16) == v;
    }

    private static long canonical(long v) {
        if (!isCanonical(v)) {
            throw CpuFault.gp();
        }
        return v;
    }

    // ------------------------------------------------------------------ run loop

    /**
     * Executes guest instructions until an exit or until {@code budget} instructions have retired
     * in this call (exactly: a block is cut where the budget ends).
     */
    public CpuExit run(long budget) {
        if (shutdown) {
            return CpuExit.SHUTDOWN;
        }
        if (pendingIn) {
            throw new IllegalStateException("vCPU " + index + ": IN at RIP 0x" + Long.toHexString(rip)
                    + " was not completed before running again");
        }
        long left = budget;
        Block b = null;
        int blocksSinceStopCheck = STOP_CHECK_INTERVAL;
        while (left > 0) {
            // The volatile stop flag is read every STOP_CHECK_INTERVAL blocks (at most ~4K instructions late).
            if (++blocksSinceStopCheck > STOP_CHECK_INTERVAL) {
                blocksSinceStopCheck = 0;
                if (stopRequested) {
                    stopRequested = false;
                    return CpuExit.STOPPED;
                }
            }
            if (mem.codeEpoch() != seenEpoch) {
                flushCodeCache();
                b = null;
            }
            if (pendingVector >= 0 && (rfl & IF) != 0) {
                int v = pendingVector;
                pendingVector = -1;
                blockLen = 0; // the interrupt comes between blocks: nothing of a block is pending
                if (!injectInterrupt(v)) {
                    return CpuExit.SHUTDOWN;
                }
                b = null;
            }
            b = successor(b, rip);
            Insn[] code = b.insns;
            int n = code.length;
            if (n > left) {
                n = (int) left;
            }
            int i = 0;
            blockLen = n;
            try {
                // RIP is stored once per block: branches set it, otherwise it is the last insn's next.
                do {
                    Insn in = code[i++];
                    in.handler.exec(this, in);
                } while (i < n && mem.codeEpoch() == seenEpoch);
                Insn last = code[i - 1];
                if (!last.branch) {
                    rip = last.next;
                }
            } catch (CpuFault f) {
                i--; // the faulting instruction does not retire
                rip = code[i].rip;
                blockLen = i;
                raise(f, code[i]);
            } catch (RuntimeException e) {
                Insn in = code[i - 1];
                i--;
                rip = in.rip;
                shutdown = true;
                shutdownReason = String.format("vCPU %d: internal interpreter error at RIP=0x%x (%s): %s; instruction bytes: %s",
                        index, in.rip, Op.name(in.op), e, instructionBytes(in.rip));
                retired += i;
                return CpuExit.INTERNAL_ERROR;
            }
            retired += i;
            left -= i;
            if (exit != null) {
                CpuExit e = exit;
                exit = null;
                return e;
            }
        }
        return CpuExit.BUDGET;
    }

    /** The block at pc, found through the previous block's two-entry successor cache when possible. */
    private Block successor(Block prev, long pc) {
        if (prev == null) {
            return lookup(pc);
        }
        Block s = prev.succA;
        if (s != null && s.rip == pc) {
            return s;
        }
        s = prev.succB;
        if (s != null && s.rip == pc) {
            return s;
        }
        Block nb = lookup(pc);
        if (prev.succA == null) {
            prev.succA = nb;
        } else {
            prev.succB = nb;
        }
        return nb;
    }

    private Block lookup(long pc) {
        int h = (int) (pc ^ (pc >>> CACHE_BITS)) & CACHE_MASK;
        Block b = cache[h];
        if (b != null && b.rip == pc) {
            return b;
        }
        b = decodeBlock(pc);
        cache[h] = b;
        return b;
    }

    private Block decodeBlock(long start) {
        Insn[] buf = new Insn[Block.MAX_INSNS];
        int n = 0;
        long pc = start;
        while (n < Block.MAX_INSNS) {
            Insn in = decoder.decode(pc);
            if (n > 0 && in.observesRetired) {
                break; // it must start its own block so the retired count is exact when it runs
            }
            buf[n++] = in;
            pc = in.next;
            if (in.endsBlock) {
                break;
            }
        }
        Block b = new Block(start, Arrays.copyOf(buf, n), (int) (pc - start));
        mem.markCode(start, b.byteLen);
        seenEpoch = mem.codeEpoch();
        return b;
    }

    /** Drops every decoded block (after self-modifying code, reset, or a host write into code). */
    public void flushCodeCache() {
        Arrays.fill(cache, null);
        seenEpoch = mem.codeEpoch();
    }

    // ------------------------------------------------------------------ registers and memory

    private long getReg(int n, int size) {
        if (size != 1) {
            return r[n] & MASK[size];
        }
        return n < 16 ? r[n] & 0xFF : (r[n - 16] >>> 8) & 0xFF;
    }

    private void setReg(int n, int size, long v) {
        if (size >= 4) {
            r[n] = v & MASK[size]; // 32-bit results zero-extend into the full register
        } else {
            setRegNarrow(n, size, v);
        }
    }

    private void setRegNarrow(int n, int size, long v) {
        if (size == 2) {
            r[n] = (r[n] & ~0xFFFFL) | (v & 0xFFFF);
        } else if (n < 16) {
            r[n] = (r[n] & ~0xFFL) | (v & 0xFF);
        } else {
            r[n - 16] = (r[n - 16] & ~0xFF00L) | ((v & 0xFF) << 8);
        }
    }

    long ea(Insn i) {
        long a = i.disp;
        if (i.base >= 0) {
            a += r[i.base];
        }
        if (i.index >= 0) {
            a += r[i.index] << i.scale;
        }
        if (i.addr32) {
            a &= 0xFFFF_FFFFL;
        }
        if (i.seg != 0) {
            a += i.seg == 1 ? fsBase : gsBase;
        }
        return a;
    }

    private CpuFault pageFault(long addr, boolean write) {
        return new CpuFault(Vector.PF, write ? 2 : 0, addr);
    }

    /** Reads guest memory as an instruction would: out-of-range addresses raise #PF. */
    public long load(long a, int size) {
        if (!mem.inBounds(a, size)) {
            throw pageFault(a, false);
        }
        switch (size) {
            case 8:
                return mem.read64(a);
            case 4:
                return mem.read32(a);
            case 2:
                return mem.read16(a);
            default:
                return mem.read8(a);
        }
    }

    public void store(long a, int size, long v) {
        if (!mem.inBounds(a, size)) {
            throw pageFault(a, true);
        }
        switch (size) {
            case 8 -> mem.write64(a, v);
            case 4 -> mem.write32(a, v);
            case 2 -> mem.write16(a, v);
            default -> mem.write8(a, v);
        }
    }

    private long readRm(Insn in) {
        return in.mem ? load(ea(in), in.size) : getReg(in.rm, in.size);
    }

    private void writeRm(Insn in, long v) {
        if (in.mem) {
            store(ea(in), in.size, v);
        } else {
            setReg(in.rm, in.size, v);
        }
    }

    void push(long v, int size) {
        long sp = r[RSP] - size;
        store(sp, size, v);
        r[RSP] = sp;
    }

    long pop(int size) {
        long v = load(r[RSP], size);
        r[RSP] += size;
        return v;
    }

    /** Unsigned a < b. */
    private static boolean ult(long a, long b) {
        return a + Long.MIN_VALUE < b + Long.MIN_VALUE;
    }

    private static long sx(long v, int size) {
        int s = SX_SHIFT[size];
        return v << s >> s;
    }

    // ------------------------------------------------------------------ lazy flags

    boolean cf() {
        switch (fOp) {
            case F_LOGIC:
                return false;
            case F_ADD:
                return ult(fRes, fA);
            case F_ADC:
                return fAux != 0 ? !ult(fA, fRes) : ult(fRes, fA);
            case F_SUB:
                return ult(fA, fB);
            case F_SBB:
                return fAux != 0 ? !ult(fB, fA) : ult(fA, fB);
            case F_INC:
            case F_DEC:
                return fAux != 0;
            default:
                return (fAux & CF) != 0;
        }
    }

    private boolean zf() {
        return fOp == F_EXPLICIT ? (fAux & ZF) != 0 : fRes == 0;
    }

    private boolean sf() {
        return fOp == F_EXPLICIT ? (fAux & SF) != 0 : (fRes & SIGN[fSize]) != 0;
    }

    private boolean pf() {
        return fOp == F_EXPLICIT ? (fAux & PF) != 0 : (Integer.bitCount((int) fRes & 0xFF) & 1) == 0;
    }

    private boolean af() {
        switch (fOp) {
            case F_ADD:
            case F_ADC:
            case F_SUB:
            case F_SBB:
            case F_INC:
            case F_DEC:
                return ((fA ^ fB ^ fRes) & 0x10) != 0;
            case F_EXPLICIT:
                return (fAux & AF) != 0;
            default:
                return false;
        }
    }

    private boolean of() {
        long s = SIGN[fSize];
        switch (fOp) {
            case F_ADD:
            case F_ADC:
            case F_INC:
                return ((fA ^ fRes) & (fB ^ fRes) & s) != 0;
            case F_SUB:
            case F_SBB:
            case F_DEC:
                return ((fA ^ fB) & (fA ^ fRes) & s) != 0;
            case F_LOGIC:
                return false;
            default:
                return (fAux & OF) != 0;
        }
    }

    /** Evaluates condition code cc (0 = O ... 15 = G). CMP+Jcc compares the kept operands directly. */
    boolean cond(int cc) {
        boolean t;
        if (fOp == F_SUB) {
            long a = fA, b = fB;
            switch (cc >> 1) {
                case 1 -> t = ult(a, b);
                case 2 -> t = a == b;
                case 3 -> t = !ult(b, a);
                case 6 -> t = sx(a, fSize) < sx(b, fSize);
                case 7 -> t = sx(a, fSize) <= sx(b, fSize);
                default -> t = slowCond(cc >> 1);
            }
        } else {
            t = slowCond(cc >> 1);
        }
        return t ^ ((cc & 1) != 0);
    }

    private boolean slowCond(int k) {
        switch (k) {
            case 0:
                return of();
            case 1:
                return cf();
            case 2:
                return zf();
            case 3:
                return cf() || zf();
            case 4:
                return sf();
            case 5:
                return pf();
            case 6:
                return sf() != of();
            default:
                return zf() || sf() != of();
        }
    }

    private void setExplicit(long flags) {
        fOp = F_EXPLICIT;
        fAux = flags & ARITH;
    }

    /** Current arithmetic flags with CF (and OF) replaced: for BT, rotates, CLC/STC/CMC. */
    private void setCfOf(boolean c, boolean o, boolean setOf) {
        long f = rflags() & ARITH & ~CF;
        if (c) f |= CF;
        if (setOf) {
            f = (f & ~OF) | (o ? OF : 0);
        }
        setExplicit(f);
    }

    private void setShiftFlags(long res, int size, boolean c, boolean o) {
        fOp = F_SHIFT;
        fRes = res;
        fSize = size;
        fAux = (c ? CF : 0) | (o ? OF : 0);
    }

    long alu(int op, long a, long b, int size) {
        long m = MASK[size];
        long res;
        switch (op) {
            case 0:
                res = (a + b) & m;
                fOp = F_ADD;
                break;
            case 1:
                res = a | b;
                fOp = F_LOGIC;
                break;
            case 2: {
                long c = cf() ? 1 : 0;
                res = (a + b + c) & m;
                fOp = F_ADC;
                fAux = c;
                break;
            }
            case 3: {
                long c = cf() ? 1 : 0;
                res = (a - b - c) & m;
                fOp = F_SBB;
                fAux = c;
                break;
            }
            case 4:
                res = a & b;
                fOp = F_LOGIC;
                break;
            case 6:
                res = a ^ b;
                fOp = F_LOGIC;
                break;
            default: // 5 SUB, 7 CMP
                res = (a - b) & m;
                fOp = F_SUB;
        }
        fA = a;
        fB = b;
        fRes = res;
        fSize = size;
        return res;
    }

    // ------------------------------------------------------------------ branches

    /**
     * The branch hook: every taken branch of every kind comes through here.
     *
     * @param kind a {@code BranchKind.K_*} constant (an int, so the LBR unit's filters fold)
     */
    void branch(long from, long to, int kind) {
        LbrUnit u = lbr;
        if (u != null) {
            u.record(from, to, kind, cpl);
        }
        BranchListener l = listener;
        if (l != null) {
            l.onBranch(from, to, BranchKind.of(kind), cpl);
        }
        if (++branches == branchAlarmAt) {
            branchCounter.alarm();
        }
    }

    void notTaken(long from) {
        LbrUnit u = lbr;
        if (u != null) {
            u.onNotTaken(from);
        }
        BranchListener l = listener;
        if (l != null) {
            l.onNotTaken(from);
        }
        if (++branches == branchAlarmAt) {
            branchCounter.alarm();
        }
    }

    /** Attaches (or with null detaches) a counter of the branches retired from now on, taken or not. */
    public void setBranchCounter(BranchCounter c) {
        if (c == branchCounter) {
            return;
        }
        if (branchCounter != null) {
            branchCounter.detach();
        }
        branchCounter = c;
        branchAlarmAt = Long.MAX_VALUE;
        if (c != null) {
            c.attach(this);
        }
    }

    // ------------------------------------------------------------------ executor

    /** The common instructions, kept small enough for the JIT to inline their helpers. */
    void exec(Insn in) {
        switch (in.op) {
            case Op.NOP, Op.PAUSE -> { }
            case Op.MOV_R_RM -> setReg(in.reg, in.size, readRm(in));
            case Op.MOV_RM_R -> writeRm(in, getReg(in.reg, in.size));
            case Op.MOV_RM_I -> writeRm(in, in.imm);
            case Op.ALU_RM_R -> {
                if (in.mem) {
                    long a = ea(in);
                    long res = alu(in.ext, load(a, in.size), getReg(in.reg, in.size), in.size);
                    if (in.ext != 7) {
                        store(a, in.size, res);
                    }
                } else {
                    long res = alu(in.ext, getReg(in.rm, in.size), getReg(in.reg, in.size), in.size);
                    if (in.ext != 7) {
                        setReg(in.rm, in.size, res);
                    }
                }
            }
            case Op.ALU_R_RM -> {
                long res = alu(in.ext, getReg(in.reg, in.size), readRm(in), in.size);
                if (in.ext != 7) {
                    setReg(in.reg, in.size, res);
                }
            }
            case Op.ALU_RM_I -> {
                if (in.mem) {
                    long a = ea(in);
                    long res = alu(in.ext, load(a, in.size), in.imm, in.size);
                    if (in.ext != 7) {
                        store(a, in.size, res);
                    }
                } else {
                    long res = alu(in.ext, getReg(in.rm, in.size), in.imm, in.size);
                    if (in.ext != 7) {
                        setReg(in.rm, in.size, res);
                    }
                }
            }
            case Op.TEST_RM_R -> alu(4, readRm(in), getReg(in.reg, in.size), in.size);
            case Op.TEST_RM_I -> alu(4, readRm(in), in.imm, in.size);
            case Op.MOVZX -> setReg(in.reg, in.size, in.mem ? load(ea(in), in.size2) : getReg(in.rm, in.size2));
            case Op.MOVSX -> {
                long v = in.mem ? load(ea(in), in.size2) : getReg(in.rm, in.size2);
                setReg(in.reg, in.size, sx(v, in.size2) & MASK[in.size]);
            }
            case Op.INC, Op.DEC -> {
                long a = in.mem ? ea(in) : 0;
                long v = in.mem ? load(a, in.size) : getReg(in.rm, in.size);
                long c = cf() ? 1 : 0;
                boolean inc = in.op == Op.INC;
                long res = (inc ? v + 1 : v - 1) & MASK[in.size];
                fOp = inc ? F_INC : F_DEC;
                fA = v;
                fB = 1;
                fRes = res;
                fSize = in.size;
                fAux = c;
                if (in.mem) {
                    store(a, in.size, res);
                } else {
                    setReg(in.rm, in.size, res);
                }
            }
            case Op.IMUL_R_RM -> setReg(in.reg, in.size, imulTrunc(getReg(in.reg, in.size), readRm(in), in.size));
            case Op.IMUL_R_RM_I -> setReg(in.reg, in.size, imulTrunc(readRm(in), in.imm, in.size));
            case Op.SHIFT_I -> shift(in, (int) in.imm);
            case Op.SETCC -> writeRm(in, cond(in.ext) ? 1 : 0);
            case Op.CMOVCC -> {
                long v = readRm(in);
                if (cond(in.ext)) {
                    setReg(in.reg, in.size, v);
                } else if (in.size == 4) {
                    r[in.reg] &= 0xFFFF_FFFFL; // a 32-bit CMOV always zero-extends its destination
                }
            }
            case Op.PUSH_R -> push(getReg(in.reg, in.size), in.size);
            case Op.POP_R -> setReg(in.reg, in.size, pop(in.size));
            case Op.CALL_RM -> {
                long t = readRm(in);
                push(in.next, 8);
                rip = t;
                branch(in.rip, t, BranchKind.K_NEAR_IND_CALL);
            }
            case Op.JMP_RM -> {
                long t = readRm(in);
                rip = t;
                branch(in.rip, t, BranchKind.K_NEAR_IND_JMP);
            }
            default -> execRare(in);
        }
    }

    private void execRare(Insn in) {
        switch (in.op) {
            case Op.NEG -> {
                long a = in.mem ? ea(in) : 0;
                long v = in.mem ? load(a, in.size) : getReg(in.rm, in.size);
                long res = alu(5, 0, v, in.size);
                if (in.mem) {
                    store(a, in.size, res);
                } else {
                    setReg(in.rm, in.size, res);
                }
            }
            case Op.NOT -> {
                long a = in.mem ? ea(in) : 0;
                long v = in.mem ? load(a, in.size) : getReg(in.rm, in.size);
                long res = ~v & MASK[in.size];
                if (in.mem) {
                    store(a, in.size, res);
                } else {
                    setReg(in.rm, in.size, res);
                }
            }
            case Op.MUL, Op.IMUL1 -> mulWide(in);
            case Op.DIV -> divUnsigned(in);
            case Op.IDIV -> divSigned(in);
            case Op.CBW -> {
                switch (in.size) {
                    case 2 -> setReg(RAX, 2, sx(r[RAX] & 0xFF, 1));
                    case 4 -> setReg(RAX, 4, sx(r[RAX] & 0xFFFF, 2));
                    default -> r[RAX] = sx(r[RAX] & 0xFFFF_FFFFL, 4);
                }
            }
            case Op.CWD -> {
                long neg = (getReg(RAX, in.size) & SIGN[in.size]) != 0 ? -1L : 0;
                setReg(RDX, in.size, neg & MASK[in.size]);
            }
            case Op.SHIFT_CL -> shift(in, (int) r[RCX]);
            case Op.SHLD, Op.SHRD -> doubleShift(in);
            case Op.BT_R, Op.BT_I -> bitTest(in);
            case Op.BSF, Op.BSR -> {
                long v = readRm(in);
                long f = rflags() & ARITH & ~ZF;
                if (v == 0) {
                    f |= ZF; // destination left unchanged
                } else {
                    setReg(in.reg, in.size, in.op == Op.BSF ? Long.numberOfTrailingZeros(v) : 63 - Long.numberOfLeadingZeros(v));
                }
                setExplicit(f);
            }
            case Op.TZCNT, Op.LZCNT -> {
                long v = readRm(in);
                int bits = in.size * 8;
                long res = v == 0 ? bits
                        : in.op == Op.TZCNT ? Long.numberOfTrailingZeros(v) : Long.numberOfLeadingZeros(v) - (64 - bits);
                setReg(in.reg, in.size, res);
                long f = rflags() & ARITH & ~(CF | ZF);
                setExplicit(f | (v == 0 ? CF : 0) | (res == 0 ? ZF : 0));
            }
            case Op.POPCNT -> {
                long v = readRm(in);
                setReg(in.reg, in.size, Long.bitCount(v));
                setExplicit(v == 0 ? ZF : 0);
            }
            case Op.BSWAP -> {
                switch (in.size) {
                    case 8 -> r[in.reg] = Long.reverseBytes(r[in.reg]);
                    case 4 -> r[in.reg] = Integer.reverseBytes((int) r[in.reg]) & 0xFFFF_FFFFL;
                    default -> setReg(in.reg, 2, 0); // undefined for 16-bit operands; zero here
                }
            }
            case Op.XCHG -> {
                if (in.mem) {
                    long a = ea(in);
                    long t = load(a, in.size);
                    store(a, in.size, getReg(in.reg, in.size));
                    setReg(in.reg, in.size, t);
                } else {
                    long t = getReg(in.rm, in.size);
                    setReg(in.rm, in.size, getReg(in.reg, in.size));
                    setReg(in.reg, in.size, t);
                }
            }
            case Op.XADD -> {
                long a = in.mem ? ea(in) : 0;
                long d = in.mem ? load(a, in.size) : getReg(in.rm, in.size);
                long sum = alu(0, d, getReg(in.reg, in.size), in.size);
                setReg(in.reg, in.size, d);
                if (in.mem) {
                    store(a, in.size, sum);
                } else {
                    setReg(in.rm, in.size, sum);
                }
            }
            case Op.CMPXCHG -> {
                long a = in.mem ? ea(in) : 0;
                long d = in.mem ? load(a, in.size) : getReg(in.rm, in.size);
                alu(7, getReg(RAX, in.size), d, in.size);
                if (zf()) {
                    long src = getReg(in.reg, in.size);
                    if (in.mem) {
                        store(a, in.size, src);
                    } else {
                        setReg(in.rm, in.size, src);
                    }
                } else {
                    if (in.mem) {
                        store(a, in.size, d); // the locked cycle always writes
                    }
                    setReg(RAX, in.size, d);
                }
            }
            case Op.PUSH_I -> push(in.imm, in.size);
            case Op.PUSH_RM -> push(readRm(in), in.size);
            case Op.POP_RM -> {
                long v = load(r[RSP], in.size);
                r[RSP] += in.size; // the address is computed with the incremented RSP
                try {
                    writeRm(in, v);
                } catch (CpuFault f) {
                    r[RSP] -= in.size;
                    throw f;
                }
            }
            case Op.PUSHF -> push(rflags() & ~RF & MASK[in.size], in.size);
            case Op.POPF -> {
                long v = pop(in.size);
                long mask = cpl() == 0 ? POPF_MASK : POPF_MASK & ~(IF | IOPL);
                if (in.size == 2) {
                    mask &= 0xFFFF;
                }
                setRflags((rflags() & ~mask) | (v & mask));
            }
            case Op.RET_I -> {
                long t = pop(8);
                r[RSP] += in.imm;
                rip = t;
                branch(in.rip, t, BranchKind.K_NEAR_RET);
            }
            case Op.LOOP -> {
                // With a 0x67 prefix the count is ECX (written back zero-extended).
                long c = in.addr32 ? (r[RCX] - 1) & 0xFFFF_FFFFL : r[RCX] - 1;
                r[RCX] = c;
                boolean take = c != 0 && (in.ext == 2 || (in.ext == 1) == zf());
                if (take) {
                    rip = in.target;
                    branch(in.rip, in.target, BranchKind.K_CONDITIONAL);
                } else {
                    rip = in.next;
                    notTaken(in.rip);
                }
            }
            case Op.JRCXZ -> {
                long c = in.addr32 ? r[RCX] & 0xFFFF_FFFFL : r[RCX];
                if (c == 0) {
                    rip = in.target;
                    branch(in.rip, in.target, BranchKind.K_CONDITIONAL);
                } else {
                    rip = in.next;
                    notTaken(in.rip);
                }
            }
            case Op.LEAVE -> {
                long v = load(r[RBP], 8);
                r[RSP] = r[RBP] + 8;
                r[RBP] = v;
            }
            case Op.ENTER -> enter(in);
            case Op.MOVS, Op.STOS, Op.LODS, Op.SCAS, Op.CMPS -> StringOps.exec(this, in);
            case Op.CPUID -> {
                cpuid.lookup((int) r[RAX], (int) r[RCX], cpuidOut);
                r[RAX] = cpuidOut[0] & 0xFFFF_FFFFL;
                r[RBX] = cpuidOut[1] & 0xFFFF_FFFFL;
                r[RCX] = cpuidOut[2] & 0xFFFF_FFFFL;
                r[RDX] = cpuidOut[3] & 0xFFFF_FFFFL;
            }
            case Op.RDMSR -> {
                requireCpl0();
                rip = in.rip; // the hypervisor sees the RIP of the MSR access
                long v = msrBus.read((int) r[RCX]);
                r[RAX] = v & 0xFFFF_FFFFL;
                r[RDX] = v >>> 32;
            }
            case Op.WRMSR -> {
                requireCpl0();
                rip = in.rip;
                msrBus.write((int) r[RCX], (r[RDX] << 32) | (r[RAX] & 0xFFFF_FFFFL));
            }
            case Op.RDTSC, Op.RDTSCP -> {
                long t = tsc() + 1; // the count includes this instruction
                r[RAX] = t & 0xFFFF_FFFFL;
                r[RDX] = t >>> 32;
                if (in.op == Op.RDTSCP) {
                    r[RCX] = tscAux;
                }
            }
            case Op.HLT -> {
                requireCpl0();
                exit = CpuExit.HLT;
            }
            case Op.IN -> {
                requireIo();
                ioPort = in.ext == 0 ? (int) in.imm : (int) (r[RDX] & 0xFFFF);
                ioSize = in.size;
                pendingIn = true;
                exit = CpuExit.IO_IN;
            }
            case Op.OUT -> {
                requireIo();
                ioPort = in.ext == 0 ? (int) in.imm : (int) (r[RDX] & 0xFFFF);
                ioSize = in.size;
                ioValue = getReg(RAX, in.size);
                ioStringLength = -1;
                exit = CpuExit.IO_OUT;
            }
            case Op.OUTS -> {
                requireIo();
                StringOps.outs(this, in);
            }
            case Op.INT3 -> softwareInterrupt(Vector.BP, in);
            case Op.INT -> softwareInterrupt((int) in.imm, in);
            case Op.CLI -> {
                requireIo();
                rfl &= ~IF;
            }
            case Op.STI -> {
                requireIo();
                rfl |= IF;
            }
            case Op.CLC -> setCfOf(false, false, false);
            case Op.STC -> setCfOf(true, false, false);
            case Op.CMC -> setCfOf(!cf(), false, false);
            case Op.CLD -> rfl &= ~DF;
            case Op.STD -> rfl |= DF;
            case Op.LAHF -> setReg(16, 1, (rflags() & 0xD5) | 2);
            case Op.SAHF -> setExplicit((rflags() & OF) | ((r[RAX] >>> 8) & 0xD5));
            case Op.LIDT, Op.LGDT -> {
                requireCpl0();
                long a = ea(in);
                int limit = (int) load(a, 2);
                long base = load(a + 2, 8);
                if (in.op == Op.LIDT) {
                    idtLimit = limit;
                    idtBase = base;
                    idtLoaded = true;
                } else {
                    gdtLimit = limit;
                    gdtBase = base;
                }
            }
            case Op.SIDT, Op.SGDT -> {
                long a = ea(in);
                boolean idt = in.op == Op.SIDT;
                store(a, 2, idt ? idtLimit : gdtLimit);
                store(a + 2, 8, idt ? idtBase : gdtBase);
            }
            case Op.IRET -> iret(in);
            case Op.SYSCALL -> syscall(in);
            case Op.SYSRET -> sysret(in);
            case Op.MOV_FROM_CR -> {
                requireCpl0();
                r[in.rm] = in.ext == 8 ? cr[8] & 0xF : cr[in.ext];
            }
            case Op.MOV_TO_CR -> {
                requireCpl0();
                cr[in.ext] = r[in.rm];
            }
            case Op.MOV_FROM_SEG -> writeRm(in, sel[in.ext]);
            case Op.MOV_TO_SEG -> {
                int s = (int) readRm(in);
                sel[in.ext] = s & 0xFFFF;
            }
            case Op.SWAPGS -> {
                requireCpl0();
                long t = gsBase;
                gsBase = kernelGsBase;
                kernelGsBase = t;
            }
            case Op.FETCH_FAULT -> throw pageFault(in.disp, false);
            case Op.TOO_LONG -> throw CpuFault.gp();
            default -> throw CpuFault.ud();
        }
    }

    private void requireCpl0() {
        if (cpl != 0) {
            throw CpuFault.gp();
        }
    }

    private void requireIo() {
        if (cpl > ((rfl & IOPL) >>> 12)) {
            throw CpuFault.gp();
        }
    }

    // ------------------------------------------------------------------ multiply, divide, shifts

    private void mulWide(Insn in) {
        long src = readRm(in);
        boolean signed = in.op == Op.IMUL1;
        boolean over;
        long low;
        switch (in.size) {
            case 1 -> {
                long p = signed ? sx(r[RAX] & 0xFF, 1) * sx(src, 1) : (r[RAX] & 0xFF) * src;
                setReg(RAX, 2, p);
                over = signed ? p != sx(p & 0xFF, 1) : (p >>> 8) != 0;
                low = p & 0xFF;
            }
            case 2 -> {
                long p = signed ? sx(r[RAX] & 0xFFFF, 2) * sx(src, 2) : (r[RAX] & 0xFFFF) * src;
                setReg(RAX, 2, p);
                setReg(RDX, 2, p >>> 16);
                over = signed ? p != sx(p & 0xFFFF, 2) : ((p >>> 16) & 0xFFFF) != 0;
                low = p & 0xFFFF;
            }
            case 4 -> {
                long p = signed ? sx(r[RAX] & 0xFFFF_FFFFL, 4) * sx(src, 4) : (r[RAX] & 0xFFFF_FFFFL) * src;
                r[RAX] = p & 0xFFFF_FFFFL;
                r[RDX] = (p >>> 32) & 0xFFFF_FFFFL;
                over = signed ? p != sx(p & 0xFFFF_FFFFL, 4) : (p >>> 32) != 0;
                low = p & 0xFFFF_FFFFL;
            }
            default -> {
                long a = r[RAX];
                long lo = a * src;
                long hi = Math.multiplyHigh(a, src);
                if (!signed) {
                    hi += ((a >> 63) & src) + ((src >> 63) & a);
                }
                r[RAX] = lo;
                r[RDX] = hi;
                over = signed ? hi != (lo >> 63) : hi != 0;
                low = lo;
            }
        }
        setShiftFlags(low, in.size, over, over);
    }

    private long imulTrunc(long a, long b, int size) {
        long res;
        boolean over;
        if (size == 8) {
            res = a * b;
            over = Math.multiplyHigh(a, b) != (res >> 63);
        } else {
            long p = sx(a, size) * sx(b, size);
            res = p & MASK[size];
            over = p != sx(res, size);
        }
        setShiftFlags(res, size, over, over);
        return res;
    }

    private void divUnsigned(Insn in) {
        long d = readRm(in);
        if (d == 0) {
            throw CpuFault.de();
        }
        switch (in.size) {
            case 1 -> {
                long n = r[RAX] & 0xFFFF;
                long q = n / d;
                if (q > 0xFF) {
                    throw CpuFault.de();
                }
                setReg(RAX, 2, ((n % d) << 8) | q);
            }
            case 2 -> {
                long n = ((r[RDX] & 0xFFFF) << 16) | (r[RAX] & 0xFFFF);
                long q = n / d;
                if (q > 0xFFFF) {
                    throw CpuFault.de();
                }
                setReg(RAX, 2, q);
                setReg(RDX, 2, n % d);
            }
            case 4 -> {
                long n = ((r[RDX] & 0xFFFF_FFFFL) << 32) | (r[RAX] & 0xFFFF_FFFFL);
                long q = Long.divideUnsigned(n, d);
                if (Long.compareUnsigned(q, 0xFFFF_FFFFL) > 0) {
                    throw CpuFault.de();
                }
                r[RAX] = q;
                r[RDX] = Long.remainderUnsigned(n, d);
            }
            default -> {
                long hi = r[RDX];
                if (Long.compareUnsigned(hi, d) >= 0) {
                    throw CpuFault.de();
                }
                udiv128(hi, r[RAX], d);
                r[RAX] = divQ;
                r[RDX] = divR;
            }
        }
    }

    private void divSigned(Insn in) {
        long d = sx(readRm(in), in.size);
        if (d == 0) {
            throw CpuFault.de();
        }
        switch (in.size) {
            case 1 -> {
                long n = sx(r[RAX] & 0xFFFF, 2);
                long q = n / d;
                if (q < -128 || q > 127) {
                    throw CpuFault.de();
                }
                setReg(RAX, 2, (((n % d) & 0xFF) << 8) | (q & 0xFF));
            }
            case 2 -> {
                long n = sx(((r[RDX] & 0xFFFF) << 16) | (r[RAX] & 0xFFFF), 4);
                long q = n / d;
                if (q < Short.MIN_VALUE || q > Short.MAX_VALUE) {
                    throw CpuFault.de();
                }
                setReg(RAX, 2, q);
                setReg(RDX, 2, n % d);
            }
            case 4 -> {
                long n = (r[RDX] << 32) | (r[RAX] & 0xFFFF_FFFFL);
                if (n == Long.MIN_VALUE && d == -1) {
                    throw CpuFault.de();
                }
                long q = n / d;
                if (q < Integer.MIN_VALUE || q > Integer.MAX_VALUE) {
                    throw CpuFault.de();
                }
                r[RAX] = q & 0xFFFF_FFFFL;
                r[RDX] = (n % d) & 0xFFFF_FFFFL;
            }
            default -> {
                long hi = r[RDX];
                long lo = r[RAX];
                boolean negN = hi < 0;
                if (negN) { // 128-bit negate
                    lo = -lo;
                    hi = ~hi + (lo == 0 ? 1 : 0);
                }
                boolean negD = d < 0;
                long ad = negD ? -d : d; // unsigned magnitude (MIN_VALUE stays 2^63)
                if (Long.compareUnsigned(hi, ad) >= 0) {
                    throw CpuFault.de();
                }
                udiv128(hi, lo, ad);
                long q = divQ;
                boolean negQ = negN != negD;
                if (negQ ? Long.compareUnsigned(q, Long.MIN_VALUE) > 0 : q < 0) {
                    throw CpuFault.de();
                }
                r[RAX] = negQ ? -q : q;
                r[RDX] = negN ? -divR : divR;
            }
        }
    }

    /** Unsigned (hi:lo) / d with hi < d; quotient and remainder land in divQ/divR. */
    private void udiv128(long hi, long lo, long d) {
        if (hi == 0) {
            divQ = Long.divideUnsigned(lo, d);
            divR = Long.remainderUnsigned(lo, d);
            return;
        }
        long rem = hi;
        long quo = lo;
        for (int i = 0; i < 64; i++) {
            boolean carry = rem < 0;
            rem = (rem << 1) | (quo >>> 63);
            quo <<= 1;
            if (carry || Long.compareUnsigned(rem, d) >= 0) {
                rem -= d;
                quo |= 1;
            }
        }
        divQ = quo;
        divR = rem;
    }

    private void shift(Insn in, int rawCount) {
        int size = in.size;
        int count = rawCount & (size == 8 ? 63 : 31);
        if (count == 0) {
            // A masked count of 0 leaves the flags alone, but a 32-bit register destination is
            // still written, which zero-extends it like any 32-bit result.
            if (!in.mem && size == 4) {
                r[in.rm] &= 0xFFFF_FFFFL;
            }
            return;
        }
        int bits = size * 8;
        long m = MASK[size];
        long sign = SIGN[size];
        long addr = in.mem ? ea(in) : 0;
        long a = in.mem ? load(addr, size) : getReg(in.rm, size);
        long res;
        switch (in.ext) {
            case 0 -> { // ROL
                int c = count % bits;
                res = c == 0 ? a : ((a << c) | (a >>> (bits - c))) & m;
                boolean cfv = (res & 1) != 0;
                setCfOf(cfv, ((res & sign) != 0) != cfv, true);
            }
            case 1 -> { // ROR
                int c = count % bits;
                res = c == 0 ? a : ((a >>> c) | (a << (bits - c))) & m;
                boolean msb = (res & sign) != 0;
                setCfOf(msb, msb != ((res & (sign >>> 1)) != 0), true);
            }
            case 2, 3 -> { // RCL, RCR: rotate through carry, one bit at a time (rare)
                int c = size <= 2 ? count % (bits + 1) : count;
                boolean carry = cf();
                res = a;
                boolean ofv = false;
                for (int k = 0; k < c; k++) {
                    if (in.ext == 2) {
                        boolean out = (res & sign) != 0;
                        res = ((res << 1) | (carry ? 1 : 0)) & m;
                        carry = out;
                    } else {
                        boolean out = (res & 1) != 0;
                        res = (res >>> 1) | (carry ? sign : 0);
                        carry = out;
                    }
                }
                if (in.ext == 2) {
                    ofv = ((res & sign) != 0) != carry;
                } else {
                    ofv = ((res & sign) != 0) != ((res & (sign >>> 1)) != 0);
                }
                setCfOf(carry, ofv, true);
            }
            case 5 -> { // SHR
                res = count >= bits ? 0 : a >>> count;
                boolean cfv = count <= bits && ((a >>> (count - 1)) & 1) != 0;
                setShiftFlags(res, size, cfv, (a & sign) != 0);
            }
            case 7 -> { // SAR
                long s = sx(a, size);
                res = (s >> Math.min(count, 63)) & m;
                boolean cfv = ((s >> Math.min(count - 1, 63)) & 1) != 0;
                setShiftFlags(res, size, cfv, false);
            }
            default -> { // 4 SHL, 6 SAL
                res = count >= bits ? 0 : (a << count) & m;
                boolean cfv = count <= bits && ((a >>> (bits - count)) & 1) != 0;
                setShiftFlags(res, size, cfv, ((res & sign) != 0) != cfv);
            }
        }
        if (in.mem) {
            store(addr, size, res);
        } else {
            setReg(in.rm, size, res);
        }
    }

    private void doubleShift(Insn in) {
        int size = in.size;
        int count = (int) (in.ext == 0 ? in.imm : r[RCX]) & (size == 8 ? 63 : 31);
        if (count == 0) {
            return;
        }
        int bits = size * 8;
        long m = MASK[size];
        long sign = SIGN[size];
        long addr = in.mem ? ea(in) : 0;
        long d = in.mem ? load(addr, size) : getReg(in.rm, size);
        long s = getReg(in.reg, size);
        if (count > bits) {
            count %= bits; // undefined for 16-bit operands; reduce like a rotate
            if (count == 0) {
                return;
            }
        }
        long res;
        boolean cfv;
        if (in.op == Op.SHLD) {
            res = count == bits ? s : ((d << count) | (s >>> (bits - count))) & m;
            cfv = ((d >>> (bits - count)) & 1) != 0;
        } else {
            res = count == bits ? s : ((d >>> count) | (s << (bits - count))) & m;
            cfv = ((d >>> (count - 1)) & 1) != 0;
        }
        setShiftFlags(res, size, cfv, ((res ^ d) & sign) != 0);
        if (in.mem) {
            store(addr, size, res);
        } else {
            setReg(in.rm, size, res);
        }
    }

    private void bitTest(Insn in) {
        int size = in.size;
        int bits = size * 8;
        long off = in.op == Op.BT_I ? in.imm : getReg(in.reg, size);
        long addr = 0;
        long v;
        if (in.mem) {
            addr = ea(in);
            if (in.op == Op.BT_R) {
                // A register bit offset addresses a bit string: it may select another operand-sized word.
                addr += (sx(off, size) >> (Integer.numberOfTrailingZeros(bits))) * size;
            }
            v = load(addr, size);
        } else {
            v = getReg(in.rm, size);
        }
        int bit = (int) (off & (bits - 1));
        boolean c = ((v >>> bit) & 1) != 0;
        switch (in.ext) {
            case 1 -> v |= 1L << bit;
            case 2 -> v &= ~(1L << bit);
            case 3 -> v ^= 1L << bit;
            default -> { }
        }
        if (in.ext != 0) {
            if (in.mem) {
                store(addr, size, v);
            } else {
                setReg(in.rm, size, v);
            }
        }
        setCfOf(c, false, false);
    }

    private void enter(Insn in) {
        int level = (int) in.imm2;
        push(r[RBP], 8);
        long frame = r[RSP];
        if (level > 0) {
            long bp = r[RBP];
            for (int k = 1; k < level; k++) {
                bp -= 8;
                push(load(bp, 8), 8);
            }
            push(frame, 8);
        }
        r[RBP] = frame;
        r[RSP] -= in.imm;
    }

    // ------------------------------------------------------------------ string instructions (StringOps)

    boolean directionDown() {
        return (rfl & DF) != 0;
    }

    long reg(int n) {
        return r[n];
    }

    void setRegister(int n, long v) {
        r[n] = v;
    }

    long readRegister(int n, int size) {
        return getReg(n, size);
    }

    void writeRegister(int n, int size, long v) {
        setReg(n, size, v);
    }

    long compare(long a, long b, int size) {
        return alu(7, a, b, size);
    }

    boolean zeroFlag() {
        return zf();
    }

    // ------------------------------------------------------------------ far transfers

    private void iret(Insn in) {
        int size = in.size == 8 ? 8 : 4;
        long sp = r[RSP];
        long newRip = load(sp, size);
        long newCs = load(sp + size, size) & 0xFFFF;
        long newFlags = load(sp + 2L * size, size);
        long newRsp = load(sp + 3L * size, size);
        long newSs = load(sp + 4L * size, size) & 0xFFFF;
        branch(in.rip, newRip, BranchKind.K_FAR);
        int oldCpl = cpl();
        long mask = oldCpl == 0 ? POPF_MASK | RF : POPF_MASK & ~(IF | IOPL);
        setRflags((rflags() & ~mask) | (newFlags & mask));
        sel[CS] = (int) newCs;
        cpl = sel[CS] & 3;
        sel[SS] = (int) newSs;
        r[RSP] = newRsp;
        rip = newRip;
    }

    private void syscall(Insn in) {
        if (lstar == 0) {
            exit = CpuExit.SYSCALL; // nothing programmed: the VMM's Linux shim handles it
            rip = in.next;
            return;
        }
        r[RCX] = in.next;
        r[R11] = rflags() & ~RF;
        branch(in.rip, lstar, BranchKind.K_FAR);
        sel[CS] = (int) ((star >>> 32) & 0xFFFC);
        cpl = sel[CS] & 3;
        sel[SS] = sel[CS] + 8;
        setRflags(rflags() & ~fmask & ~RF);
        rip = lstar;
    }

    private void sysret(Insn in) {
        requireCpl0();
        long target = in.size == 8 ? r[RCX] : r[RCX] & 0xFFFF_FFFFL;
        if (!isCanonical(target)) {
            throw CpuFault.gp();
        }
        branch(in.rip, target, BranchKind.K_FAR);
        setRflags((r[R11] & 0x3C7FD7L) | 2);
        int base = (int) ((star >>> 48) & 0xFFFF);
        sel[CS] = ((in.size == 8 ? base + 16 : base) | 3) & 0xFFFF;
        cpl = sel[CS] & 3;
        sel[SS] = ((base + 8) | 3) & 0xFFFF;
        rip = target;
    }

    // ------------------------------------------------------------------ exceptions and interrupts

    private void softwareInterrupt(int vector, Insn in) {
        if (!deliver(vector, false, 0, in.next, in.rip)) {
            escalate(vector, in, 0);
        }
    }

    private void raise(CpuFault f, Insn in) {
        int v = f.vector;
        if (v == Vector.PF) {
            cr[2] = f.address;
        }
        if (!deliver(v, Vector.hasErrorCode(v), f.errorCode, in.rip, in.rip)) {
            escalate(v, in, f.address);
        }
    }

    /**
     * Raises an external or virtual interrupt (used by the hypervisor for PMIs). Returns false
     * and shuts down on a triple fault.
     */
    public boolean injectInterrupt(int vector) {
        if (deliver(vector, false, 0, rip, rip)) {
            return true;
        }
        tripleFault(vector, rip, 0, "interrupt delivery failed");
        return false;
    }

    /**
     * Requests an external interrupt: delivered through the IDT before the next instruction block
     * once RFLAGS.IF = 1 (at once if it is set), held while IF = 0.
     */
    public void raiseInterrupt(int vector) {
        pendingVector = vector;
    }

    public boolean interruptPending() {
        return pendingVector >= 0;
    }

    public boolean interruptsEnabled() {
        return (rfl & IF) != 0;
    }

    /** A vector could not be delivered: #GP, then #DF, then a triple fault (shutdown). */
    private void escalate(int vector, Insn in, long address) {
        if (vector != Vector.GP && vector != Vector.DF && deliver(Vector.GP, true, (long) vector * 8 + 2, in.rip, in.rip)) {
            return;
        }
        if (vector != Vector.DF && deliver(Vector.DF, true, 0, in.rip, in.rip)) {
            return;
        }
        tripleFault(vector, in.rip, address, idtLoaded ? "its IDT entry is missing or invalid" : "no IDT is loaded (LIDT never ran)");
    }

    private void tripleFault(int vector, long at, long address, String why) {
        shutdown = true;
        exit = CpuExit.SHUTDOWN;
        String where = vector == Vector.PF ? String.format(" for address 0x%x", address) : "";
        shutdownReason = String.format("vCPU %d: triple fault at RIP=0x%x: %s%s could not be delivered because %s; instruction bytes: %s",
                index, at, Vector.name(vector), where, why, instructionBytes(at));
    }

    /** Hex bytes of the instruction at an address (up to 15, fewer at the end of memory). */
    public String instructionBytes(long at) {
        if (!mem.inBounds(at, 1)) {
            return "(outside guest memory)";
        }
        Insn in = new Decoder(mem).decode(at);
        int len = (int) Math.min(Math.max(in.len, 1), mem.size() - at);
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < len; k++) {
            if (k > 0) {
                sb.append(' ');
            }
            sb.append(String.format("%02x", mem.read8(at + k)));
        }
        return sb.toString();
    }

    /**
     * Delivers a vector through a 64-bit IDT gate: pushes SS, RSP, RFLAGS, CS, RIP (and the
     * error code) on a 16-byte aligned stack, clears IF for interrupt gates. The transfer is
     * reported to the branch hook as a far branch from {@code from}.
     */
    private boolean deliver(int vector, boolean hasErr, long err, long returnRip, long from) {
        if (!idtLoaded) {
            return false;
        }
        long off = (long) vector * 16;
        if (off + 15 > idtLimit) {
            return false;
        }
        long g = idtBase + off;
        if (!mem.inBounds(g, 16)) {
            return false;
        }
        long lo = mem.read64(g);
        long hi = mem.read64(g + 8);
        int attr = (int) (lo >>> 40) & 0xFF;
        int type = attr & 0xF;
        if ((attr & 0x80) == 0 || (type != 0xE && type != 0xF)) {
            return false;
        }
        long target = (lo & 0xFFFF) | ((lo >>> 32) & 0xFFFF_0000L) | ((hi & 0xFFFF_FFFFL) << 32);
        int selector = (int) (lo >>> 16) & 0xFFFF;
        long sp = r[RSP] & ~0xFL;
        int frame = hasErr ? 48 : 40;
        if (!mem.inBounds(sp - frame, frame)) {
            return false;
        }
        long flags = rflags();
        mem.write64(sp - 8, sel[SS]);
        mem.write64(sp - 16, r[RSP]);
        mem.write64(sp - 24, flags);
        mem.write64(sp - 32, sel[CS]);
        mem.write64(sp - 40, returnRip);
        if (hasErr) {
            mem.write64(sp - 48, err);
        }
        branch(from, target, BranchKind.K_FAR);
        r[RSP] = sp - frame;
        sel[CS] = selector;
        cpl = sel[CS] & 3;
        if (type == 0xE) {
            rfl &= ~IF;
        }
        rfl &= ~(TF | NT | RF);
        rip = target;
        return true;
    }
}
