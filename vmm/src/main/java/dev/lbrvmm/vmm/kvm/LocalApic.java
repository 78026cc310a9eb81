package dev.lbrvmm.vmm.kvm;

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

    private final Vcpu vcpu;
    private final MmioBus unclaimed;
    private final int[] regs = new int[0x400 / 16];

    LocalApic(Vcpu vcpu, MmioBus unclaimed) {
        this.vcpu = vcpu;
        this.unclaimed = unclaimed;
        reset();
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
            return unclaimed.read(physical, size);
        }
        int off = (int) (physical & 0xFF0);
        long v = switch (off) {
            case VERSION -> VERSION_VALUE;
            case PPR -> regs[TPR >> 4] & 0xFF;
            case LVT_PMC -> vcpu.pmu().lvtPmi();
            case ICR_LOW -> regs[off >> 4] & ~(1 << 12); // delivery status: idle
            case TIMER_CURRENT -> 0;
            default -> off < 0x400 ? regs[off >> 4] & 0xFFFF_FFFFL : 0;
        };
        return v >>> (8 * (physical & 3));
    }

    @Override
    public void write(long physical, int size, long value) {
        long base = base();
        if (base < 0 || (physical & ~0xFFFL) != base) {
            unclaimed.write(physical, size, value);
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

    /** The xAPIC ID register's value (for tests). */
    public int id() {
        return regs[ID >> 4];
    }
}
