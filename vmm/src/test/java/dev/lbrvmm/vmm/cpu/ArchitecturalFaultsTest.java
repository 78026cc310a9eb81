package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Deviations from Intel a differential test against a real CPU found (issue: hardening): SHLD/SHRD
 * with a 32-bit destination and a zero count, LOCK on forms that cannot be locked, and
 * non-canonical data, stack and branch-target addresses.
 */
class ArchitecturalFaultsTest {
    private static final long NON_CANONICAL = 0x8000_0000_0000_0000L;

    /** Runs one instruction with no IDT: a fault becomes a triple fault whose reason names it. */
    private static CpuHarness once(String hex, int reg, long value) {
        return new CpuHarness(hex).reg(reg, value).recordBranches().run(1);
    }

    @Test
    void shldAndShrdWithAZeroCountStillZeroExtendA32BitDestination() {
        CpuHarness h = new CpuHarness("0fa4d800").reg(Cpu.RAX, 0xFFFF_FFFF_1234_5678L).run(1); // shld $0,%ebx,%eax
        assertThat(h.r(Cpu.RAX)).isEqualTo(0x1234_5678L);
        CpuHarness cl = new CpuHarness("0fadd8").reg(Cpu.RAX, 0xFFFF_FFFF_0000_0001L).reg(Cpu.RCX, 32).run(1); // shrd %cl (32 -> 0)
        assertThat(cl.r(Cpu.RAX)).isEqualTo(1);
    }

    @Test
    void lockOnAnUnlockableFormIsUd() {
        for (String hex : new String[] {"f001c0", "f090", "f08b00", "f03900"}) { // add reg,reg; nop; mov; cmp
            CpuHarness h = once(hex, Cpu.RAX, 0x2000);
            assertThat(h.cpu.shutdownReason()).as(hex).contains("#UD");
        }
        CpuHarness ok = once("f00103", Cpu.RBX, 0x2000); // lock add %eax,(%rbx)
        assertThat(ok.lastExit).isEqualTo(CpuExit.BUDGET);
    }

    @Test
    void nonCanonicalDataIsGpAndNonCanonicalStackIsSs() {
        assertThat(once("488b00", Cpu.RAX, NON_CANONICAL).cpu.shutdownReason()).as("mov (%rax)").contains("#GP").contains("RIP=0x1000");
        assertThat(once("50", Cpu.RSP, NON_CANONICAL + 8).cpu.shutdownReason()).as("push").contains("#SS");
    }

    @Test
    void aBranchToANonCanonicalTargetFaultsAtTheBranchWithNoRecord() {
        CpuHarness jmp = once("ffe0", Cpu.RAX, NON_CANONICAL); // jmp *%rax
        assertThat(jmp.cpu.shutdownReason()).contains("#GP").contains("RIP=0x1000");
        assertThat(jmp.branches).as("no branch retired").isEmpty();
        CpuHarness ret = new CpuHarness("c3").recordBranches();
        ret.mem.write64(CpuHarness.STACK, NON_CANONICAL);
        ret.run(1);
        assertThat(ret.cpu.shutdownReason()).contains("#GP").contains("RIP=0x1000");
        assertThat(ret.r(Cpu.RSP)).as("RSP as before the RET").isEqualTo(CpuHarness.STACK);
        assertThat(ret.branches).isEmpty();
    }

    /** RCX is unsigned: a count of 2^63 + 16 runs on to the end of memory, it does not write 16 bytes and stop. */
    @Test
    void repStosWithACountOfTwoToTheSixtyThreeOrMoreRunsToTheFault() {
        long end = 1 << 20; // CpuHarness memory
        for (String hex : new String[] {"f3aa", "f348ab"}) { // rep stosb; rep stosq
            CpuHarness h = new CpuHarness(hex).reg(Cpu.RCX, NON_CANONICAL + 16).reg(Cpu.RDI, end - 64).reg(Cpu.RAX, 0x5A).run(1);
            assertThat(h.cpu.shutdownReason()).as(hex).contains("#PF").contains("RIP=0x1000");
            assertThat(h.r(Cpu.RDI)).as("%s stops at the first byte outside memory", hex).isEqualTo(end);
            int stored = hex.equals("f3aa") ? 64 : 8;
            assertThat(h.r(Cpu.RCX)).as(hex).isEqualTo(NON_CANONICAL + 16 - stored);
            assertThat(h.mem.read8(end - 8) & 0xFF).isEqualTo(0x5A);
        }
    }
    /**
     * A REP over memory that never faults (device reads outside RAM) with ECX = 2^32 - 1 yields between
     * chunks like a hardware REP takes interrupts: the run ends at its budget and a stop request is seen,
     * nothing is retired until the REP completes, and the registers carry its progress.
     */
    @Test
    void anEndlessRepYieldsToTheBudgetAndToStopRequestsWithoutRetiring() {
        CpuHarness h = new CpuHarness("f3ac f4"); // rep lodsb from beyond RAM; hlt
        h.cpu.enterProtectedMode32(CpuHarness.CODE, 0, 0); // architectural: reads outside RAM go to devices
        h.reg(Cpu.RCX, 0xFFFF_FFFFL).reg(Cpu.RSI, 2L << 20);
        h.cpu.setMmioBus(new MmioBus() {
            @Override
            public long read(long physical, int size) {
                return -1; // unclaimed: all ones
            }

            @Override
            public void write(long physical, int size, long value) {
            }
        });
        assertThat(h.cpu.run(3)).isEqualTo(CpuExit.BUDGET);
        assertThat(h.cpu.retired()).as("the REP has not completed").isZero();
        assertThat(h.cpu.rip()).isEqualTo(CpuHarness.CODE);
        assertThat(h.r(Cpu.RCX)).isEqualTo(0xFFFF_FFFFL - StringOps.CHUNK);
        assertThat(h.r(Cpu.RSI)).isEqualTo((2L << 20) + StringOps.CHUNK);
        h.cpu.requestStop();
        assertThat(h.cpu.run(Long.MAX_VALUE)).as("a stop is honoured during the REP").isEqualTo(CpuExit.STOPPED);
        h.reg(Cpu.RCX, 5);
        h.cpu.run(2);
        assertThat(h.cpu.retired()).as("REP then HLT, each retired once").isEqualTo(2);
        assertThat(h.r(Cpu.RAX) & 0xFF).isEqualTo(0xFF);
    }
}
