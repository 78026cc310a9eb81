package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.AF;
import static dev.lbrvmm.vmm.cpu.Cpu.CF;
import static dev.lbrvmm.vmm.cpu.Cpu.OF;
import static dev.lbrvmm.vmm.cpu.Cpu.PF;
import static dev.lbrvmm.vmm.cpu.Cpu.RAX;
import static dev.lbrvmm.vmm.cpu.Cpu.RBX;
import static dev.lbrvmm.vmm.cpu.Cpu.RCX;
import static dev.lbrvmm.vmm.cpu.Cpu.RDX;
import static dev.lbrvmm.vmm.cpu.Cpu.SF;
import static dev.lbrvmm.vmm.cpu.Cpu.ZF;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** ALU, multiply, divide and shift instructions: bytes in, registers and flags out. */
class CpuArithmeticTest {

    private static void flags(CpuHarness h, long set, long clear) {
        long f = h.cpu.rflags();
        assertThat(f & set).as("flags that must be set, rflags=0x%x", f).isEqualTo(set);
        assertThat(f & clear).as("flags that must be clear, rflags=0x%x", f).isZero();
    }

    @Test
    void addSignedOverflow() {
        CpuHarness h = new CpuHarness("4801d8").reg(RAX, Long.MAX_VALUE).reg(RBX, 1).run(1); // add %rbx,%rax
        assertThat(h.r(RAX)).isEqualTo(Long.MIN_VALUE);
        flags(h, OF | SF | AF | PF, CF | ZF);
    }

    @Test
    void addCarryToZero() {
        CpuHarness h = new CpuHarness("4801d8").reg(RAX, -1).reg(RBX, 1).run(1);
        assertThat(h.r(RAX)).isZero();
        flags(h, CF | ZF | PF | AF, OF | SF);
    }

    @Test
    void add32ZeroExtendsAndSetsCarry() {
        CpuHarness h = new CpuHarness("83c001").reg(RAX, -1).run(1); // add $1,%eax
        assertThat(h.r(RAX)).isZero();
        flags(h, CF | ZF, OF | SF);
    }

    @Test
    void subBorrows() {
        CpuHarness h = new CpuHarness("4829ca").reg(RDX, 3).reg(RCX, 5).run(1); // sub %rcx,%rdx
        assertThat(h.r(RDX)).isEqualTo(-2);
        flags(h, CF | SF, ZF | OF);
    }

    @Test
    void adcAndSbbUseCarry() {
        CpuHarness adc = new CpuHarness("f9 4811d8").reg(RAX, 1).reg(RBX, 2).run(2); // stc; adc
        assertThat(adc.r(RAX)).isEqualTo(4);
        CpuHarness sbb = new CpuHarness("f9 4819d8").reg(RAX, 5).reg(RBX, 2).run(2); // stc; sbb
        assertThat(sbb.r(RAX)).isEqualTo(2);
        CpuHarness adcWrap = new CpuHarness("f9 4811d8").reg(RAX, -1).reg(RBX, 0).run(2);
        assertThat(adcWrap.r(RAX)).isZero();
        flags(adcWrap, CF | ZF, 0);
    }

    @Test
    void byteOpsOnLowAndHighRegisters() {
        CpuHarness and = new CpuHarness("24f0").reg(RAX, 0x1234).run(1); // and $0xf0,%al
        assertThat(and.r(RAX)).isEqualTo(0x1230);
        flags(and, 0, CF | OF);
        CpuHarness or = new CpuHarness("08f8").reg(RAX, 0x01).reg(RBX, 0xAB00).run(1); // or %bh,%al
        assertThat(or.r(RAX)).isEqualTo(0xAB);
        CpuHarness movAh = new CpuHarness("88e3").reg(RAX, 0x5500).reg(RBX, 0x1111).run(1); // mov %ah,%bl
        assertThat(movAh.r(RBX)).isEqualTo(0x1155);
        CpuHarness movSil = new CpuHarness("4088f0").reg(Cpu.RSI, 0x77).reg(RAX, 0xFF00).run(1); // mov %sil,%al
        assertThat(movSil.r(RAX)).isEqualTo(0xFF77);
    }

    @Test
    void xorClearsAndSetsZeroAndParity() {
        CpuHarness h = new CpuHarness("31c0").reg(RAX, -1).run(1);
        assertThat(h.r(RAX)).isZero();
        flags(h, ZF | PF, CF | OF | SF);
    }

    @Test
    void cmpAndTest() {
        flags(new CpuHarness("4883f905").reg(RCX, 5).run(1), ZF, CF | SF); // cmp $5,%rcx
        flags(new CpuHarness("4883f905").reg(RCX, 3).run(1), CF | SF, ZF);
        flags(new CpuHarness("4885c0").reg(RAX, Long.MIN_VALUE).run(1), SF, ZF | CF | OF); // test %rax,%rax
    }

    @Test
    void parityFlagLooksAtLowByteOnly() {
        flags(new CpuHarness("4883f905").reg(RCX, 5 + 3).run(1), PF, 0); // 3 = 0b11: even parity
        flags(new CpuHarness("4883f905").reg(RCX, 5 + 0x101).run(1), 0, PF); // low byte 0x01: odd
    }

    @Test
    void incDecKeepCarry() {
        CpuHarness inc = new CpuHarness("f9 ffc0").reg(RAX, 0x7FFF_FFFFL).run(2); // stc; inc %eax
        assertThat(inc.r(RAX)).isEqualTo(0x8000_0000L);
        flags(inc, CF | OF | SF, ZF);
        CpuHarness dec = new CpuHarness("f8 48ffcb").reg(RBX, 0).run(2); // clc; dec %rbx
        assertThat(dec.r(RBX)).isEqualTo(-1);
        flags(dec, SF, CF | OF | ZF);
    }

    @Test
    void negAndNot() {
        CpuHarness neg = new CpuHarness("48f7d8").reg(RAX, 5).run(1);
        assertThat(neg.r(RAX)).isEqualTo(-5);
        flags(neg, CF | SF, ZF | OF);
        flags(new CpuHarness("48f7d8").reg(RAX, 0).run(1), ZF, CF);
        flags(new CpuHarness("48f7d8").reg(RAX, Long.MIN_VALUE).run(1), OF | CF, 0);
        CpuHarness not = new CpuHarness("f7d1").reg(RCX, 0xFFFF_FFFF_0000_0000L).run(1); // not %ecx
        assertThat(not.r(RCX)).isEqualTo(0xFFFF_FFFFL);
    }

    @Test
    void multiplyForms() {
        CpuHarness imul1 = new CpuHarness("48f7eb").reg(RAX, -3).reg(RBX, 5).run(1); // imul %rbx
        assertThat(imul1.r(RAX)).isEqualTo(-15);
        assertThat(imul1.r(RDX)).isEqualTo(-1);
        flags(imul1, 0, CF | OF);
        CpuHarness imulOver = new CpuHarness("48f7eb").reg(RAX, 1L << 62).reg(RBX, 4).run(1);
        assertThat(imulOver.r(RDX)).isEqualTo(1);
        flags(imulOver, CF | OF, 0);
        CpuHarness imul2 = new CpuHarness("480fafc1").reg(RAX, 6).reg(RCX, -7).run(1); // imul %rcx,%rax
        assertThat(imul2.r(RAX)).isEqualTo(-42);
        CpuHarness imul3 = new CpuHarness("486bc1fd").reg(RCX, 7).run(1); // imul $-3,%rcx,%rax
        assertThat(imul3.r(RAX)).isEqualTo(-21);
        CpuHarness mul = new CpuHarness("48f7e3").reg(RAX, Long.MIN_VALUE).reg(RBX, 4).run(1); // mul %rbx
        assertThat(mul.r(RAX)).isZero();
        assertThat(mul.r(RDX)).isEqualTo(2);
        flags(mul, CF | OF, 0);
        CpuHarness mulMax = new CpuHarness("48f7e3").reg(RAX, -1).reg(RBX, -1).run(1); // (2^64-1)^2
        assertThat(mulMax.r(RAX)).isEqualTo(1);
        assertThat(mulMax.r(RDX)).isEqualTo(-2);
    }

    @Test
    void divideForms() {
        CpuHarness div = new CpuHarness("48f7f1").reg(RAX, 100).reg(RDX, 0).reg(RCX, 7).run(1);
        assertThat(div.r(RAX)).isEqualTo(14);
        assertThat(div.r(RDX)).isEqualTo(2);
        CpuHarness wide = new CpuHarness("48f7f1").reg(RAX, 0).reg(RDX, 1).reg(RCX, 2).run(1); // 2^64 / 2
        assertThat(wide.r(RAX)).isEqualTo(Long.MIN_VALUE);
        assertThat(wide.r(RDX)).isZero();
        CpuHarness wide2 = new CpuHarness("48f7f1").reg(RAX, 12345).reg(RDX, 3).reg(RCX, 0x1_0000_0001L).run(1);
        java.math.BigInteger n = java.math.BigInteger.valueOf(3).shiftLeft(64).add(java.math.BigInteger.valueOf(12345));
        java.math.BigInteger[] qr = n.divideAndRemainder(java.math.BigInteger.valueOf(0x1_0000_0001L));
        assertThat(wide2.r(RAX)).isEqualTo(qr[0].longValue());
        assertThat(wide2.r(RDX)).isEqualTo(qr[1].longValue());
        CpuHarness idiv = new CpuHarness("48f7f9").reg(RAX, -100).reg(RDX, -1).reg(RCX, 7).run(1);
        assertThat(idiv.r(RAX)).isEqualTo(-14);
        assertThat(idiv.r(RDX)).isEqualTo(-2);
    }

    @Test
    void divideByZeroAndQuotientOverflowRaiseDivideError() {
        CpuHarness zero = new CpuHarness("48f7f1").reg(RAX, 1).reg(RCX, 0).run(1);
        assertThat(zero.lastExit).isEqualTo(CpuExit.SHUTDOWN);
        assertThat(zero.cpu.shutdownReason()).contains("#DE");
        CpuHarness overflow = new CpuHarness("48f7f1").reg(RAX, 0).reg(RDX, 5).reg(RCX, 5).run(1);
        assertThat(overflow.cpu.shutdownReason()).contains("#DE");
        CpuHarness idivMin = new CpuHarness("48f7f9").reg(RAX, Long.MIN_VALUE).reg(RDX, -1).reg(RCX, -1).run(1);
        assertThat(idivMin.cpu.shutdownReason()).contains("#DE");
    }

    @Test
    void signExtensions() {
        assertThat(new CpuHarness("6698").reg(RAX, 0xFFFF_0080L).run(1).r(RAX)).isEqualTo(0xFFFF_FF80L); // cbw
        assertThat(new CpuHarness("98").reg(RAX, 0x1234_8000L).run(1).r(RAX)).isEqualTo(0xFFFF_8000L); // cwde
        assertThat(new CpuHarness("4898").reg(RAX, 0x8000_0000L).run(1).r(RAX)).isEqualTo(0xFFFF_FFFF_8000_0000L); // cdqe
        assertThat(new CpuHarness("4899").reg(RAX, -5).run(1).r(RDX)).isEqualTo(-1); // cqo
        assertThat(new CpuHarness("99").reg(RAX, 0x8000_0000L).reg(RDX, -1).run(1).r(RDX)).isEqualTo(0xFFFF_FFFFL); // cdq
        assertThat(new CpuHarness("480fbec8").reg(RAX, 0x80).run(1).r(RCX)).isEqualTo(-128); // movsbq
        assertThat(new CpuHarness("4863c8").reg(RAX, 0xFFFF_FFFFL).run(1).r(RCX)).isEqualTo(-1); // movslq
        assertThat(new CpuHarness("0fb6c8").reg(RAX, 0x1FF).reg(RCX, -1).run(1).r(RCX)).isEqualTo(0xFF); // movzbl
    }

    @Test
    void shiftsByOneAndByCount() {
        CpuHarness shl1 = new CpuHarness("48d1e0").reg(RAX, 0x8000_0000_0000_0001L).run(1);
        assertThat(shl1.r(RAX)).isEqualTo(2);
        flags(shl1, CF | OF, ZF);
        CpuHarness shr = new CpuHarness("48c1e804").reg(RAX, 0x1F).run(1); // shr $4
        assertThat(shr.r(RAX)).isEqualTo(1);
        flags(shr, CF, 0);
        CpuHarness sar = new CpuHarness("48c1f83f").reg(RAX, -8).run(1); // sar $63
        assertThat(sar.r(RAX)).isEqualTo(-1);
        flags(sar, CF | SF, 0);
    }

    @Test
    void shiftByZeroKeepsFlagsButZeroExtends32BitDestination() {
        // cmp $5,%rcx (sets CF|SF) then shl %cl,%eax with cl = 0... count comes from rcx = 3 - use cl = 32: masked to 0
        CpuHarness h = new CpuHarness("4883f905 d3e0").reg(RCX, 32).reg(RAX, 0xFFFF_FFFF_0000_0001L).run(2);
        assertThat(h.r(RAX)).isEqualTo(1);
        flags(h, 0, ZF); // cmp 32 vs 5: no borrow, nonzero; flags untouched by the shift
        assertThat(h.flag(CF)).isFalse();
    }

    @Test
    void shiftByWidthMasks() {
        CpuHarness h = new CpuHarness("48d3e0").reg(RCX, 64).reg(RAX, 7).run(1); // shl %cl,%rax with cl = 64 -> count 0
        assertThat(h.r(RAX)).isEqualTo(7);
        CpuHarness b = new CpuHarness("d2e0").reg(RCX, 9).reg(RAX, 0xFF).run(1); // shl %cl,%al by 9 -> 0
        assertThat(b.r(RAX)).isZero();
    }

    @Test
    void rotates() {
        CpuHarness rol = new CpuHarness("c1c008").reg(RAX, 0x1234_5678L).run(1);
        assertThat(rol.r(RAX)).isEqualTo(0x3456_7812L);
        flags(rol, 0, CF);
        CpuHarness ror = new CpuHarness("48d3c8").reg(RAX, 1).reg(RCX, 1).run(1);
        assertThat(ror.r(RAX)).isEqualTo(Long.MIN_VALUE);
        flags(ror, CF | OF, 0);
        CpuHarness rcl = new CpuHarness("f9 d0d0").reg(RAX, 0x80).run(2); // stc; rcl $1,%al
        assertThat(rcl.r(RAX)).isEqualTo(1);
        flags(rcl, CF, 0);
        CpuHarness rcr = new CpuHarness("f9 d0d8").reg(RAX, 0x01).run(2); // stc; rcr $1,%al
        assertThat(rcr.r(RAX)).isEqualTo(0x80);
        flags(rcr, CF, 0);
    }

    @Test
    void doubleShifts() {
        CpuHarness shld = new CpuHarness("480fa4d804").reg(RAX, 0x1).reg(RBX, 0xF000_0000_0000_0000L).run(1);
        assertThat(shld.r(RAX)).isEqualTo(0x1F);
        CpuHarness shrd = new CpuHarness("480fadd8").reg(RAX, 0x10).reg(RBX, 0x3).reg(RCX, 4).run(1);
        assertThat(shrd.r(RAX)).isEqualTo(0x3000_0000_0000_0001L);
    }

    @Test
    void setccAndCmov() {
        CpuHarness sete = new CpuHarness("4883f905 0f94c0").reg(RCX, 5).reg(RAX, 0x100).run(2);
        assertThat(sete.r(RAX)).isEqualTo(0x101);
        CpuHarness setb = new CpuHarness("4883f905 0f92c1").reg(RCX, 2).run(2);
        assertThat(setb.r(RCX)).isEqualTo(1);
        CpuHarness cmovl = new CpuHarness("4883f905 480f4cc3").reg(RCX, -1).reg(RBX, 42).run(2);
        assertThat(cmovl.r(RAX)).isEqualTo(42);
        // cmovg %ebx,%eax when not taken still zero-extends EAX into RAX
        CpuHarness cmovg = new CpuHarness("4883f905 0f4fc3").reg(RCX, 1).reg(RAX, 0xAAAA_0000_0000_0007L).run(2);
        assertThat(cmovg.r(RAX)).isEqualTo(7);
    }

    @Test
    void bitInstructions() {
        CpuHarness bt = new CpuHarness("480fbae003").reg(RAX, 8).run(1);
        assertThat(bt.flag(CF)).isTrue();
        CpuHarness bts = new CpuHarness("480fabc8").reg(RAX, 0).reg(RCX, 65).run(1); // bit 65 mod 64 = 1
        assertThat(bts.r(RAX)).isEqualTo(2);
        assertThat(bts.flag(CF)).isFalse();
        CpuHarness bsf = new CpuHarness("480fbcc8").reg(RAX, 0x50).run(1);
        assertThat(bsf.r(RCX)).isEqualTo(4);
        assertThat(bsf.flag(ZF)).isFalse();
        CpuHarness bsr = new CpuHarness("480fbdc8").reg(RAX, 0x50).run(1);
        assertThat(bsr.r(RCX)).isEqualTo(6);
        CpuHarness bsfZero = new CpuHarness("480fbcc8").reg(RAX, 0).reg(RCX, 99).run(1);
        assertThat(bsfZero.r(RCX)).isEqualTo(99);
        assertThat(bsfZero.flag(ZF)).isTrue();
        assertThat(new CpuHarness("0fc8").reg(RAX, 0x1122_3344L).run(1).r(RAX)).isEqualTo(0x4433_2211L); // bswap
    }

    @Test
    void lahfSahfAndPushfPopf() {
        CpuHarness lahf = new CpuHarness("4883f905 9f").reg(RCX, 5).run(2); // ZF|PF set
        assertThat((lahf.r(RAX) >> 8) & 0xFF).isEqualTo(0x46);
        CpuHarness sahf = new CpuHarness("9e").reg(RAX, 0x0100).run(1); // AH = CF
        assertThat(sahf.flag(CF)).isTrue();
        CpuHarness pf = new CpuHarness("f9 9c f8 9d").run(4); // stc; pushf; clc; popf -> CF back
        assertThat(pf.flag(CF)).isTrue();
        assertThat(pf.r(Cpu.RSP)).isEqualTo(CpuHarness.STACK);
    }
}
