package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.host.Tracer;
import dev.lbrvmm.vmm.cpu.Cpu;
import dev.lbrvmm.vmm.cpu.CpuFault;
import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.DebugCtl;
import dev.lbrvmm.vmm.cpu.Msr;
import java.util.function.LongSupplier;

/**
 * The hypervisor's side of a vCPU's MSRs. Guest RDMSR/WRMSR of an MSR the bitmap passes through
 * go straight to the physical LBR (hardware rules apply, no exit); any other access is a VM exit
 * handled here: DEBUGCTL and PERF_CAPABILITIES follow vmx_get_msr/vmx_set_msr, intercepted LBR MSRs go to the
 * VM's {@link GuestLbrPolicy}. Host-initiated KVM_GET/SET_MSRS take the same paths without an exit.
 */
final class VcpuMsrs implements dev.lbrvmm.vmm.cpu.MsrBus {
    private final Vcpu vcpu;
    /** Guest DEBUGCTL, as kept in the VMCS. */
    private long debugctl;
    private long perfCapabilities;

    VcpuMsrs(Vcpu vcpu) {
        this.vcpu = vcpu;
        reset();
    }

    /** MISC_ENABLE bits 11 (BTS unavailable) and 12 (PEBS unavailable): set by KVM's vPMU, read-only for the guest. */
    static final long MISC_ENABLE_PMU_RO = (1 << 11) | (1 << 12);
    private long miscEnable;

    void reset() {
        debugctl = 0;
        miscEnable = MISC_ENABLE_PMU_RO; // intel_pmu_init: no BTS, no PEBS
        // v3 semantics: a VM with the capability reads the host's LBR format from PERF_CAPABILITIES.
        perfCapabilities = vcpu.vm().guestLbr() ? vcpu.vm().kvm().hostModel().lbrFormat() : 0;
    }

    private Cpu cpu() {
        return vcpu.cpu();
    }

    private GuestLbr lbr() {
        return vcpu.guestLbr();
    }

    long debugctl() {
        return debugctl;
    }

    /** Legacy freeze on a virtual PMI: DEBUGCTL.LBR cleared in the VMCS (and on the CPU if running). */
    void freezeLbr() {
        debugctl &= ~DebugCtl.LBR;
        vcpu.debugctlWritten(debugctl);
    }

    /** MSRs VMX passes through regardless of LBR (segment bases); everything else here exits. */
    private static boolean alwaysPassedThrough(int index) {
        return index == Msr.IA32_FS_BASE || index == Msr.IA32_GS_BASE || index == Msr.IA32_KERNEL_GS_BASE;
    }

    @Override
    public long read(int index) {
        if (isGuestLbrMsr(index) && lbr().bitmap.passthrough(index)) {
            lbr().stats.passthroughAccesses++;
            return lbr().physicalRead(index);
        }
        if (alwaysPassedThrough(index)) {
            return cpu().readCoreMsr(index);
        }
        return inKernelExit(ExitReason.MSR_READ, () -> {
            long v = emulateRead(index);
            if (vcpu.tracing(Tracer.Category.MSR)) {
                vcpu.trace(Tracer.Category.MSR, "rdmsr", msrArgs(index, v));
            }
            return v;
        });
    }

    @Override
    public void write(int index, long value) {
        if (isGuestLbrMsr(index) && lbr().bitmap.passthrough(index)) {
            lbr().stats.passthroughAccesses++;
            lbr().physicalWrite(index, value);
            return;
        }
        if (alwaysPassedThrough(index)) {
            cpu().writeCoreMsr(index, value);
            return;
        }
        inKernelExit(ExitReason.MSR_WRITE, () -> {
            if (vcpu.tracing(Tracer.Category.MSR)) {
                vcpu.trace(Tracer.Category.MSR, "wrmsr", msrArgs(index, value));
            }
            emulateWrite(index, value, false);
            return 0;
        });
    }

    private static String msrArgs(int index, long value) {
        return "\"msr\":\"" + Msr.describe(index) + "\",\"value\":\"0x" + Long.toHexString(value) + "\"";
    }

    /** An exit handled inside KVM: accounted, the policy sees the exit and the re-entry around it. */
    private long inKernelExit(ExitReason reason, LongSupplier handler) {
        GuestLbr s = lbr();
        s.stats.exit(reason);
        if (vcpu.tracing(Tracer.Category.EXIT)) {
            vcpu.trace(Tracer.Category.EXIT, reason.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), null);
        }
        boolean policy = vcpu.vm().guestLbr();
        if (policy) {
            s.policy.afterExit(s);
        }
        try {
            return handler.getAsLong();
        } finally {
            if (policy) {
                s.policy.beforeEntry(s);
            }
        }
    }

    private boolean x2apic() {
        return (cpu().readCoreMsr(Msr.IA32_APIC_BASE) & (1L << 10)) != 0;
    }

    private long emulateRead(int index) {
        if (vcpu.pmu().handles(index)) {
            return vcpu.pmu().read(index);
        }
        if (index >= LocalApic.X2APIC_FIRST && index <= LocalApic.X2APIC_LAST && x2apic()) {
            return vcpu.apic().readX2apic(index);
        }
        if (isGuestLbrMsr(index)) {
            lbr().stats.lbrMsrExits++;
            return lbr().policy.trappedRead(lbr(), index);
        }
        if (Cpu.isCoreMsr(index)) {
            return cpu().readCoreMsr(index);
        }
        switch (index) {
            case Msr.IA32_DEBUGCTL:
                return debugctl; // vmx_get_msr: the VMCS value
            case Msr.IA32_MISC_ENABLE:
                return miscEnable;
            case Msr.IA32_PERF_CAPABILITIES:
                if (!cpu().cpuid().pdcm()) {
                    throw CpuFault.gp(); // kvm_get_msr_common: no PDCM, no PERF_CAPABILITIES
                }
                return perfCapabilities;
            default:
                throw CpuFault.gp();
        }
    }

    private void emulateWrite(int index, long value, boolean host) {
        if (vcpu.pmu().handles(index)) {
            vcpu.pmu().write(index, value);
            return;
        }
        if (index >= LocalApic.X2APIC_FIRST && index <= LocalApic.X2APIC_LAST && x2apic()) {
            vcpu.apic().writeX2apic(index, value);
            return;
        }
        if (isGuestLbrMsr(index)) {
            if (!host) {
                lbr().stats.lbrMsrExits++;
            }
            lbr().policy.trappedWrite(lbr(), index, value);
            return;
        }
        if (Cpu.isCoreMsr(index)) {
            cpu().writeCoreMsr(index, value);
            return;
        }
        switch (index) {
            case Msr.IA32_DEBUGCTL -> writeDebugctl(value, host);
            case Msr.IA32_PERF_CAPABILITIES -> throw CpuFault.gp(); // kvm_set_msr_common: read-only for the guest
            case Msr.IA32_MISC_ENABLE -> {
                if (!host && ((value ^ miscEnable) & MISC_ENABLE_PMU_RO) != 0) {
                    throw CpuFault.gp(); // kvm_set_msr_common: MSR_IA32_MISC_ENABLE_PMU_RO_MASK
                }
                miscEnable = value;
            }
            default -> throw CpuFault.gp();
        }
    }

    /**
     * DEBUGCTL write, current-kernel rules (vmx_set_msr with vmx_get_supported_debugctl): LBR and FREEZE_LBRS_ON_PMI are
     * supported when the vCPU has LBR (or the write is host-initiated and the host has LBR);
     * unsupported BTF or LBR bits are dropped silently; any other unsupported bit is #GP.
     */
    private void writeDebugctl(long value, boolean host) {
        boolean lbrSupported = vcpu.vm().kvm().hostModel().hasLbr() && (host || vcpu.vm().guestLbr());
        long supported = lbrSupported ? DebugCtl.LBR | DebugCtl.FREEZE_LBRS_ON_PMI : 0;
        long ignorable = DebugCtl.BTF | DebugCtl.LBR;
        long unsupported = value & ~supported;
        if ((unsupported & ~ignorable) != 0) {
            throw CpuFault.gp();
        }
        debugctl = value & supported; // written to the VMCS
        vcpu.debugctlWritten(debugctl);
    }

    /**
     * An LBR MSR of this vCPU's model while the VM has KVM_CAP_X86_GUEST_LBR and a vPMU (intel_is_valid_msr
     * -> intel_pmu_is_valid_lbr_msr: otherwise, or past the model's depth, it is no PMU MSR and accesses #GP; disabling the
     * vPMU through CPUID also disables LBR, as the vmx_pmu_caps_test selftest checks).
     */
    private boolean isGuestLbrMsr(int index) {
        return vcpu.vm().guestLbr() && lbr().isLbrMsr(index) && cpu().cpuid().pmuVersion() > 0;
    }

    long hostRead(int index) throws KvmException {
        try {
            if (index == Msr.IA32_PERF_CAPABILITIES) {
                return cpu().cpuid().pdcm() ? perfCapabilities : 0; // "unsupported" without PDCM (kvm_get_msr_common)
            }
            return emulateRead(index);
        } catch (CpuFault f) {
            throw new KvmException("EINVAL", "vCPU " + vcpu.index() + ": " + Msr.describe(index)
                    + " cannot be read on CPU model " + vcpu.model().name());
        }
    }

    void hostWrite(int index, long value) throws KvmException {
        try {
            if (index == Msr.IA32_PERF_CAPABILITIES) {
                hostWritePerfCapabilities(value);
            } else {
                emulateWrite(index, value, true);
            }
        } catch (CpuFault f) {
            throw new KvmException("EINVAL", String.format("vCPU %d: %s does not accept 0x%x on CPU model %s",
                    vcpu.index(), Msr.describe(index), value, vcpu.model().name()));
        }
    }

    /** Host write of IA32_PERF_CAPABILITIES, checks in vmx_set_msr's and kvm_set_msr_common's order. */
    private void hostWritePerfCapabilities(long value) throws KvmException {
        if (!cpu().cpuid().pdcm()) { // unsupported without PDCM (kvm_set_msr_common); a write of 0 is accepted and ignored
            if (value != 0) {
                throw new KvmException("EINVAL", "IA32_PERF_CAPABILITIES is unsupported: the vCPU's CPUID has no PDCM");
            }
            return;
        }
        if (value == perfCapabilities) {
            return;
        }
        if (vcpu.hasRun()) {
            throw new KvmException("EINVAL", "IA32_PERF_CAPABILITIES cannot change after the vCPU has run");
        }
        int hostFmt = vcpu.vm().kvm().hostModel().lbrFormat();
        int fmt = (int) (value & 0x3F);
        if (fmt != 0 && fmt != hostFmt) {
            throw new KvmException("EINVAL", String.format("LBR format %d in IA32_PERF_CAPABILITIES differs from the host's %d",
                    fmt, hostFmt));
        }
        CpuModel host = vcpu.vm().kvm().hostModel();
        if (fmt != 0 && (cpu().cpuid().displayFamily() != host.family() || cpu().cpuid().displayModel() != host.model())) {
            throw new KvmException("EINVAL", String.format(
                    "an LBR format needs the guest CPU family/model (%x/%x in CPUID) to equal the host's (%x/%x)",
                    cpu().cpuid().displayFamily(), cpu().cpuid().displayModel(), host.family(), host.model()));
        }
        if ((value & ~0x3FL) != 0) {
            throw new KvmException("EINVAL", String.format("IA32_PERF_CAPABILITIES bits 0x%x are not supported", value & ~0x3FL));
        }
        perfCapabilities = value;
    }
}
