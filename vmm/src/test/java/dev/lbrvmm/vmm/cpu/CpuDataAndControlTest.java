package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.RAX;
import static dev.lbrvmm.vmm.cpu.Cpu.RBP;
import static dev.lbrvmm.vmm.cpu.Cpu.RBX;
import static dev.lbrvmm.vmm.cpu.Cpu.RCX;
import static dev.lbrvmm.vmm.cpu.Cpu.RDI;
import static dev.lbrvmm.vmm.cpu.Cpu.RDX;
import static dev.lbrvmm.vmm.cpu.Cpu.RSI;
import static dev.lbrvmm.vmm.cpu.Cpu.RSP;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Moves, addressing modes, stack, string instructions, branches and the branch hook. */
class CpuDataAndControlTest {

    @Test
    void addressingModes() {
        CpuHarness lea = new CpuHarness("488d4c9808").reg(RAX, 0x100).reg(RBX, 3).run(1); // lea 8(%rax,%rbx,4),%rcx
        assertThat(lea.r(RCX)).isEqualTo(0x114);
        CpuHarness rip = new CpuHarness("488d0510000000").run(1); // lea 0x10(%rip),%rax
        assertThat(rip.r(RAX)).isEqualTo(CpuHarness.CODE + 7 + 0x10);
        CpuHarness load = new CpuHarness("488b04cf").reg(RDI, 0x2000).reg(RCX, 2).run(0); // mov (%rdi,%rcx,8),%rax
        load.mem.write64(0x2010, 0xDEAD_BEEF_CAFEL);
        assertThat(load.run(1).r(RAX)).isEqualTo(0xDEAD_BEEF_CAFEL);
        CpuHarness store = new CpuHarness("8907").reg(RDI, 0x3000).reg(RAX, 0x1_2345_6789L).run(1); // mov %eax,(%rdi)
        assertThat(store.read64(0x3000)).isEqualTo(0x2345_6789L);
        CpuHarness zx = new CpuHarness("0fb706").reg(RSI, 0x3000).reg(RAX, -1).run(0); // movzwl (%rsi),%eax
        zx.mem.write16(0x3000, 0xFFFE);
        assertThat(zx.run(1).r(RAX)).isEqualTo(0xFFFE);
        CpuHarness moffs = new CpuHarness("a00010000000000000").run(1); // movabs 0x1000,%al: reads its own first byte
        assertThat(moffs.r(RAX)).isEqualTo(0xA0);
    }

    @Test
    void immediates() {
        assertThat(new CpuHarness("48b8f0debc9a78563412").run(1).r(RAX)).isEqualTo(0x1234_5678_9ABC_DEF0L);
        assertThat(new CpuHarness("b8ffffffff").reg(RAX, Long.MIN_VALUE).run(1).r(RAX)).isEqualTo(0xFFFF_FFFFL);
        CpuHarness movb = new CpuHarness("c644240307").run(1); // movb $7,3(%rsp)
        assertThat(movb.mem.read8(CpuHarness.STACK + 3)).isEqualTo(7);
    }

    @Test
    void segmentOverrideUsesFsBase() {
        CpuHarness h = new CpuHarness("64488b042528000000"); // mov %fs:0x28,%rax
        h.cpu.writeCoreMsr(Msr.IA32_FS_BASE, 0x4000);
        h.mem.write64(0x4028, 0x5151);
        assertThat(h.run(1).r(RAX)).isEqualTo(0x5151);
    }

    @Test
    void stackOperations() {
        CpuHarness h = new CpuHarness("53 59 6afe").reg(RBX, 77).run(3); // push %rbx; pop %rcx; push $-2
        assertThat(h.r(RCX)).isEqualTo(77);
        assertThat(h.r(RSP)).isEqualTo(CpuHarness.STACK - 8);
        assertThat(h.read64(CpuHarness.STACK - 8)).isEqualTo(-2);
        CpuHarness leave = new CpuHarness("c9").reg(RBP, 0x7000).run(0);
        leave.mem.write64(0x7000, 0x1234);
        leave.run(1);
        assertThat(leave.r(RSP)).isEqualTo(0x7008);
        assertThat(leave.r(RBP)).isEqualTo(0x1234);
    }

    @Test
    void exchangeAndAtomicForms() {
        CpuHarness xchg = new CpuHarness("4893").reg(RAX, 1).reg(RBX, 2).run(1);
        assertThat(xchg.r(RAX)).isEqualTo(2);
        assertThat(xchg.r(RBX)).isEqualTo(1);
        CpuHarness xadd = new CpuHarness("480fc107").reg(RDI, 0x3000).reg(RAX, 5).run(0);
        xadd.mem.write64(0x3000, 10);
        xadd.run(1);
        assertThat(xadd.read64(0x3000)).isEqualTo(15);
        assertThat(xadd.r(RAX)).isEqualTo(10);
        CpuHarness cas = new CpuHarness("480fb10f").reg(RDI, 0x3000).reg(RAX, 10).reg(RCX, 99).run(0);
        cas.mem.write64(0x3000, 10);
        cas.run(1);
        assertThat(cas.read64(0x3000)).isEqualTo(99);
        assertThat(cas.flag(Cpu.ZF)).isTrue();
        CpuHarness casFail = new CpuHarness("480fb10f").reg(RDI, 0x3000).reg(RAX, 1).reg(RCX, 99).run(0);
        casFail.mem.write64(0x3000, 10);
        casFail.run(1);
        assertThat(casFail.r(RAX)).isEqualTo(10);
        assertThat(casFail.read64(0x3000)).isEqualTo(10);
    }

    @Test
    void repStringInstructions() {
        CpuHarness movsb = new CpuHarness("f3a4").reg(RSI, 0x2000).reg(RDI, 0x3000).reg(RCX, 5).run(0);
        movsb.put(0x2000, "0102030405");
        movsb.run(1);
        assertThat(movsb.mem.read32(0x3000)).isEqualTo(0x0403_0201L);
        assertThat(movsb.mem.read8(0x3004)).isEqualTo(5);
        assertThat(movsb.r(RCX)).isZero();
        assertThat(movsb.r(RSI)).isEqualTo(0x2005);
        assertThat(movsb.cpu.retired()).isEqualTo(1);
        CpuHarness stosq = new CpuHarness("f348ab").reg(RDI, 0x3000).reg(RCX, 3).reg(RAX, 0x77).run(1);
        assertThat(stosq.read64(0x3010)).isEqualTo(0x77);
        assertThat(stosq.r(RDI)).isEqualTo(0x3018);
        // Forward copy onto an overlapping destination replicates, unlike memmove.
        CpuHarness overlap = new CpuHarness("f348a5").reg(RSI, 0x3000).reg(RDI, 0x3008).reg(RCX, 3).run(0);
        overlap.mem.write64(0x3000, 0xAB);
        overlap.run(1);
        assertThat(overlap.read64(0x3018)).isEqualTo(0xAB);
    }

    @Test
    void repFaultsMidwayLeaveRestartableRegisters() {
        long end = 1 << 20;
        CpuHarness h = new CpuHarness("f3a4").reg(RSI, 0x2000).reg(RDI, end - 2).reg(RCX, 5).run(1);
        assertThat(h.lastExit).isEqualTo(CpuExit.SHUTDOWN);
        assertThat(h.cpu.shutdownReason()).contains("#PF").contains(String.format("0x%x", end));
        assertThat(h.r(RCX)).isEqualTo(3);
        assertThat(h.r(RDI)).isEqualTo(end);
    }

    @Test
    void conditionalBranchesTakenAndNot() {
        // cmp $5,%rcx; jb +2; mov $1,%eax (skipped when taken) ... encoded: 4883f905 7205 b801000000 f4
        CpuHarness taken = new CpuHarness("4883f905 7205 b801000000 f4").reg(RCX, 1).recordBranches().run(10);
        assertThat(taken.r(RAX)).isZero();
        assertThat(taken.lastExit).isEqualTo(CpuExit.HLT);
        assertThat(taken.kinds).containsExactly(BranchKind.CONDITIONAL);
        assertThat(taken.branches.get(0)).containsExactly(0x1004, 0x100b);
        CpuHarness not = new CpuHarness("4883f905 7205 b801000000 f4").reg(RCX, 9).recordBranches().run(10);
        assertThat(not.r(RAX)).isEqualTo(1);
        assertThat(not.kinds).isEmpty();
        assertThat(not.cpu.rip()).isEqualTo(0x1000 + 12);
    }

    @Test
    void loopAndJrcxz() {
        CpuHarness loop = new CpuHarness("e2fe f4").reg(RCX, 3).recordBranches().run(10); // loop .
        assertThat(loop.r(RCX)).isZero();
        assertThat(loop.kinds).hasSize(2).containsOnly(BranchKind.CONDITIONAL);
        assertThat(loop.cpu.retired()).isEqualTo(4); // three LOOPs and the HLT
        CpuHarness jrcxz = new CpuHarness("e302 9090 f4").reg(RCX, 0).run(3);
        assertThat(jrcxz.cpu.retired()).isEqualTo(2);
    }

    @Test
    void callsReturnsAndIndirectBranchesReportTheirKinds() {
        // 0x1000: call +5 (to 0x100a); 0x1005: ff d0 (call *%rax -> 0x1010); 0x1007: ff e3 (jmp *%rbx -> 0x1014)
        // 0x1009: f4; 0x100a: c3 (ret -> 0x1005); 0x1010: c2 0000 (ret $0); 0x1014: e9 f0ffffff (jmp -> 0x1009)
        CpuHarness h = new CpuHarness("e805000000 ffd0 ffe3 f4 c3").put(0x1010, "c20000").put(0x1014, "e9f0ffffff")
                .reg(RAX, 0x1010).reg(RBX, 0x1014).recordBranches().run(20);
        assertThat(h.lastExit).isEqualTo(CpuExit.HLT);
        assertThat(h.kinds).containsExactly(BranchKind.NEAR_REL_CALL, BranchKind.NEAR_RET, BranchKind.NEAR_IND_CALL,
                BranchKind.NEAR_RET, BranchKind.NEAR_IND_JMP, BranchKind.NEAR_REL_JMP);
        assertThat(h.branches.get(2)).containsExactly(0x1005, 0x1010);
        assertThat(h.branches.get(5)).containsExactly(0x1014, 0x1009);
        assertThat(h.r(RSP)).isEqualTo(CpuHarness.STACK);
    }

    @Test
    void callThroughMemoryAndRetImm() {
        CpuHarness h = new CpuHarness("ff5008 f4").reg(RAX, 0x2000).put(0x3000, "c21000").run(0); // call *8(%rax); ret $16
        h.mem.write64(0x2008, 0x3000);
        h.run(3);
        assertThat(h.lastExit).isEqualTo(CpuExit.HLT);
        assertThat(h.r(RSP)).isEqualTo(CpuHarness.STACK + 16);
    }

    @Test
    void operandSizePrefixOnNearBranchIsIgnoredAsOnIntel() {
        Insn in = new Decoder(new CpuHarness("66e910000000").mem).decode(CpuHarness.CODE);
        assertThat(in.len).isEqualTo(6);
        assertThat(in.target).isEqualTo(CpuHarness.CODE + 6 + 0x10);
    }

    @Test
    void multiByteNopsAndPause() {
        CpuHarness h = new CpuHarness("660f1f0400 f390 90 0f1f00 f4").run(10);
        assertThat(h.lastExit).isEqualTo(CpuExit.HLT);
        assertThat(h.cpu.retired()).isEqualTo(5);
    }

    @Test
    void portIoExitsToTheVmm() {
        CpuHarness out = new CpuHarness("e680").reg(RAX, 0x41).run(5); // out %al,$0x80
        assertThat(out.lastExit).isEqualTo(CpuExit.IO_OUT);
        assertThat(out.cpu.ioPort()).isEqualTo(0x80);
        assertThat(out.cpu.ioValue()).isEqualTo(0x41);
        CpuHarness in = new CpuHarness("ed f4").reg(RDX, 0x3fd).reg(RAX, -1).run(5); // in %dx,%eax
        assertThat(in.lastExit).isEqualTo(CpuExit.IO_IN);
        assertThat(in.cpu.ioSize()).isEqualTo(4);
        in.cpu.completeIn(0x60);
        assertThat(in.r(RAX)).isEqualTo(0x60);
        assertThat(in.run(5).lastExit).isEqualTo(CpuExit.HLT);
    }

    @Test
    void repOutsbSendsOnePageChunkPerExitAndResumes() {
        // rep outsb from 0x2ff0: 16 bytes up to the page end, then the remaining 4, then hlt
        CpuHarness h = new CpuHarness("f36e f4").reg(RDX, 0x3f8).reg(RSI, 0x2ff0).reg(RCX, 20);
        byte[] data = new byte[20];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) ('a' + i);
        }
        h.mem.load(0x2ff0, data, 0, data.length);
        h.run(10);
        assertThat(h.lastExit).isEqualTo(CpuExit.IO_OUT);
        assertThat(h.cpu.ioPort()).isEqualTo(0x3f8);
        assertThat(h.cpu.ioString()).containsExactly(java.util.Arrays.copyOf(data, 16));
        assertThat(h.r(RCX)).isEqualTo(4);
        assertThat(h.r(RSI)).isEqualTo(0x3000);
        assertThat(h.cpu.rip()).isEqualTo(CpuHarness.CODE); // resumes the REP
        h.run(10);
        assertThat(h.lastExit).isEqualTo(CpuExit.IO_OUT);
        assertThat(h.cpu.ioString()).containsExactly(java.util.Arrays.copyOfRange(data, 16, 20));
        assertThat(h.r(RCX)).isZero();
        assertThat(h.cpu.rip()).isEqualTo(CpuHarness.CODE + 2);
        assertThat(h.run(10).lastExit).isEqualTo(CpuExit.HLT);
        // a plain OUT afterwards carries no string
        CpuHarness out = new CpuHarness("e680").reg(RAX, 1).run(5);
        assertThat(out.cpu.ioString()).isNull();
    }

    @Test
    void outsFaultsBeforeChangingRegistersAndRepWithZeroCountDoesNothing() {
        CpuHarness h = new CpuHarness("f36e f4").reg(RDX, 0x3f8).reg(RSI, 1 << 20).reg(RCX, 8).run(10);
        assertThat(h.lastExit).isEqualTo(CpuExit.SHUTDOWN); // #PF with no IDT: triple fault
        assertThat(h.r(RCX)).isEqualTo(8);
        assertThat(h.r(RSI)).isEqualTo(1 << 20);
        CpuHarness zero = new CpuHarness("f36e f4").reg(RDX, 0x3f8).reg(RCX, 0).run(10);
        assertThat(zero.lastExit).isEqualTo(CpuExit.HLT);
    }

    @Test
    void cpuidReportsTheModel() {
        CpuHarness h = new CpuHarness("0fa2").reg(RAX, 0).run(0);
        h.cpu.setCpuid(CpuidTable.forModel(CpuModels.byName("skylake-client").orElseThrow(), 0, true, true));
        h.run(1);
        String vendor = new String(new byte[] {
                (byte) h.r(RBX), (byte) (h.r(RBX) >> 8), (byte) (h.r(RBX) >> 16), (byte) (h.r(RBX) >> 24),
                (byte) h.r(RDX), (byte) (h.r(RDX) >> 8), (byte) (h.r(RDX) >> 16), (byte) (h.r(RDX) >> 24),
                (byte) h.r(RCX), (byte) (h.r(RCX) >> 8), (byte) (h.r(RCX) >> 16), (byte) (h.r(RCX) >> 24)});
        assertThat(vendor).isEqualTo("GenuineIntel");
    }

    @Test
    void rdtscCountsRetiredInstructions() {
        CpuHarness h = new CpuHarness("90 90 0f31").run(3);
        assertThat(h.r(RAX)).isEqualTo(3);
        assertThat(h.r(RDX)).isZero();
    }

    @Test
    void budgetCutsABlockExactly() {
        CpuHarness h = new CpuHarness("48ffc0 48ffc0 48ffc0 48ffc0 f4"); // 4x inc %rax; hlt
        assertThat(h.run(3).lastExit).isEqualTo(CpuExit.BUDGET);
        assertThat(h.r(RAX)).isEqualTo(3);
        assertThat(h.cpu.rip()).isEqualTo(CpuHarness.CODE + 9);
        assertThat(h.run(10).lastExit).isEqualTo(CpuExit.HLT);
        assertThat(h.r(RAX)).isEqualTo(4);
    }

    @Test
    void stopRequestEndsTheRun() {
        CpuHarness h = new CpuHarness("ebfe"); // jmp .
        h.cpu.requestStop();
        assertThat(h.run(1_000_000).lastExit).isEqualTo(CpuExit.STOPPED);
    }

    @Test
    void selfModifyingCodeAcrossBlocks() {
        // 0x1000: mov $1,%eax; hlt.   0x2000: movb $7,0x1001; hlt
        CpuHarness h = new CpuHarness("b801000000 f4").put(0x2000, "c6042501100000 07 f4".replace(" 07", "07"));
        h.run(5);
        assertThat(h.r(RAX)).isEqualTo(1);
        h.cpu.setRip(0x2000);
        h.run(5);
        h.cpu.setRip(0x1000);
        h.run(5);
        assertThat(h.r(RAX)).isEqualTo(7);
    }

    @Test
    void selfModifyingCodeInsideTheRunningBlock() {
        // movb $2,0x100d (patches the immediate of the mov at 0x100c); 4 nops; mov $1,%eax; hlt
        CpuHarness h = new CpuHarness("c604250d10000002 90909090 b801000000 f4").run(10);
        assertThat(h.lastExit).isEqualTo(CpuExit.HLT);
        assertThat(h.r(RAX)).isEqualTo(2);
    }
}
