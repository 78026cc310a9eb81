package dev.lbrvmm.vmm.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lbrvmm.vmm.cpu.Cpu;
import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.CpuModels;
import dev.lbrvmm.vmm.cpu.CpuidTable;
import dev.lbrvmm.vmm.cpu.DebugCtl;
import dev.lbrvmm.vmm.cpu.Msr;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The vPMU: exact counts, PMIs at the exact point, masked LVT, freeze on PMI. */
class VPmuTest {
    private static final CpuModel SKL = CpuModels.byName("skylake-client").orElseThrow();
    private static final long USR = 1L << 16, OS = 1L << 17, INT = 1L << 20, EN = 1L << 22;
    private static final int VECTOR = 0xF0;
    private static final long HANDLER = 0x6000;
    private static final long LOOP = 0x1008;

    /** lidt (%rax); mov $count,%ecx; 1: dec %ecx; jnz 1b; hlt  -- with an IDT whose vector 0xF0 goes to a HLT. */
    private static Vcpu guest(int count, boolean guestLbr) throws Exception {
        Vm vm = new Kvm(SKL).createVm(1 << 20);
        if (guestLbr) {
            vm.enableCap(Capability.X86_GUEST_LBR, 1, SKL);
        }
        Vcpu v = vm.createVcpu(SKL);
        var mem = v.cpu().memory();
        byte[] code = HexFormat.of().parseHex(String.format("0f0118 b9%02x%02x%02x%02x ffc9 75fc f4",
                count & 0xFF, (count >> 8) & 0xFF, (count >> 16) & 0xFF, (count >>> 24) & 0xFF).replace(" ", ""));
        mem.load(0x1000, code, 0, code.length);
        mem.load(HANDLER, new byte[] {(byte) 0xF4}, 0, 1);
        mem.write64(0x8000 + VECTOR * 16L, (HANDLER & 0xFFFF) | (0x08L << 16) | (0x8EL << 40));
        mem.write64(0x8000 + VECTOR * 16L + 8, 0);
        mem.write16(0x7000, 256 * 16 - 1);
        mem.write64(0x7002, 0x8000);
        v.cpu().setRip(0x1000);
        v.cpu().r[Cpu.RAX] = 0x7000;
        v.cpu().r[Cpu.RSP] = 0x80000;
        v.cpu().setRflags(Cpu.IF | 2);
        v.setMsr(Msr.IA32_APIC_BASE, 0xFEE0_0000L | (1 << 11) | (1 << 10) | (1 << 8)); // x2APIC
        return v;
    }

    private static VcpuExit runToHlt(Vcpu v) {
        for (int i = 0; i < 10_000; i++) {
            VcpuExit e = v.run(1000);
            if (!(e instanceof VcpuExit.Preempted)) {
                return e;
            }
        }
        throw new AssertionError("no HLT");
    }

    @Test
    void countsAreExactInInstructionsAndBranches() throws Exception {
        Vcpu v = guest(100, false);
        v.setMsr(Msr.IA32_PERFEVTSEL0, VPmu.EVT_INSTRUCTIONS | USR | OS | EN);
        v.setMsr(Msr.IA32_PERFEVTSEL0 + 1, VPmu.EVT_BRANCHES | USR | OS | EN);
        v.setMsr(Msr.IA32_PERFEVTSEL0 + 2, VPmu.EVT_MISPREDICTS | USR | OS | EN);
        v.setMsr(Msr.IA32_FIXED_CTR_CTRL, 0x3); // fixed counter 0 (instructions), OS and USR
        v.setMsr(Msr.IA32_PERF_GLOBAL_CTRL, 0x7 | (1L << 32));
        assertThat(runToHlt(v)).isInstanceOf(VcpuExit.Hlt.class);
        assertThat(v.getMsr(Msr.IA32_PMC0)).as("lidt + mov + 100 x (dec, jnz) + hlt").isEqualTo(203);
        assertThat(v.getMsr(Msr.IA32_PMC0 + 1)).as("99 taken + 1 not taken").isEqualTo(100);
        assertThat(v.getMsr(Msr.IA32_FIXED_CTR0)).isEqualTo(203);
        assertThat(v.getMsr(Msr.IA32_PMC0 + 2)).as("first taken jnz and the final fall-through").isBetween(1L, 3L);
        v.setMsr(Msr.IA32_PERF_GLOBAL_CTRL, 0);
        long frozen = v.getMsr(Msr.IA32_PMC0);
        v.cpu().setRip(0x1003);
        runToHlt(v);
        assertThat(v.getMsr(Msr.IA32_PMC0)).as("disabled counters stand still").isEqualTo(frozen);
    }

    /** mov $ecx, %ecx; rdpmc; hlt at 0x2000. */
    private static VcpuExit rdpmc(Vcpu v, int ecx) {
        byte[] code = HexFormat.of().parseHex(String.format("b9%02x%02x%02x%02x0f33f4", ecx & 0xFF, (ecx >> 8) & 0xFF, (ecx >> 16) & 0xFF,
                ecx >>> 24));
        v.cpu().memory().load(0x2000, code, 0, code.length);
        v.cpu().setRip(0x2000);
        return runToHlt(v);
    }

    @Test
    void rdpmcReadsFixedAndGeneralCountersAndFaultsWhereKvmDoes() throws Exception {
        Vcpu v = guest(50, false);
        v.setMsr(Msr.IA32_PERFEVTSEL0 + 1, VPmu.EVT_BRANCHES | USR | OS | EN);
        v.setMsr(Msr.IA32_FIXED_CTR_CTRL, 0x3);
        v.setMsr(Msr.IA32_PERF_GLOBAL_CTRL, 0x2 | (1L << 32));
        runToHlt(v);
        v.setMsr(Msr.IA32_PERF_GLOBAL_CTRL, 0); // stand still while they are read
        assertThat(rdpmc(v, 1 << 30)).isInstanceOf(VcpuExit.Hlt.class);
        assertThat(v.cpu().r[Cpu.RAX]).as("fixed counter 0").isEqualTo(v.getMsr(Msr.IA32_FIXED_CTR0)).isEqualTo(103);
        rdpmc(v, 1);
        assertThat(v.cpu().r[Cpu.RAX]).as("general counter 1: branches").isEqualTo(50);
        assertThat(rdpmc(v, 4)).as("Skylake has 4 general counters: #GP, no handler, triple fault")
                .isInstanceOf(VcpuExit.Shutdown.class);
    }

    @Test
    void rdpmcAtCpl3NeedsCr4Pce() throws Exception {
        Vcpu v = guest(1, false);
        v.cpu().setSelector(Cpu.CS, 0x2B);
        assertThat(rdpmc(v, 0)).isInstanceOfSatisfying(VcpuExit.Shutdown.class,
                e -> assertThat(e.reason()).as("#GP at the RDPMC, not the HLT after it").contains("RIP=0x2005").contains("#GP"));
    }

    @Test
    void overflowAfterNBranchesDeliversExactlyOnePmiThere() throws Exception {
        Vcpu v = guest(1000, false);
        v.setMsr(Msr.X2APIC_LVT_PMI, VECTOR);
        v.setMsr(Msr.IA32_PMC0, -37);
        v.setMsr(Msr.IA32_PERFEVTSEL0, VPmu.EVT_BRANCHES | USR | OS | INT | EN);
        v.setMsr(Msr.IA32_PERF_GLOBAL_CTRL, 1);
        assertThat(runToHlt(v)).isInstanceOf(VcpuExit.Hlt.class);
        assertThat(v.cpu().rip()).as("in the PMI handler").isEqualTo(HANDLER + 1);
        long pushedRip = v.cpu().memory().read64(v.cpu().r[Cpu.RSP]);
        assertThat(pushedRip).as("after the 37th branch the next instruction is the loop head").isEqualTo(LOOP);
        assertThat(v.cpu().r[Cpu.RCX]).isEqualTo(1000 - 37);
        assertThat(v.pmu().pmis()).isEqualTo(1);
        assertThat(v.getMsr(Msr.IA32_PERF_GLOBAL_STATUS)).isEqualTo(1);
        assertThat(v.getMsr(Msr.X2APIC_LVT_PMI) & (1 << 16)).as("LVT masked by the delivery").isNotZero();
        v.setMsr(Msr.IA32_PERF_GLOBAL_OVF_CTRL, 1);
        assertThat(v.getMsr(Msr.IA32_PERF_GLOBAL_STATUS)).isZero();
    }

    /**
     * Branch events take a fast path (a branch counter, no listener) when every branch counter is
     * 0xC4 at all CPLs, else the listener path (CPL filter, or 0xC5 in use): same counts, same PMI point.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource({"fast path (USR|OS),true", "listener path (OS only),false"})
    void bothBranchCountingPathsCountAndOverflowAlike(String name, boolean allCpl) throws Exception {
        long cpl = allCpl ? USR | OS : OS;
        Vcpu counting = guest(100, false);
        counting.setMsr(Msr.IA32_PERFEVTSEL0, VPmu.EVT_BRANCHES | cpl | EN);
        counting.setMsr(Msr.IA32_PERF_GLOBAL_CTRL, 1);
        runToHlt(counting);
        assertThat(counting.getMsr(Msr.IA32_PMC0)).isEqualTo(100);
        counting.setMsr(Msr.IA32_PMC0, 5); // a write mid-way restarts the count from there
        counting.cpu().setRip(0x1003);
        runToHlt(counting);
        assertThat(counting.getMsr(Msr.IA32_PMC0)).isEqualTo(105);

        Vcpu v = guest(1000, false);
        v.setMsr(Msr.X2APIC_LVT_PMI, VECTOR);
        v.setMsr(Msr.IA32_PMC0, -400);
        v.setMsr(Msr.IA32_PERFEVTSEL0, VPmu.EVT_BRANCHES | cpl | INT | EN);
        v.setMsr(Msr.IA32_PERF_GLOBAL_CTRL, 1);
        assertThat(runToHlt(v)).isInstanceOf(VcpuExit.Hlt.class); // runs of 1000 instructions: the overflow spans exits
        assertThat(v.cpu().memory().read64(v.cpu().r[Cpu.RSP])).isEqualTo(LOOP);
        assertThat(v.cpu().r[Cpu.RCX]).isEqualTo(1000 - 400);
        assertThat(v.pmu().pmis()).isEqualTo(1);
    }

    @Test
    void aMaskedLvtDeliversNothing() throws Exception {
        Vcpu v = guest(200, false);
        v.setMsr(Msr.X2APIC_LVT_PMI, VECTOR | (1 << 16));
        v.setMsr(Msr.IA32_PMC0, -37);
        v.setMsr(Msr.IA32_PERFEVTSEL0, VPmu.EVT_BRANCHES | USR | OS | INT | EN);
        v.setMsr(Msr.IA32_PERF_GLOBAL_CTRL, 1);
        runToHlt(v);
        assertThat(v.cpu().rip()).as("ran to its own hlt").isEqualTo(0x100d);
        assertThat(v.pmu().pmis()).isZero();
        assertThat(v.getMsr(Msr.IA32_PERF_GLOBAL_STATUS)).as("the overflow is still recorded").isEqualTo(1);
    }

    @Test
    void instructionCounterOverflowsAtTheExactInstruction() throws Exception {
        Vcpu v = guest(1000, false);
        v.setMsr(Msr.X2APIC_LVT_PMI, VECTOR);
        v.setMsr(Msr.IA32_PMC0, -51); // lidt, mov, then 49 more: the 51st retired is a dec (odd) or jnz
        v.setMsr(Msr.IA32_PERFEVTSEL0, VPmu.EVT_INSTRUCTIONS | USR | OS | INT | EN);
        v.setMsr(Msr.IA32_PERF_GLOBAL_CTRL, 1);
        runToHlt(v);
        // 51 instructions: lidt, mov, 24 x (dec, jnz), dec -> the next one is the 25th jnz at 0x100a
        assertThat(v.cpu().memory().read64(v.cpu().r[Cpu.RSP])).isEqualTo(0x100a);
        assertThat(v.cpu().r[Cpu.RCX]).isEqualTo(1000 - 25);
    }

    @Test
    void freezeOnPmiStopsTheLbrBeforeTheInterrupt() throws Exception {
        Vcpu v = guest(1000, true);
        CpuidTable v2 = v.cpu().cpuid().copy();
        int[] a = v2.get(0xA, 0);
        v2.set(0xA, 0, (a[0] & ~0xFF) | 2, a[1], a[2], a[3]);
        v.setCpuid(v2);
        v.setMsr(Msr.IA32_DEBUGCTL, DebugCtl.LBR | DebugCtl.FREEZE_LBRS_ON_PMI);
        v.setMsr(Msr.X2APIC_LVT_PMI, VECTOR);
        v.setMsr(Msr.IA32_PMC0, -10);
        v.setMsr(Msr.IA32_PERFEVTSEL0, VPmu.EVT_BRANCHES | USR | OS | INT | EN);
        v.setMsr(Msr.IA32_PERF_GLOBAL_CTRL, 1);
        runToHlt(v);
        assertThat(v.guestDebugctl()).isEqualTo(DebugCtl.FREEZE_LBRS_ON_PMI);
        var entries = v.lbrSnapshot().orElseThrow().entries();
        assertThat(entries).as("the 10 branches, not the interrupt").hasSize(10);
        assertThat(entries.get(0).to()).isEqualTo(LOOP);
    }
}
