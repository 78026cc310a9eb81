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
}
