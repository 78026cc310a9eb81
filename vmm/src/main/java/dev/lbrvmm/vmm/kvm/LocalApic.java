package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.cpu.CpuFault;
import dev.lbrvmm.vmm.cpu.MmioBus;
import dev.lbrvmm.vmm.cpu.Msr;

/**
 * The local APIC's xAPIC register page (KVM's lapic.c, by MMIO at APIC_BASE, 0xFEE00000 after
 * reset): ID, version, TPR, EOI, LDR, DFR, SPIV, ESR, ICR with its delivery-status bit, the LVT
 * entries (the performance-counter entry is the vPMU's, shared with x2APIC MSR 0x834) and the
 * timer registers (stored; the timer does not count). IPIs go nowhere: INIT and SIPI to CPUs that
 * do not exist are dropped, and the ICR is idle again at once. Accesses to other physical
 * addresses outside RAM go to {@code unclaimed}.
 */
public final class LocalApic implements MmioBus {
    /** Register offsets in the page. */
    static final int ID = 0x20, VERSION = 0x30, TPR = 0x80, PPR = 0xA0, EOI = 0xB0, LDR = 0xD0, DFR = 0xE0, SPIV = 0xF0,
            ESR = 0x280, ICR_LOW = 0x300, ICR_HIGH = 0x310, LVT_TIMER = 0x320, LVT_PMC = 0x340, LVT_ERROR = 0x370,
            TIMER_CURRENT = 0x390;
    /** Version 0x14 (integrated APIC), 6 LVT entries (max LVT index 5). */
    private static final int VERSION_VALUE = 0x0005_0014;
    private static final long MASKED = 1 << 16;

    /** The x2APIC MSR range: MSR 0x800 + n is the register at offset n << 4. */
    public static final int X2APIC_FIRST = 0x800, X2APIC_LAST = 0x8FF;

    private final Vcpu vcpu;
    private MmioBus unclaimed;
    private final int[] regs = new int[0x400 / 16];

    LocalApic(Vcpu vcpu, MmioBus unclaimed) {
        this.vcpu = vcpu;
        this.unclaimed = unclaimed;
        reset();
    }

    void setUnclaimed(MmioBus bus) {
        unclaimed = bus;
    }

    void reset() {
        java.util.Arrays.fill(regs, 0);
        regs[ID >> 4] = vcpu.index() << 24;
        regs[DFR >> 4] = 0xFFFF_FFFF;
        regs[SPIV >> 4] = 0xFF;
        for (int lvt = LVT_TIMER; lvt <= LVT_ERROR; lvt += 16) {
            regs[lvt >> 4] = (int) MASKED;
        }
    }

    /** The page's physical base while the APIC is enabled in xAPIC mode, else -1. */
    private long base() {
        long apicBase = vcpu.cpu().readCoreMsr(Msr.IA32_APIC_BASE);
        boolean enabled = (apicBase & (1 << 11)) != 0, x2apic = (apicBase & (1 << 10)) != 0;
        return enabled && !x2apic ? apicBase & 0xF_FFFF_F000L : -1;
    }

    @Override
    public long read(long physical, int size) {
        long base = base();
        if (base < 0 || (physical & ~0xFFFL) != base) {
            return unclaimed == null ? -1L : unclaimed.read(physical, size);
        }
        int off = (int) (physical & 0xFF0);
        long v = off == ICR_LOW ? regs[off >> 4] & ~(1 << 12) & 0xFFFF_FFFFL : registerValue(off); // ICR: delivery idle
        return v >>> (8 * (physical & 3));
    }

    @Override
    public void write(long physical, int size, long value) {
        long base = base();
        if (base < 0 || (physical & ~0xFFFL) != base) {
            if (unclaimed != null) {
                unclaimed.write(physical, size, value);
            }
            return;
        }
        int off = (int) (physical & 0xFF0);
        int v = (int) value;
        switch (off) {
            case VERSION, PPR, TIMER_CURRENT -> { } // read-only
            case EOI -> { } // no in-service tracking: the one interrupt source (the PMI) needs none
            case LVT_PMC -> vcpu.pmu().writeLvtPmi(v & 0x1_07FFL); // reserved bits read as 0
            case ESR -> regs[ESR >> 4] = 0;
            case ICR_LOW -> regs[ICR_LOW >> 4] = v & ~(1 << 12); // sent at once (to nobody: the only CPUs are the VM's)
            default -> {
                if (off < 0x400) {
                    regs[off >> 4] = v;
                }
            }
        }
    }

    // ------------------------------------------------------------------ x2APIC (KVM's kvm_x2apic_msr_read/write)

    /** x2APIC register offsets (MSR 0x800 + offset >> 4). */
    private static final int LDR_X2 = 0xD0, ISR = 0x100, TMR = 0x180, IRR = 0x200, LVT_CMCI = 0x2F0, TIMER_INITIAL = 0x380,
            TIMER_DIVIDE = 0x3E0, SELF_IPI = 0x3F0;

    /** RDMSR of an x2APIC register: #GP for write-only and reserved ones (SDM vol. 3A, table 11-6). */
    public long readX2apic(int msr) {
        int off = (msr - X2APIC_FIRST) << 4;
        return switch (off) {
            case ID -> vcpu.index(); // the full 32-bit x2APIC ID
            case LDR_X2 -> ((long) (vcpu.index() >> 4) << 16) | (1L << (vcpu.index() & 15)); // cluster, bit
            case VERSION, TPR, PPR, SPIV, ESR, LVT_CMCI, LVT_TIMER, 0x330, LVT_PMC, 0x350, 0x360, LVT_ERROR, TIMER_INITIAL,
                    TIMER_CURRENT, TIMER_DIVIDE -> registerValue(off);
            case ICR_LOW -> (regs[ICR_LOW >> 4] & 0xFFFF_FFFFL & ~(1 << 12)) | ((regs[ICR_HIGH >> 4] & 0xFFFF_FFFFL) << 32);
            default -> {
                if ((off >= ISR && off < ISR + 0x80) || (off >= TMR && off < TMR + 0x80) || (off >= IRR && off < IRR + 0x80)) {
                    yield 0; // nothing in service, no trigger modes, nothing pending
                }
                throw CpuFault.gp(); // EOI and SELF IPI are write-only; DFR, ICR high and the rest do not exist
            }
        };
    }

    /** WRMSR of an x2APIC register: #GP for read-only and reserved ones and for reserved bits where KVM checks them. */
    public void writeX2apic(int msr, long value) {
        int off = (msr - X2APIC_FIRST) << 4;
        switch (off) {
            case EOI, SELF_IPI -> {
                if (off == EOI && value != 0) {
                    throw CpuFault.gp(); // x2APIC EOI takes 0 only
                }
                // EOI: no in-service tracking (the one interrupt source needs none); self IPIs are not modelled
            }
            case ESR -> {
                if (value != 0) {
                    throw CpuFault.gp();
                }
                regs[ESR >> 4] = 0;
            }
            case ICR_LOW -> {
                regs[ICR_HIGH >> 4] = (int) (value >>> 32);
                regs[ICR_LOW >> 4] = (int) value & ~(1 << 12);
            }
            case LVT_PMC -> vcpu.pmu().writeLvtPmi(value); // #GP on reserved bits, as before
            case TPR, SPIV, LVT_CMCI, LVT_TIMER, 0x330, 0x350, 0x360, LVT_ERROR, TIMER_INITIAL, TIMER_DIVIDE -> {
                if ((value >>> 32) != 0) {
                    throw CpuFault.gp();
                }
                regs[off >> 4] = (int) value;
            }
            default -> throw CpuFault.gp(); // ID, version, LDR, PPR, ISR/TMR/IRR, current count: read-only; the rest reserved
        }
    }

    /** A register's value as software reads it (no side effects). */
    private long registerValue(int off) {
        return switch (off) {
            case VERSION -> VERSION_VALUE;
            case PPR -> regs[TPR >> 4] & 0xFF;
            case LVT_PMC -> vcpu.pmu().lvtPmi();
            case TIMER_CURRENT -> 0;
            default -> regs[off >> 4] & 0xFFFF_FFFFL;
        };
    }

    /** The xAPIC ID register's value (for tests). */
    public int id() {
        return regs[ID >> 4];
    }
}
