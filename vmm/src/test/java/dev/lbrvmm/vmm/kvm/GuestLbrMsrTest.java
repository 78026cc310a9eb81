package dev.lbrvmm.vmm.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lbrvmm.vmm.cpu.CpuFault;
import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.CpuModels;
import dev.lbrvmm.vmm.cpu.DebugCtl;
import dev.lbrvmm.vmm.cpu.Msr;
import org.junit.jupiter.api.Test;

/**
 * Guest and host-initiated MSR behaviour of the KVM model that needs no host scheduling:
 * the MSR rules of docs/design.md ("Guest LBR MSRs") and the host-side checks of the kernel's
 * vmx_pmu_caps_test selftest that apply without the vPMU.
 * Guest RDMSR/WRMSR are exercised through the vCPU's MSR bus, the path the interpreter uses.
 */
class GuestLbrMsrTest {
    private static final CpuModel SKL = CpuModels.byName("skylake-client").orElseThrow();
    private static final CpuModel HSW = CpuModels.byName("haswell").orElseThrow();

    private static Vcpu vcpu(boolean guestLbr, CpuModel guest, CpuModel host) throws KvmException {
        Vm vm = new Kvm(host).createVm(1 << 20);
        if (guestLbr) {
            vm.enableCap(Capability.X86_GUEST_LBR, 1, guest);
        }
        return vm.createVcpu(guest);
    }

    private static void guestGp(Vcpu v, Runnable r) {
        assertThatThrownBy(r::run).isInstanceOf(CpuFault.class).extracting(f -> ((CpuFault) f).vector).isEqualTo(13);
    }

    @Test
    void lbrMsrsFaultWithoutTheCapability() throws Exception {
        Vcpu v = vcpu(false, SKL, SKL);
        guestGp(v, () -> v.msrs().read(Msr.MSR_LBR_NHM_FROM));
        guestGp(v, () -> v.msrs().write(Msr.MSR_LBR_TOS, 1));
        assertThatThrownBy(() -> v.getMsr(Msr.MSR_LBR_NHM_FROM)).isInstanceOf(KvmException.class)
                .hasMessageContaining("MSR_LBR_NHM_FROM");
    }

    @Test
    void debugctlWritesDropBtfAndUnsupportedLbrAndFaultOnOtherBits() throws Exception {
        Vcpu off = vcpu(false, SKL, SKL);
        off.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.LBR); // current kernels: accepted, LBR dropped
        assertThat(off.msrs().read(Msr.IA32_DEBUGCTL)).isZero();
        guestGp(off, () -> off.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.FREEZE_LBRS_ON_PMI)); // FREEZE without LBR: #GP
        Vcpu on = vcpu(true, SKL, SKL);
        on.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.BTF | DebugCtl.LBR); // BTF dropped
        assertThat(on.msrs().read(Msr.IA32_DEBUGCTL)).isEqualTo(DebugCtl.LBR);
        for (long bit : new long[] {DebugCtl.TR, DebugCtl.BTS, 1L << 16}) { // unsupported bits: #GP
            guestGp(on, () -> on.msrs().write(Msr.IA32_DEBUGCTL, bit));
        }
        on.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.LBR | DebugCtl.FREEZE_LBRS_ON_PMI);
        assertThat(on.guestDebugctl()).isEqualTo(DebugCtl.LBR | DebugCtl.FREEZE_LBRS_ON_PMI);
    }

    @Test
    void hostInitiatedDebugctlLbrIsAcceptedWhenTheHostHasLbr() throws Exception {
        Vcpu off = vcpu(false, SKL, SKL);
        off.setMsr(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
        assertThat(off.getMsr(Msr.IA32_DEBUGCTL)).isEqualTo(DebugCtl.LBR);
        assertThatThrownBy(() -> off.setMsr(Msr.IA32_DEBUGCTL, DebugCtl.TR)).isInstanceOf(KvmException.class)
                .hasMessageContaining("IA32_DEBUGCTL").hasMessageContaining("0x40");
    }

    @Test
    void lbrMsrsFollowTheModelWithTheCapability() throws Exception {
        Vcpu hsw = vcpu(true, HSW, HSW);
        guestGp(hsw, () -> hsw.msrs().read(Msr.MSR_LBR_NHM_FROM + 16));
        guestGp(hsw, () -> hsw.msrs().read(Msr.MSR_LBR_INFO_0));
        hsw.msrs().write(Msr.MSR_LBR_NHM_FROM + 3, 0x4242);
        assertThat(hsw.msrs().read(Msr.MSR_LBR_NHM_FROM + 3)).isEqualTo(0x4242);
        hsw.setMsr(Msr.MSR_LBR_TOS, 7); // 9.2 step 5: host write of TOS = 7 succeeds
        assertThat(hsw.getMsr(Msr.MSR_LBR_TOS)).isEqualTo(7);
    }

    @Test
    void perfCapabilitiesAndPdcmOnlyWithTheCapability() throws Exception {
        Vcpu on = vcpu(true, SKL, SKL);
        assertThat(on.cpu().cpuid().pdcm()).isTrue();
        assertThat(on.msrs().read(Msr.IA32_PERF_CAPABILITIES) & 0x3F).isEqualTo(5);
        guestGp(on, () -> on.msrs().write(Msr.IA32_PERF_CAPABILITIES, 5)); // read-only for the guest
        guestGp(on, () -> on.msrs().write(Msr.IA32_PERF_CAPABILITIES, 0));
        for (int b = 0; b < 64; b++) {
            long flip = 5L ^ (1L << b);
            guestGp(on, () -> on.msrs().write(Msr.IA32_PERF_CAPABILITIES, flip));
        }
        Vcpu off = vcpu(false, SKL, SKL);
        assertThat(off.cpu().cpuid().pdcm()).isFalse();
        guestGp(off, () -> off.msrs().read(Msr.IA32_PERF_CAPABILITIES)); // #GP without CPUID PDCM
        assertThat(off.cpu().cpuid().pmuVersion()).as("the PMU itself stays, at KVM's version 2").isEqualTo(2);
    }

    @Test
    void hostWritesOfPerfCapabilities() throws Exception {
        Vcpu v = vcpu(true, SKL, SKL);
        v.setMsr(Msr.IA32_PERF_CAPABILITIES, 0);
        assertThat(v.getMsr(Msr.IA32_PERF_CAPABILITIES)).isZero();
        v.setMsr(Msr.IA32_PERF_CAPABILITIES, 5);
        for (int fmt = 1; fmt < 64; fmt++) { // only the host's LBR format
            if (fmt == 5) {
                continue;
            }
            long value = fmt;
            assertThatThrownBy(() -> v.setMsr(Msr.IA32_PERF_CAPABILITIES, value)).isInstanceOf(KvmException.class)
                    .hasMessageContaining("differs from the host's 5");
        }
        v.run(1); // immutable after KVM_RUN; the same value is still fine
        v.setMsr(Msr.IA32_PERF_CAPABILITIES, 5);
        assertThatThrownBy(() -> v.setMsr(Msr.IA32_PERF_CAPABILITIES, 0)).hasMessageContaining("after the vCPU has run");
    }

    @Test
    void capabilityRefusals() throws Exception {
        Vm vm = new Kvm(SKL).createVm(1 << 20);
        assertThatThrownBy(() -> vm.enableCap(Capability.X86_GUEST_LBR, 1, HSW)).isInstanceOf(KvmException.class)
                .hasMessageContaining("haswell").hasMessageContaining("depth 16").hasMessageContaining("depth 32");
        Vm noLbrHost = new Kvm(CpuModels.byName("alderlake").orElseThrow()).createVm(1 << 20);
        assertThat(noLbrHost.kvm().checkExtension(Capability.X86_GUEST_LBR)).isZero();
        assertThatThrownBy(() -> noLbrHost.enableCap(Capability.X86_GUEST_LBR, 1, SKL)).hasMessageContaining("no model-specific LBR");
        vm.createVcpu(SKL);
        assertThatThrownBy(() -> vm.enableCap(Capability.X86_GUEST_LBR, 1, SKL)).hasMessageContaining("before the first vCPU");
        assertThat(vm.kvm().checkExtension(Capability.X86_GUEST_LBR)).isEqualTo(20);
    }

    @Test
    void lbrFormatNeedsTheHostFamilyAndModel() throws Exception {
        Vcpu v = vcpu(true, SKL, SKL);
        v.setMsr(Msr.IA32_PERF_CAPABILITIES, 0);
        dev.lbrvmm.vmm.cpu.CpuidTable other = v.cpu().cpuid().copy();
        int[] leaf1 = other.get(1, 0);
        other.set(1, 0, CpuModels.byName("skylake-server").orElseThrow().cpuidSignature(), leaf1[1], leaf1[2], leaf1[3]);
        v.setCpuid(other);
        assertThatThrownBy(() -> v.setMsr(Msr.IA32_PERF_CAPABILITIES, 5)).isInstanceOf(KvmException.class)
                .hasMessageContaining("family/model");
    }

    @Test
    void withoutPdcmPerfCapabilitiesIsUnsupported() throws Exception {
        Vcpu v = vcpu(false, SKL, SKL);
        assertThat(v.getMsr(Msr.IA32_PERF_CAPABILITIES)).isZero();
        v.setMsr(Msr.IA32_PERF_CAPABILITIES, 0);
        assertThatThrownBy(() -> v.setMsr(Msr.IA32_PERF_CAPABILITIES, 5)).hasMessageContaining("no PDCM");
    }

    @Test
    void removingThePmuFromCpuidDisablesLbrMsrs() throws Exception {
        Vcpu v = vcpu(true, SKL, SKL);
        v.setMsr(Msr.MSR_LBR_TOS, 7);
        dev.lbrvmm.vmm.cpu.CpuidTable noPmu = v.cpu().cpuid().copy();
        noPmu.remove(0xA);
        v.setCpuid(noPmu);
        assertThatThrownBy(() -> v.setMsr(Msr.MSR_LBR_TOS, 7)).isInstanceOf(KvmException.class)
                .hasMessageContaining("MSR_LBR_TOS");
    }

    @Test
    void debugctlAttachesTheLbrOnlyWhileRecording() throws Exception {
        Vcpu v = vcpu(true, SKL, SKL);
        v.cpu().memory().load(0x1000, new byte[] {(byte) 0xEB, 0x00, (byte) 0xF4}, 0, 3); // jmp +0; hlt
        v.cpu().setRip(0x1000);
        v.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
        v.run(10);
        assertThat(v.lbrSnapshot().orElseThrow().entries()).hasSize(1);
        v.msrs().write(Msr.IA32_DEBUGCTL, 0);
        v.cpu().setRip(0x1000);
        v.run(10);
        assertThat(v.lbrSnapshot().orElseThrow().entries()).as("nothing recorded with LBR off").hasSize(1);
    }
}
