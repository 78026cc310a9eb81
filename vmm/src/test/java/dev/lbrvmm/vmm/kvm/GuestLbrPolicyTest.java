package dev.lbrvmm.vmm.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.CpuModels;
import dev.lbrvmm.vmm.cpu.DebugCtl;
import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.cpu.Msr;
import dev.lbrvmm.vmm.host.BranchyWorkload;
import dev.lbrvmm.vmm.host.Host;
import dev.lbrvmm.vmm.host.LbrEvent;
import dev.lbrvmm.vmm.host.Task;
import java.util.HexFormat;
import java.util.List;
import dev.lbrvmm.vmm.CapturedLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The guest-LBR policies against the host model: event creation and pass-through, host reclaim,
 * lazy release, records surviving a host LBR user, the vPMI freeze, the eager and unsaved
 * designs, teardown (docs/design.md, "The four policies").
 */
@ExtendWith(CapturedLog.class)
class GuestLbrPolicyTest {
    private static final CpuModel SKL = CpuModels.byName("skylake-client").orElseThrow();
    /** 16 x "jmp +0" then hlt: 16 recorded branches. */
    private static final byte[] JUMPS = HexFormat.of().parseHex("eb00".repeat(16) + "f4");

    /** A one-CPU host with KVM on it. */
    static final class Rig {
        final Host host = new Host(1, SKL, 1000);
        final Kvm kvm = new Kvm(host);

        Vcpu vcpu(String policy) throws KvmException {
            Vm vm = kvm.createVm(1 << 20);
            vm.setLbrPolicy(GuestLbrPolicy.byName(policy).orElseThrow());
            vm.enableCap(Capability.X86_GUEST_LBR, 1, SKL);
            Vcpu v = vm.createVcpu(SKL);
            v.cpu().memory().load(0x1000, JUMPS, 0, JUMPS.length);
            v.cpu().setRip(0x1000);
            v.cpu().r[dev.lbrvmm.vmm.cpu.Cpu.RSP] = 0x80000;
            return v;
        }

        /** A host process on the same CPU with its own per-task LBR user (`perf record -b`). */
        Task hostTaskWithLbr() {
            Task t = host.addTask("perf-record-b", Task.Kind.HOST, 1, new BranchyWorkload("perf-record-b"));
            host.perf().createTaskEvent("perf-record-b", t, true, false, false, 0);
            return t;
        }

        Task plainHostTask() {
            return host.addTask("other", Task.Kind.HOST, 1, new BranchyWorkload("other"));
        }

        /** Switches the CPU to another task, lets it run, and back to the vCPU (entering with budget 0). */
        void switchAway(Vcpu v, Task other) {
            host.ensureRunning(other);
            other.body().run(other.cpu(), 500);
            v.run(0);
        }
    }

    private final Rig rig = new Rig();
    private final Host host = rig.host;

    private static long guestRead(Vcpu v, int msr) {
        return v.msrs().read(msr);
    }

    @Test
    void debugctlLbrCreatesTheEventZeroesRecordsAndPassesThrough98Msrs() throws Exception {
        Vcpu v = rig.vcpu("upstream");
        v.run(0);
        v.pcpu().lbr().writeMsr(Msr.MSR_LBR_NHM_FROM + 3, 0xBAD); // stale host record
        v.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
        assertThat(v.guestLbr().event()).isNotNull();
        assertThat(v.guestLbr().event().state()).isEqualTo(LbrEvent.State.ACTIVE);
        assertThat(v.pcpu().lbr().readMsr(Msr.MSR_LBR_NHM_FROM + 3)).as("first-add reset").isZero();
        v.run(0);
        assertThat(v.guestLbr().passthrough()).isTrue();
        assertThat(v.guestLbr().bitmap.passthroughCount()).isEqualTo(98);
        for (int i = 0; i < 32; i++) {
            assertThat(guestRead(v, Msr.MSR_LBR_NHM_FROM + i)).isZero();
            assertThat(guestRead(v, Msr.MSR_LBR_INFO_0 + i)).isZero();
        }
        assertThat(v.stats().lbrMsrExits()).as("all reads passed through").isZero();
    }

    @Test
    void hostReclaimMakesTrappedAccessesReadZeroAndDropWrites() throws Exception {
        Vcpu v = rig.vcpu("upstream");
        v.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
        v.run(100);
        assertThat(v.guestLbr().passthrough()).isTrue();
        assertThat(guestRead(v, Msr.MSR_LBR_NHM_FROM + (int) guestRead(v, Msr.MSR_LBR_TOS))).isNotZero();
        LbrEvent cpuPinned = host.perf().createCpuEvent("host perf -a -b", v.pcpu(), true, 0);
        assertThat(cpuPinned.state()).isEqualTo(LbrEvent.State.ACTIVE);
        assertThat(v.guestLbr().event().state()).as("task-pinned loses to CPU-pinned").isEqualTo(LbrEvent.State.ERROR);
        v.run(0);
        assertThat(v.guestLbr().passthrough()).as("pass-through cancelled at entry").isFalse();
        assertThat(v.stats().warnings()).isPositive();
        assertThat(CapturedLog.messages()).as("vmx_passthrough_lbr_msrs' warning").contains("WARN: vcpu-0: fail to passthrough LBR.");
        assertThat(guestRead(v, Msr.MSR_LBR_NHM_FROM)).as("reclaimed read: 0, no #GP").isZero();
        v.msrs().write(Msr.MSR_LBR_TOS, 5);
        assertThat(guestRead(v, Msr.MSR_LBR_TOS)).as("reclaimed write: lost").isZero();
        assertThat(v.stats().reclaimDrops()).isEqualTo(3);
    }

    @Test
    void upstreamReleasesAfterSchedInWhenDebugctlLbrIsClear() throws Exception {
        Vcpu v = rig.vcpu("upstream");
        Task other = rig.plainHostTask();
        v.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
        v.run(0);
        v.msrs().write(Msr.IA32_DEBUGCTL, 0);
        assertThat(v.guestLbr().event()).as("clearing LBR does not release").isNotNull();
        rig.switchAway(v, other);
        assertThat(v.guestLbr().event()).isNull();
        assertThat(v.guestLbr().passthrough()).isFalse();
        assertThat(v.stats().eventsReleased()).isEqualTo(1);
        assertThat(host.perf().events()).isEmpty();
    }

    @Test
    void lazyReinterceptsAfterAUsedSliceAndReleasesAfterAnUnusedOne() throws Exception {
        Vcpu v = rig.vcpu("lazy");
        Task other = rig.plainHostTask();
        v.run(0);
        guestRead(v, Msr.MSR_LBR_TOS); // first trapped access of the slice
        assertThat(v.guestLbr().passthrough()).isTrue();
        assertThat(v.guestLbr().event()).isNotNull();
        assertThat(v.stats().lbrMsrExits()).isEqualTo(1);
        guestRead(v, Msr.MSR_LBR_TOS);
        assertThat(v.stats().lbrMsrExits()).as("then passed through").isEqualTo(1);
        rig.switchAway(v, other);
        assertThat(v.guestLbr().passthrough()).as("intercepted again to detect use").isFalse();
        assertThat(v.guestLbr().event()).as("used last slice: kept").isNotNull();
        rig.switchAway(v, other);
        assertThat(v.guestLbr().event()).as("unused slice and DEBUGCTL.LBR = 0: freed").isNull();
    }

    @Test
    void recordsSurviveAHostLbrUserOnTheSameCpu() throws Exception {
        for (String policy : List.of("lazy", "upstream", "eager")) {
            Rig t = new Rig();
            Vcpu v = t.vcpu(policy);
            Task other = t.hostTaskWithLbr();
            v.setMsr(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
            v.run(100);
            LbrSnapshot before = v.lbrSnapshot().orElseThrow();
            assertThat(before.entries()).as(policy).hasSize(16);
            t.switchAway(v, other);
            assertThat(v.pcpu().lbr().snapshot().entries()).as(policy + ": what the guest reads after the switch")
                    .isEqualTo(before.entries());
            assertThat(guestRead(v, Msr.MSR_LBR_TOS)).isEqualTo(before.tos());
        }
    }

    /**
     * KVM_SET_MSRS of an LBR MSR before the first KVM_RUN (QEMU's guest.msrs): the ioctl runs on the vCPU thread after
     * vcpu_load, intel_pmu_handle_lbr_msrs_access creates the event there (its first-add reset comes before the wrmsrl),
     * so the value is what the guest reads at its first instruction, under every policy, in either order of the
     * DEBUGCTL and LBR MSR writes. When another task runs on the CPU in between, perf's save and restore carry
     * LBR_SELECT, TOS and the records reachable from TOS; a lone record elsewhere is not saved (intel_pmu_lbr_save
     * stops at the first FROM = 0), as on a real host.
     */
    @Test
    void hostWrittenLbrMsrsSurviveToTheFirstGuestInstruction() throws Exception {
        record Case(int msr, long value, boolean savedByPerf) {
        }
        List<Case> cases = List.of(new Case(Msr.MSR_LBR_SELECT, 0x3c4, true), new Case(Msr.MSR_LBR_TOS, 7, true),
                new Case(Msr.MSR_LBR_NHM_FROM, 0x401234, true), new Case(Msr.MSR_LBR_NHM_FROM + 5, 0x401234, false),
                new Case(Msr.MSR_LBR_NHM_TO + 31, 0x405678, false), new Case(Msr.MSR_LBR_INFO_0 + 9, 0x1234, false));
        for (String policy : GuestLbrPolicy.NAMES) {
            for (Case c : cases) {
                for (int order = 0; order < 3; order++) {
                    Rig t = new Rig();
                    Vcpu v = t.vcpu(policy);
                    Task other = t.plainHostTask();
                    if (order == 0) {
                        v.setMsr(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
                    }
                    v.setMsr(c.msr(), c.value());
                    if (order == 1) {
                        v.setMsr(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
                    }
                    String what = String.format("%s, %s, order %d", policy, Msr.describe(c.msr()), order);
                    assertThat(v.getMsr(c.msr())).as(what + ": read back by the VMM").isEqualTo(c.value());
                    boolean switched = order == 2;
                    if (switched) {
                        v.setMsr(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
                        t.host.ensureRunning(other);
                        other.body().run(other.cpu(), 500);
                    }
                    v.run(0);
                    if (switched && policy.equals("passthrough-unsaved")) {
                        continue; // nothing saved: whatever the other task left shows (passthroughUnsavedShowsTheHostsRecords)
                    }
                    // eager uses no perf event: the other task (no LBR user) leaves the whole stack as it was
                    long expected = !switched || c.savedByPerf() || policy.equals("eager") ? c.value() : 0;
                    assertThat(guestRead(v, c.msr())).as(what + ": read by the guest").isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void passthroughUnsavedShowsTheHostsRecords() throws Exception {
        Vcpu v = rig.vcpu("passthrough-unsaved");
        Task other = rig.hostTaskWithLbr();
        v.setMsr(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
        v.run(100);
        rig.switchAway(v, other);
        List<LbrSnapshot.Entry> seen = v.pcpu().lbr().snapshot().entries();
        assertThat(seen).anySatisfy(e -> assertThat(e.from()).isBetween(BranchyWorkload.CODE,
                BranchyWorkload.CODE + BranchyWorkload.CODE_LENGTH));
        assertThat(v.stats().saveRestore().saves()).isZero();
    }

    @Test
    void eagerSavesAndRestoresOnEveryExitEvenForAGuestThatNeverUsesLbr() throws Exception {
        Vcpu v = rig.vcpu("eager");
        for (int i = 0; i < 5; i++) {
            v.run(1);
        }
        assertThat(v.stats().saveRestore().saves()).isEqualTo(5);
        assertThat(v.stats().saveRestore().restores()).isEqualTo(4);
        assertThat(v.stats().saveRestore().msrAccesses()).isEqualTo(9 * 98);
        Vcpu lazy = new Rig().vcpu("lazy");
        for (int i = 0; i < 5; i++) {
            lazy.run(1);
        }
        assertThat(lazy.stats().saveRestore().msrAccesses()).as("lazy does nothing for a guest that never uses LBR").isZero();
        assertThat(lazy.stats().eventsCreated()).isZero();
    }

    @Test
    void teardownAndResetDestroyTheEvent() throws Exception {
        Vcpu v = rig.vcpu("upstream");
        v.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
        v.run(0);
        assertThat(host.perf().events()).hasSize(1);
        v.reset();
        assertThat(host.perf().events()).isEmpty();
        v.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.LBR);
        assertThat(host.perf().events()).hasSize(1);
        v.vm().destroy();
        assertThat(host.perf().events()).isEmpty();
    }

    @Test
    void virtualPmiFreezesTheLbrOnAVersion2Vpmu() throws Exception {
        Vcpu v = rig.vcpu("upstream");
        assertThat(v.cpu().cpuid().pmuVersion()).as("KVM's supported CPUID caps a Skylake's version 4 at 2").isEqualTo(2);
        // IDT at 0x8000 with vector 0xFE -> a HLT at 0x6000
        var mem = v.cpu().memory();
        long handler = 0x6000;
        mem.load(handler, new byte[] {(byte) 0xF4}, 0, 1);
        mem.write64(0x8000 + 0xFE * 16, (handler & 0xFFFF) | (0x08L << 16) | (0x8EL << 40));
        mem.write64(0x8000 + 0xFE * 16 + 8, 0);
        mem.write16(0x7000, 256 * 16 - 1);
        mem.write64(0x7002, 0x8000);
        mem.load(0x0FFD, HexFormat.of().parseHex("0f0118"), 0, 3); // lidt (%rax) just before the jumps
        v.cpu().setRip(0x0FFD);
        v.cpu().r[dev.lbrvmm.vmm.cpu.Cpu.RAX] = 0x7000;
        v.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.LBR | DebugCtl.FREEZE_LBRS_ON_PMI);
        v.run(5);
        int recorded = v.lbrSnapshot().orElseThrow().entries().size();
        assertThat(v.deliverPmi(0xFE)).isTrue();
        assertThat(v.guestDebugctl()).as("LBR cleared before the interrupt").isEqualTo(DebugCtl.FREEZE_LBRS_ON_PMI);
        assertThat(v.cpu().rip()).isEqualTo(handler);
        v.run(10);
        assertThat(v.lbrSnapshot().orElseThrow().entries()).as("frozen: the PMI and the handler add nothing").hasSize(recorded);
        Vcpu v4 = new Rig().vcpu("upstream");
        dev.lbrvmm.vmm.cpu.CpuidTable t = v4.cpu().cpuid().copy();
        int[] a = t.get(0xA, 0);
        t.set(0xA, 0, (a[0] & ~0xFF) | 4, a[1], a[2], a[3]); // a VMM that sets version 4 itself
        v4.setCpuid(t);
        v4.msrs().write(Msr.IA32_DEBUGCTL, DebugCtl.LBR | DebugCtl.FREEZE_LBRS_ON_PMI);
        v4.deliverPmi(0xFE);
        assertThat(v4.guestDebugctl() & DebugCtl.LBR).as("version 4: LBR_FRZ is not emulated").isEqualTo(DebugCtl.LBR);
    }

    @Test
    void hostLbrDescriptionMatchesTheModel() {
        var d = dev.lbrvmm.vmm.host.HostPerf.describe(host.cpus().get(0));
        assertThat(d.nr()).isEqualTo(32);
        assertThat(d.tos()).isEqualTo(Msr.MSR_LBR_TOS);
        assertThat(d.from()).isEqualTo(Msr.MSR_LBR_NHM_FROM);
        assertThat(d.to()).isEqualTo(Msr.MSR_LBR_NHM_TO);
        assertThat(d.info()).isEqualTo(Msr.MSR_LBR_INFO_0);
        var hsw = dev.lbrvmm.vmm.host.HostPerf.describe(new Host(1, CpuModels.byName("haswell").orElseThrow(), 1).cpus().get(0));
        assertThat(hsw.info()).isZero();
        assertThat(hsw.nr()).isEqualTo(16);
    }
}
