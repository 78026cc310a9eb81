package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.RAX;
import static dev.lbrvmm.vmm.cpu.Cpu.RCX;
import static dev.lbrvmm.vmm.cpu.Cpu.RSP;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Exceptions through the guest IDT, escalation to a triple fault, and far branches in the hook. */
class CpuExceptionTest {
    private static final long IDT = 0x8000;
    private static final long DESC = 0x7000;
    private static final long HANDLER = 0x6000;

    /** lidt (%rax) with the descriptor at DESC, then the test's code at 0x1003. */
    private static CpuHarness withIdt(String code) {
        CpuHarness h = new CpuHarness("0f0118 " + code).reg(RAX, DESC);
        h.mem.write16(DESC, 256 * 16 - 1);
        h.mem.write64(DESC + 2, IDT);
        h.put(HANDLER, "f4"); // hlt
        return h;
    }

    @Test
    void invalidOpcodeIsDeliveredThroughTheIdt() {
        CpuHarness h = withIdt("0f0b").gate(IDT, Vector.UD, HANDLER).recordBranches().run(10);
        assertThat(h.lastExit).isEqualTo(CpuExit.HLT);
        assertThat(h.cpu.rip()).isEqualTo(HANDLER + 1);
        long sp = h.r(RSP);
        assertThat(sp).isEqualTo(CpuHarness.STACK - 40);
        assertThat(h.read64(sp)).as("pushed RIP is the faulting instruction").isEqualTo(0x1003);
        assertThat(h.read64(sp + 8)).as("CS").isEqualTo(0x08);
        assertThat(h.read64(sp + 24)).as("old RSP").isEqualTo(CpuHarness.STACK);
        assertThat(h.kinds).containsExactly(BranchKind.FAR);
        assertThat(h.branches.get(0)).containsExactly(0x1003, HANDLER);
        assertThat(h.cpu.interruptsEnabled()).isFalse();
    }

    @Test
    void generalProtectionPushesAnErrorCode() {
        // wrmsr to an MSR that does not exist
        CpuHarness h = withIdt("0f30").gate(IDT, Vector.GP, HANDLER).run(0);
        h.reg(RCX, 0x12345).run(10);
        assertThat(h.lastExit).isEqualTo(CpuExit.HLT);
        long sp = h.r(RSP);
        assertThat(sp).isEqualTo(CpuHarness.STACK - 48);
        assertThat(h.read64(sp)).as("error code").isZero();
        assertThat(h.read64(sp + 8)).as("RIP").isEqualTo(0x1003);
    }

    @Test
    void pageFaultForAccessOutsideMemorySetsCr2() {
        long bad = 0x7_0000_0000L;
        CpuHarness h = withIdt("488b00").gate(IDT, Vector.PF, HANDLER).run(1); // after lidt: mov (%rax),%rax
        h.reg(RAX, bad).run(10);
        assertThat(h.lastExit).isEqualTo(CpuExit.HLT);
        assertThat(h.cpu.controlRegister(2)).isEqualTo(bad);
        assertThat(h.read64(h.r(RSP))).as("error code: read, not present").isZero();
    }

    @Test
    void divideErrorAndBreakpoint() {
        CpuHarness de = withIdt("48f7f1").gate(IDT, Vector.DE, HANDLER).run(1);
        de.reg(RCX, 0).run(10);
        assertThat(de.cpu.rip()).isEqualTo(HANDLER + 1);
        CpuHarness bp = withIdt("cc").gate(IDT, Vector.BP, HANDLER).run(10);
        assertThat(bp.read64(bp.r(RSP))).as("INT3 pushes the next RIP").isEqualTo(0x1004);
    }

    @Test
    void iretqReturnsAndSkipsTheFault() {
        // handler: addq $2,(%rsp); iretq   -> skips the ud2 and reaches the hlt after it
        CpuHarness h = withIdt("0f0b f4").gate(IDT, Vector.UD, HANDLER).put(HANDLER, "4883042402 48cf").recordBranches().run(20);
        assertThat(h.lastExit).isEqualTo(CpuExit.HLT);
        assertThat(h.cpu.rip()).isEqualTo(0x1006);
        assertThat(h.r(RSP)).isEqualTo(CpuHarness.STACK);
        assertThat(h.kinds).containsExactly(BranchKind.FAR, BranchKind.FAR);
        assertThat(h.branches.get(1)).containsExactly(HANDLER + 5, 0x1005);
    }

    @Test
    void missingGateEscalatesToGeneralProtectionThenDoubleFault() {
        CpuHarness h = withIdt("0f0b").gate(IDT, Vector.DF, HANDLER).run(10);
        assertThat(h.lastExit).isEqualTo(CpuExit.HLT);
        assertThat(h.cpu.rip()).isEqualTo(HANDLER + 1);
    }

    @Test
    void withoutAnIdtAFaultIsATripleFaultWithAClearMessage() {
        CpuHarness h = new CpuHarness("90 0f0b").run(10);
        assertThat(h.lastExit).isEqualTo(CpuExit.SHUTDOWN);
        assertThat(h.cpu.shutdownReason())
                .contains("vCPU 0").contains("RIP=0x1001").contains("#UD").contains("0f 0b").contains("no IDT");
        assertThat(h.run(10).lastExit).as("a shut-down vCPU stays down").isEqualTo(CpuExit.SHUTDOWN);
    }

    @Test
    void undefinedOpcodesRaiseInvalidOpcodeNotAVmmError() {
        for (String bytes : new String[] {"06", "27", "0fff", "d6", "ff38", "8fc8", "c6c8"}) {
            CpuHarness h = new CpuHarness(bytes).run(1);
            assertThat(h.lastExit).as(bytes).isEqualTo(CpuExit.SHUTDOWN);
            assertThat(h.cpu.shutdownReason()).as(bytes).contains("#UD");
        }
    }

    @Test
    void fetchingOutsideMemoryIsAPageFault() {
        CpuHarness h = new CpuHarness("90");
        h.cpu.setRip((1 << 20) - 1); // a 2-byte instruction would straddle the end
        h.put((1 << 20) - 1, "48");
        h.run(1);
        assertThat(h.cpu.shutdownReason()).contains("#PF");
    }

    @Test
    void privilegedInstructionsFaultAtCpl3() {
        CpuHarness h = new CpuHarness("f4");
        h.cpu.setSelector(Cpu.CS, 0x33);
        h.run(1);
        assertThat(h.lastExit).isEqualTo(CpuExit.SHUTDOWN);
        assertThat(h.cpu.shutdownReason()).contains("#GP");
    }
}
