package dev.lbrvmm.vmm.cpu;

import java.util.Arrays;

/**
 * One x86-64 logical processor in 64-bit mode: its architectural state, the cache of decoded
 * blocks and the run loop. The semantics of instructions live in one class per family, each with
 * the fast handlers of its common forms: {@link Arithmetic}, {@link LazyFlags} (flag derivation),
 * {@link FlagOps}, {@link MulDiv}, {@link Shifts}, {@link BitOps}, {@link DataTransfer},
 * {@link ControlFlow}, {@link StringOps}, {@link SystemOps} and {@link Interrupts};
 * {@link Executor} is the reference dispatch and {@link Handlers} picks a fast form where one exists.
 *
 * <p>Design (after blink): instructions are decoded once into {@link Insn}s grouped in
 * {@link Block}s that end at control transfers; the loop calls each instruction's handler.
 * Arithmetic flags are not computed when an instruction runs (see {@link LazyFlags}). The loop
 * allocates nothing and logs nothing; faults are preallocated or thrown only on the (rare)
 * faulting path.
 *
 * <p>Two ways to start: the legacy entry straight into 64-bit mode (memory identity mapped,
 * control registers stored only) and {@link #enterProtectedMode32} (a Multiboot boot), after which
 * CR0/CR4/EFER and CS are architectural: 32-bit code, long-mode activation ({@link ProtectedMode}),
 * 4-level paging ({@link Paging}), MMIO outside RAM. The x87 unit is {@link X87}. Not modelled:
 * segment limits and bases other than FS/GS, 16-bit code, 32-bit and PAE paging, SSE. Instructions
 * outside the decoder's set raise #UD.
 */
public final class Cpu {
    public static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
    public static final int R8 = 8, R9 = 9, R10 = 10, R11 = 11;
    public static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

    public static final long CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200;
    public static final long DF = 0x400, OF = 0x800, IOPL = 0x3000, NT = 0x4000, RF = 0x10000, AC = 0x40000;
    public static final long ID = 0x200000;
    /** The RFLAGS bits POPF and IRET may change (at CPL 0). */
    static final long POPF_MASK = LazyFlags.ARITH | TF | IF | DF | IOPL | NT | AC | ID;

    public static final long EFER_SCE = 1, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;
    public static final long CR0_PE = 1, CR0_WP = 1 << 16, CR0_PG = 1L << 31, CR4_PAE = 1 << 5;

    /** Register number of AH in byte-operand encodings (16-19 are AH, CH, DH, BH). */
    static final int AH = 16;

    static final int STOP_CHECK_INTERVAL = 64;
    private static final int CACHE_BITS = 16;
    private static final int CACHE_MASK = (1 << CACHE_BITS) - 1;

    /** vCPU index (names the vCPU in messages). */
    public final int index;
    final GuestMemory mem;
    private final Decoder decoder;
    /** Linear-to-physical translation (off unless a Multiboot kernel turns paging on). */
    final Paging paging;
    /** Devices at physical addresses outside RAM (architectural control only), or null. */
    private MmioBus mmio;

    /** General-purpose registers RAX..R15. */
    public final long[] r = new long[16];
    long rip;

    // Lazy flags: operation, operand size, operands, result (all masked to size), auxiliary bits.
    int fKind = LazyFlags.EXPLICIT;
    int fSize = 8;
    long fA, fB, fRes, fAux;
    /** RFLAGS bits other than the arithmetic ones (bit 1 always set). */
    long rfl = 2;

    final int[] sel = new int[6];
    /** CPL = CS.RPL, kept in step with sel[CS] (read on every branch). */
    private int cpl;
    long fsBase, gsBase, kernelGsBase, efer, star, lstar, cstar, fmask, tscAux, apicBase;
    long sysenterCs, sysenterEsp, sysenterEip, pat, mcgStatus;
    /** PAT after reset: WB, WT, UC-, UC repeated (SDM 13.12.4). */
    private static final long PAT_DEFAULT = 0x0007_0406_0007_0406L;
    final long[] cr = new long[9];
    long idtBase, gdtBase;
    int idtLimit, gdtLimit;
    boolean idtLoaded;
    /** The x87 FPU. */
    final X87.State x87 = new X87.State();
    /** Task register and LDTR selectors, and the TSS base (from its descriptor at LTR). */
    int tr, ldtr;
    long trBase;
    /** The code segment is a 32-bit protected-mode one (not long mode): the decoder follows it. */
    boolean mode32;
    /**
     * Architectural control: CR0/CR4/EFER and CS mean what they mean on hardware (a Multiboot
     * boot). False for the legacy entry straight into 64-bit mode, where memory is identity
     * mapped whatever CR0 says and long mode cannot be left.
     */
    boolean architectural;

    long retired;
    /** Instructions of the current block counted at a branch (see instructionsAtBranch). */
    int blockLen;
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
    MsrBus msrBus;
    private CpuidTable cpuid = new CpuidTable();
    final int[] cpuidOut = new int[4];

    private volatile boolean stopRequested;
    /** An external interrupt waiting for IF = 1 (the local APIC's output), or -1. */
    private int pendingVector = -1;
    CpuExit exit;
    boolean shutdown;
    String shutdownReason;
    int ioPort, ioSize;
    long ioValue;
    /** OUTS: the bytes of the elements sent by this exit (-1 = a plain OUT); at most one page. */
    private final byte[] ioString = new byte[4096];
    int ioStringLength = -1;
    boolean pendingIn;

    private final Block[] cache = new Block[1 << CACHE_BITS];
    private int seenEpoch;
    /**
     * Where the last block cut by the budget stops (-1: none): the next run decodes a block there,
     * which the translating engine does not count, or every time slice would make one region more.
     */
    private long resumeAt = -1;
    /** The translating engine, or null when the interpreter runs everything. */
    private JitEngine jit;
    /** Set by translated code when an instruction throws (see {@link CompiledRegion}). */
    int compiledFaultIndex;
    Insn[] compiledFaultCode;
    long compiledDone;

    public Cpu(int index, GuestMemory mem) {
        this.index = index;
        this.mem = mem;
        this.paging = new Paging(this, mem);
        this.decoder = new Decoder(mem, paging);
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
        fKind = LazyFlags.EXPLICIT;
        fAux = 0;
        rfl = 2;
        Arrays.fill(sel, 0x10);
        sel[CS] = 0x08;
        cpl = 0;
        fsBase = gsBase = kernelGsBase = star = lstar = cstar = fmask = tscAux = 0;
        sysenterCs = sysenterEsp = sysenterEip = mcgStatus = 0;
        pat = PAT_DEFAULT;
        efer = EFER_LME | EFER_LMA | EFER_SCE;
        apicBase = 0xFEE0_0000L | (1 << 11) | (index == 0 ? 1 << 8 : 0);
        Arrays.fill(cr, 0);
        cr[0] = 0x8000_0031L; // PG | NE | ET | PE
        cr[4] = 0x20; // PAE
        idtBase = gdtBase = 0;
        idtLimit = gdtLimit = 0;
        idtLoaded = false;
        tr = ldtr = 0;
        trBase = 0;
        x87.reset();
        architectural = false;
        setMode32(false);
        paging.flush();
        retired = 0;
        tscOffset = 0;
        exit = null;
        shutdown = false;
        shutdownReason = null;
        pendingIn = false;
        pendingVector = -1;
        flushCodeCache();
    }

    /**
     * The state a Multiboot loader leaves (QEMU's -kernel): 32-bit protected mode with flat 4 GiB
     * code and data segments, paging off, IF = 0, EAX = {@code eax}, EBX = {@code ebx}, at {@code eip}.
     * From here on CR0, CR4, EFER and CS are architectural: setting CR0.PG with EFER.LME and
     * CR4.PAE activates long mode, and a far jump to a 64-bit code segment enters it.
     */
    public void enterProtectedMode32(long eip, long eax, long ebx) {
        reset();
        architectural = true;
        efer = 0;
        cr[0] = 0x11; // PE | ET
        cr[4] = 0;
        r[RAX] = eax & 0xFFFF_FFFFL;
        r[RBX] = ebx & 0xFFFF_FFFFL;
        rip = eip & 0xFFFF_FFFFL;
        setMode32(true);
        paging.flush();
    }

    /**
     * Turns paging on for a 64-bit program (guest.paging = identity): long mode with CR3 =
     * {@code pml4}, CR0.PG and WP, EFER.NXE, under architectural control from here on.
     */
    public void enablePaging(long pml4) {
        architectural = true;
        efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
        cr[4] = CR4_PAE;
        cr[3] = pml4;
        cr[0] = CR0_PG | CR0_WP | 0x31;
        translationChanged();
    }

    /** Attaches the devices at physical addresses outside RAM. */
    public void setMmioBus(MmioBus bus) {
        mmio = bus;
    }

    /** The fault of an instruction fetch from {@code linear}: #PF (or #GP) as paging says, else #PF outside RAM. */
    CpuFault fetchFault(long linear) {
        if (paging.enabled) {
            try {
                paging.translate(linear, Paging.FETCH);
            } catch (CpuFault f) {
                return f;
            }
        }
        return new CpuFault(Vector.PF, 0, linear);
    }

    /** Translation changed (CR0/CR3/CR4 write, INVLPG): the TLB and the blocks decoded under it go. */
    void translationChanged() {
        paging.flush();
        flushCodeCache();
    }

    /** Switches the decoder between 32-bit and 64-bit code (dropping blocks decoded the other way). */
    void setMode32(boolean on) {
        if (on != mode32 || decoder == null) {
            mode32 = on;
            if (decoder != null) {
                decoder.setMode32(on);
            }
            flushCodeCache();
        }
    }

    /** True while the vCPU runs 32-bit protected-mode code. */
    public boolean mode32() {
        return mode32;
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
        int old = cpl;
        cpl = sel[CS] & 3;
        if (cpl != old && paging.enabled) {
            paging.flush(); // the TLB caches what the current CPL may access
        }
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
        setReg(RAX, ioSize, value & OperandSize.MASK[ioSize]);
    }

    /** Full RFLAGS with the lazily kept arithmetic flags materialized. */
    public long rflags() {
        return (rfl & ~LazyFlags.ARITH) | LazyFlags.materialize(this) | 2;
    }

    public void setRflags(long v) {
        LazyFlags.setExplicit(this, v);
        rfl = (v & ~LazyFlags.ARITH) | 2;
    }

    // ------------------------------------------------------------------ core MSRs

    /** True for the MSRs this CPU implements itself (not PMU/LBR ones, which the hypervisor routes). */
    public static boolean isCoreMsr(int idx) {
        return switch (idx) {
            case Msr.IA32_TIME_STAMP_COUNTER, Msr.IA32_APIC_BASE, Msr.IA32_EFER, Msr.IA32_STAR, Msr.IA32_LSTAR,
                    Msr.IA32_CSTAR, Msr.IA32_FMASK, Msr.IA32_FS_BASE, Msr.IA32_GS_BASE, Msr.IA32_KERNEL_GS_BASE,
                    Msr.IA32_TSC_AUX, Msr.IA32_SYSENTER_CS, Msr.IA32_SYSENTER_ESP, Msr.IA32_SYSENTER_EIP, Msr.IA32_PAT,
                    Msr.IA32_MCG_CAP, Msr.IA32_MCG_STATUS -> true;
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
            case Msr.IA32_SYSENTER_CS -> sysenterCs;
            case Msr.IA32_SYSENTER_ESP -> sysenterEsp;
            case Msr.IA32_SYSENTER_EIP -> sysenterEip;
            case Msr.IA32_PAT -> pat;
            case Msr.IA32_MCG_CAP -> 0; // no machine-check banks
            case Msr.IA32_MCG_STATUS -> mcgStatus;
            default -> throw CpuFault.gp();
        };
    }

    public void writeCoreMsr(int idx, long v) {
        switch (idx) {
            case Msr.IA32_TIME_STAMP_COUNTER -> tscOffset = v - retired;
            case Msr.IA32_APIC_BASE -> apicBase = v;
            case Msr.IA32_EFER -> {
                if ((v & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) != 0) {
                    throw CpuFault.gp();
                }
                if (!architectural) {
                    efer = v | EFER_LMA | EFER_LME; // the legacy 64-bit entry: long mode cannot be left
                } else if ((cr[0] & CR0_PG) != 0 && ((v ^ efer) & EFER_LME) != 0) {
                    throw CpuFault.gp(); // LME changes only while paging is off (SDM 10.8.5)
                } else {
                    efer = (v & ~EFER_LMA) | (efer & EFER_LMA); // LMA is read-only: set by CR0.PG
                }
            }
            case Msr.IA32_STAR -> star = v;
            case Msr.IA32_LSTAR -> lstar = canonical(v);
            case Msr.IA32_CSTAR -> cstar = canonical(v);
            case Msr.IA32_FMASK -> fmask = v & 0xFFFF_FFFFL;
            case Msr.IA32_FS_BASE -> fsBase = canonical(v);
            case Msr.IA32_GS_BASE -> gsBase = canonical(v);
            case Msr.IA32_KERNEL_GS_BASE -> kernelGsBase = canonical(v);
            case Msr.IA32_TSC_AUX -> tscAux = v & 0xFFFF_FFFFL;
            case Msr.IA32_SYSENTER_CS -> sysenterCs = v & 0xFFFF_FFFFL; // a 32-bit VMCS field
            case Msr.IA32_SYSENTER_ESP -> sysenterEsp = canonical(v); // KVM: is_noncanonical_address -> #GP
            case Msr.IA32_SYSENTER_EIP -> sysenterEip = canonical(v);
            case Msr.IA32_PAT -> pat = validPat(v);
            case Msr.IA32_MCG_CAP -> throw CpuFault.gp(); // read-only for the guest
            case Msr.IA32_MCG_STATUS -> mcgStatus = v;
            default -> throw CpuFault.gp();
        }
    }

    /** True when bits 63:47 of v are all equal (48-bit linear addresses). */
    public static boolean isCanonical(long v) {
        return (v << 16 >> 16) == v;
    }

    /** KVM's kvm_pat_valid: every byte a memory type (UC 0, WC 1, WT 4, WP 5, WB 6, UC- 7). */
    private static long validPat(long v) {
        for (int k = 0; k < 8; k++) {
            int t = (int) (v >>> (8 * k)) & 0xFF;
            if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7) {
                throw CpuFault.gp();
            }
        }
        return v;
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
        if (jit != null) {
            jit.installReady(this);
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
                if (!Interrupts.inject(this, v)) {
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
            // a translation runs whole blocks only: a block cut by the budget is interpreted
            // (and only with budget for any path through its unchecked forward jumps: CompiledRegion)
            CompiledRegion translated = n == code.length && b.compiled != null && left >= b.compiled.minBudget ? b.compiled : null;
            try {
                if (translated != null) {
                    long ran = translated.run(this, left, b.compiledEntry); // retires and sets RIP itself
                    jit.instructionsRun += ran;
                    left -= ran;
                    b = null; // it may have left anywhere: the next block is looked up afresh
                    blocksSinceStopCheck = STOP_CHECK_INTERVAL; // it may have left for a stop request
                    if (exit != null) {
                        CpuExit e = exit;
                        exit = null;
                        return e;
                    }
                    continue;
                }
                if (jit != null) {
                    if (b.rip == resumeAt) {
                        resumeAt = -1; // the rest of a block the budget cut: no code of its own to make hot
                    } else {
                        jit.interpreted(this, b);
                    }
                }
                // RIP is stored once per block: branches set it, otherwise it is the last insn's next.
                while (true) {
                    Insn in = code[i++];
                    in.handler.exec(this, in);
                    // only a store can overwrite decoded code: the block ends right after one that did
                    if (i >= n || in.mayWriteMemory && mem.codeEpoch() != seenEpoch) {
                        break;
                    }
                }
                Insn last = code[i - 1];
                if (!last.branch) {
                    rip = last.next;
                }
                if (i < code.length && jit != null) {
                    resumeAt = rip; // cut by the budget: the next run starts inside this block
                }
            } catch (CpuFault f) {
                if (translated != null) {
                    left -= compiledDone; // the region's blocks before the faulting one retired
                    code = compiledFaultCode;
                    i = compiledFaultIndex + 1;
                }
                i--; // the faulting instruction does not retire
                rip = code[i].rip;
                blockLen = i;
                Interrupts.raise(this, f, code[i]);
            } catch (StringOps.Interrupted r) {
                if (translated != null) {
                    left -= compiledDone;
                    code = compiledFaultCode;
                    i = compiledFaultIndex + 1;
                }
                i--; // a long REP yielded: not retired, RIP on it, its registers hold the progress
                rip = code[i].rip;
                blockLen = i;
                left -= StringOps.CHUNK; // but it used the time slice, an element for an instruction: preemption still comes
            } catch (RuntimeException e) {
                if (translated != null) {
                    code = compiledFaultCode;
                    i = compiledFaultIndex + 1;
                }
                i--;
                Insn in = code[i];
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
        if (jit != null) {
            JitEngine.sawSuccessor(prev, nb);
        }
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
        if (b != null && jit != null) {
            jit.evicted(b);
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
        if (jit != null) {
            b.code = decoder.codeBytes(start, b.byteLen); // what a translation of it is keyed on (TranslationCache)
            b.mode32 = mode32;
        }
        markCode(start, b.byteLen);
        seenEpoch = mem.codeEpoch();
        return b;
    }

    /** Marks the physical bytes behind a decoded block, page by page under paging, for self-modification checks. */
    private void markCode(long start, int len) {
        if (!paging.enabled) {
            mem.markCode(start, len);
            return;
        }
        long a = start;
        long end = start + len;
        while (a < end) {
            long pageEnd = (a | 0xFFF) + 1;
            int n = (int) (Math.min(end, pageEnd) - a);
            try {
                long p = paging.translate(a, Paging.FETCH);
                if (mem.inBounds(p, n)) {
                    mem.markCode(p, n);
                }
            } catch (CpuFault f) {
                return; // the block ends in an instruction whose fetch faults: nothing more to mark
            }
            a += n;
        }
    }

    /** Drops every decoded block (after self-modifying code, reset, or a host write into code). */
    public void flushCodeCache() {
        if (jit != null) {
            jit.flushed(cache);
        }
        Arrays.fill(cache, null);
        seenEpoch = mem.codeEpoch();
    }

    /** Decoded code was overwritten since the blocks in the cache were decoded (translated code asks after its stores). */
    boolean codeChanged() {
        return mem.codeEpoch() != seenEpoch;
    }

    /**
     * Between two blocks of a translated region: something the run loop must see first (an exit, a
     * deliverable interrupt). A region asks after a branch hook said the counter's alarm ran, the one
     * way either can arise inside the blocks it chains (see {@link CompiledRegion}).
     */
    boolean mustLeaveRegion() {
        return exit != null || pendingVector >= 0 && (rfl & IF) != 0;
    }

    /** A monitor or the VMM asked this vCPU to stop (a volatile read: translated code asks every few checks, see {@link CompiledRegion}). */
    boolean stopRequested() {
        return stopRequested;
    }

    /** The decoded block at {@code pc} if the cache holds it (the translating engine forms regions from these). */
    Block cachedBlock(long pc) {
        Block b = cache[(int) (pc ^ (pc >>> CACHE_BITS)) & CACHE_MASK];
        return b != null && b.rip == pc ? b : null;
    }

    /**
     * Selects the engine: the interpreter alone (null) or the translating engine with these
     * settings (hot blocks translated to JVM bytecode, identical in every observable).
     */
    public void useJit(JitSettings settings) {
        flushCodeCache();
        jit = settings == null ? null : new JitEngine(settings);
    }

    /** The translating engine runs this vCPU's hot code (guest.cpu.engine = jit). */
    public boolean translating() {
        return jit != null;
    }

    /** What the translating engine did on this vCPU ({@link JitStats#NONE} under the interpreter). */
    public JitStats jitStats() {
        return jit == null ? JitStats.NONE : jit.stats();
    }

    // ------------------------------------------------------------------ registers and memory

    /** Register n read at an operand size (byte registers 16-19 are AH, CH, DH, BH). */
    long getReg(int n, int size) {
        if (size != 1) {
            return r[n] & OperandSize.MASK[size];
        }
        return n < 16 ? r[n] & 0xFF : (r[n - 16] >>> 8) & 0xFF;
    }

    /** Register n written at an operand size: 32-bit writes zero-extend, 8/16-bit ones merge. */
    void setReg(int n, int size, long v) {
        if (size >= 4) {
            r[n] = v & OperandSize.MASK[size];
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

    /** The linear address of a memory operand (the FS/GS base applied; other segments are flat). */
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

    private static CpuFault pageFault(long addr, boolean write) {
        return new CpuFault(Vector.PF, write ? 2 : 0, addr);
    }

    /**
     * Reads guest memory as an instruction would: through paging when it is on; a physical
     * address outside RAM goes to the MMIO bus under architectural control, else raises #PF.
     */
    public long load(long a, int size) {
        if (paging.enabled) {
            return loadLinear(a, size);
        }
        return loadPhysical(a, size, a);
    }

    public void store(long a, int size, long v) {
        if (paging.enabled) {
            storeLinear(a, size, v);
        } else {
            storePhysical(a, size, v, a);
        }
    }

    private long loadLinear(long a, int size) {
        if ((a & 0xFFF) + size <= 0x1000) {
            return loadPhysical(paging.translateRead(a), size, a);
        }
        long v = 0; // an access that crosses a page: byte by byte (rare)
        for (int k = 0; k < size; k++) {
            v |= loadPhysical(paging.translate(a + k, Paging.READ), 1, a + k) << (8 * k);
        }
        return v;
    }

    private void storeLinear(long a, int size, long v) {
        if ((a & 0xFFF) + size <= 0x1000) {
            storePhysical(paging.translateWrite(a), size, v, a);
            return;
        }
        long first = paging.translate(a, Paging.WRITE);
        paging.translate(a + size - 1, Paging.WRITE); // both pages must be writable before any byte is
        for (int k = 0; k < size; k++) {
            storePhysical(k == 0 ? first : paging.translate(a + k, Paging.WRITE), 1, v >>> (8 * k), a + k);
        }
    }

    private long loadPhysical(long p, int size, long linear) {
        if (!mem.inBounds(p, size)) {
            return outsideRam(p, size, linear, false, 0);
        }
        switch (size) {
            case 8:
                return mem.read64(p);
            case 4:
                return mem.read32(p);
            case 2:
                return mem.read16(p);
            default:
                return mem.read8(p);
        }
    }

    private void storePhysical(long p, int size, long v, long linear) {
        if (!mem.inBounds(p, size)) {
            outsideRam(p, size, linear, true, v);
            return;
        }
        switch (size) {
            case 8 -> mem.write64(p, v);
            case 4 -> mem.write32(p, v);
            case 2 -> mem.write16(p, v);
            default -> mem.write8(p, v);
        }
    }

    /** Outside RAM: MMIO under architectural control (all ones without a bus), else #PF as before paging existed. */
    private long outsideRam(long p, int size, long linear, boolean write, long v) {
        if (!isCanonical(linear)) {
            throw CpuFault.gp(); // a non-canonical data address is #GP(0), never #PF
        }
        if (!architectural) {
            throw pageFault(linear, write);
        }
        if (mmio == null) {
            return write ? 0 : OperandSize.MASK[size];
        }
        if (write) {
            mmio.write(p, size, v);
            return 0;
        }
        return mmio.read(p, size) & OperandSize.MASK[size];
    }

    /** The r/m operand's address for a read-modify-write (0 for a register operand). */
    long rmAddress(Insn in) {
        return in.mem ? ea(in) : 0;
    }

    long readRm(Insn in) {
        return in.mem ? load(ea(in), in.size) : getReg(in.rm, in.size);
    }

    /** Reads the r/m operand at an address from {@link #rmAddress} (computed once per instruction). */
    long readRm(Insn in, long addr) {
        return in.mem ? load(addr, in.size) : getReg(in.rm, in.size);
    }

    void writeRm(Insn in, long v) {
        if (in.mem) {
            store(ea(in), in.size, v);
        } else {
            setReg(in.rm, in.size, v);
        }
    }

    void writeRm(Insn in, long addr, long v) {
        if (in.mem) {
            store(addr, in.size, v);
        } else {
            setReg(in.rm, in.size, v);
        }
    }

    void push(long v, int size) {
        long sp = stackAddress(r[RSP] - size);
        store(sp, size, v);
        r[RSP] = sp;
    }

    long pop(int size) {
        long v = load(stackAddress(r[RSP]), size);
        r[RSP] += size;
        return v;
    }

    /** A stack address: a non-canonical one raises #SS(0), not #GP or #PF (SDM: PUSH/POP in 64-bit mode). */
    long stackAddress(long a) {
        if ((a << 16 >> 16) != a) {
            throw STACK_FAULT;
        }
        return a;
    }

    private static final CpuFault STACK_FAULT = new CpuFault(Vector.SS, 0, 0);

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

    // The branch hooks translated code calls, one per kind so that each call site inlines only its
    // kind's LBR work (LbrUnit's per-kind entries). A region keeps the retired count and RIP in
    // locals: {@code before} is the count at the start of the branch's block and {@code n} the
    // block's length, which the rare paths (a listener, the counter's alarm) store first so that
    // they see the CPU as the interpreter would show it. Each returns true when the branch
    // counter's alarm ran (it may have raised a PMI): the region looks at the CPU before its next block.

    boolean conditionalInRegion(long from, long to, long before, int n) {
        LbrUnit u = lbr;
        if (u != null) {
            u.conditional(from, to, cpl, before + n);
        }
        return countBranchInRegion(from, to, BranchKind.K_CONDITIONAL, before, n);
    }

    boolean directJumpInRegion(long from, long to, long before, int n) {
        LbrUnit u = lbr;
        if (u != null) {
            u.directJump(from, to, cpl, before + n);
        }
        return countBranchInRegion(from, to, BranchKind.K_NEAR_REL_JMP, before, n);
    }

    boolean indirectJumpInRegion(long from, long to, long before, int n) {
        LbrUnit u = lbr;
        if (u != null) {
            u.indirectJump(from, to, cpl, before + n);
        }
        return countBranchInRegion(from, to, BranchKind.K_NEAR_IND_JMP, before, n);
    }

    boolean directCallInRegion(long from, long to, long before, int n) {
        LbrUnit u = lbr;
        if (u != null) {
            u.directCall(from, to, cpl, before + n);
        }
        return countBranchInRegion(from, to, BranchKind.K_NEAR_REL_CALL, before, n);
    }

    boolean indirectCallInRegion(long from, long to, long before, int n) {
        LbrUnit u = lbr;
        if (u != null) {
            u.indirectCall(from, to, cpl, before + n);
        }
        return countBranchInRegion(from, to, BranchKind.K_NEAR_IND_CALL, before, n);
    }

    boolean nearReturnInRegion(long from, long to, long before, int n) {
        LbrUnit u = lbr;
        if (u != null) {
            u.nearReturn(from, to, cpl, before + n);
        }
        return countBranchInRegion(from, to, BranchKind.K_NEAR_RET, before, n);
    }

    boolean notTakenInRegion(long from, long before, int n) {
        LbrUnit u = lbr;
        if (u != null) {
            u.onNotTaken(from);
        }
        if (listener != null) {
            atBlock(before, n);
            listener.onNotTaken(from);
        }
        if (++branches == branchAlarmAt) {
            atBlock(before, n);
            branchCounter.alarm();
            return true;
        }
        return false;
    }

    private boolean countBranchInRegion(long from, long to, int kind, long before, int n) {
        if (listener != null) {
            atBlock(before, n);
            listener.onBranch(from, to, BranchKind.of(kind), cpl);
        }
        if (++branches == branchAlarmAt) {
            atBlock(before, n);
            branchCounter.alarm();
            return true;
        }
        return false;
    }

    /**
     * Translated code is in a block of {@code n} instructions that started at retired count
     * {@code before}: the CPU shows what the interpreter would (before a handler or an observer runs).
     */
    void atBlock(long before, int n) {
        retired = before;
        blockLen = n;
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

    // ------------------------------------------------------------------ exceptions and interrupts

    /**
     * Raises an external or virtual interrupt (used by the hypervisor for PMIs). Returns false
     * and shuts down on a triple fault.
     */
    public boolean injectInterrupt(int vector) {
        return Interrupts.inject(this, vector);
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

    /** Hex bytes of the instruction at an address (up to 15, fewer at the end of memory). */
    public String instructionBytes(long at) {
        if (!mem.inBounds(at, 1)) {
            return "(outside guest memory)";
        }
        Decoder d = new Decoder(mem);
        d.setMode32(mode32);
        Insn in = d.decode(at);
        int len = Math.max(in.len, 1);
        while (len > 1 && !mem.inBounds(at, len)) {
            len--;
        }
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < len; k++) {
            if (k > 0) {
                sb.append(' ');
            }
            sb.append(String.format("%02x", mem.read8(at + k)));
        }
        return sb.toString();
    }
}
