package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** x87 forms: loads and stores of each width, the arithmetic variants, comparisons, FCMOV, rounding control. */
class X87Test {
    private static final long DATA = 0x2000;

    private static CpuHarness harness(String hex) {
        CpuHarness h = new CpuHarness(hex).reg(Cpu.RBX, DATA);
        return h;
    }

    /** Runs every instruction of {@code hex} (space-separated) with {@code doubles} at DATA, DATA + 8, ... */
    private static CpuHarness exec(String hex, double... doubles) {
        CpuHarness h = harness(hex);
        for (int i = 0; i < doubles.length; i++) {
            put(h, DATA + 8L * i, doubles[i]);
        }
        return h.run(hex.trim().split("\\s+").length);
    }

    private static double f64(CpuHarness h, long a) {
        return Double.longBitsToDouble(h.read64(a));
    }

    private static void put(CpuHarness h, long a, double v) {
        h.mem.write64(a, Double.doubleToRawLongBits(v));
    }

    @Test
    void loadArithmeticStoreAndPop() {
        // fldl (%rbx); faddl 8(%rbx); fmull 16(%rbx); fstpl 24(%rbx)
        CpuHarness h = exec("dd03 dc4308 dc4b10 dd5b18", 1.5, 2.25, -2.0);
        assertThat(f64(h, DATA + 24)).isEqualTo(-7.5);
        assertThat(h.cpu.x87.empty).as("stack empty again").isEqualTo(0xFF);
    }

    @Test
    void reversedAndPoppingFormsFollowTheSdm() {
        // fldl (%rbx) [a=8]; fldl 8(%rbx) [b=2]; fsubrp %st,%st(1) (DE E1: ST1 = ST0 - ST1 = 2 - 8); fstpl 16(%rbx)
        CpuHarness h = exec("dd03 dd4308 dee1 dd5b10", 8, 2);
        assertThat(f64(h, DATA + 16)).isEqualTo(-6);
        // fldl (%rbx) [8]; fldl 8(%rbx) [2]; fdivp %st,%st(1) (DE F9: ST1 = ST1 / ST0 = 8 / 2); fstpl
        CpuHarness d = exec("dd03 dd4308 def9 dd5b10", 8, 2);
        assertThat(f64(d, DATA + 16)).isEqualTo(4);
        // fld1; fldz; fxch; fstpl 16(%rbx) -> 1 (was below); fstpl 24(%rbx) -> 0
        CpuHarness x = exec("d9e8 d9ee d9c9 dd5b10 dd5b18");
        assertThat(f64(x, DATA + 16)).isEqualTo(1);
        assertThat(f64(x, DATA + 24)).isEqualTo(0);
    }

    @Test
    void integerConversionsHonourTheRoundingControl() {
        // fildl (%rbx); fchs; fistpll 8(%rbx) (round to nearest even of -2.5 -> -2)
        CpuHarness h = harness("db03 d9e0 df7b08");
        put(h, DATA, 0);
        h.mem.write32(DATA, 5);
        h.run(3);
        assertThat(h.read64(DATA + 8)).isEqualTo(-5);
        // fldl (%rbx) = -2.5; fistpll 8(%rbx) -> -2 (nearest even); fldcw 16(%rbx) (RC = truncate); fldl; fistpll 24
        CpuHarness r = harness("dd03 df7b08 d96b10 dd03 df7b18");
        put(r, DATA, -2.5);
        r.mem.write16(DATA + 16, 0xF7F);
        r.run(5);
        assertThat(r.read64(DATA + 8)).isEqualTo(-2);
        assertThat(r.read64(DATA + 24)).isEqualTo(-2);
        // fldl (%rbx) = 1e30; fistpll -> integer indefinite
        CpuHarness big = exec("dd03 df7b08", 1e30);
        assertThat(big.read64(DATA + 8)).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void comparisonsSetEflagsOrTheConditionCodes() {
        // fldl 8(%rbx) [2]; fldl (%rbx) [1]; fucomip %st(1),%st -> 1 < 2: CF
        CpuHarness h = exec("dd4308 dd03 dfe9", 1, 2);
        assertThat(h.flag(Cpu.CF)).isTrue();
        assertThat(h.flag(Cpu.ZF)).isFalse();
        // with a NaN: unordered -> ZF, PF, CF
        CpuHarness n = exec("dd4308 dd03 dfe9", Double.NaN, 2);
        assertThat(n.flag(Cpu.ZF) && n.flag(Cpu.PF) && n.flag(Cpu.CF)).isTrue();
        // fldl (%rbx) [3]; fcoml 8(%rbx) [3]; fnstsw %ax -> C3 (equal)
        CpuHarness s = exec("dd03 dc5308 dfe0", 3, 3);
        assertThat(s.r(Cpu.RAX) & (X87.SW_C3 | X87.SW_C2 | X87.SW_C0)).isEqualTo(X87.SW_C3);
        assertThat((s.r(Cpu.RAX) >> 11) & 7).as("TOP after one push").isEqualTo(7);
    }

    @Test
    void fcmovMovesOnTheEflagsCondition() {
        // stc; fldl (%rbx) [1]; fldl 8(%rbx) [2]; fcmovb %st(1),%st -> ST0 = 1; fstpl 16(%rbx)
        CpuHarness h = exec("f9 dd03 dd4308 dac1 dd5b10", 1, 2);
        assertThat(f64(h, DATA + 16)).isEqualTo(1);
    }

    @Test
    void extendedRealsConvertBothWays() {
        for (double v : new double[] {1.0, -0.1, 3.141592653589793, 1e-310, Double.MAX_VALUE, -0.0}) {
            long[] ext = X87.toExtended(v);
            assertThat(X87.fromExtended(ext[0], (int) ext[1])).as("%s", v).isEqualTo(v);
        }
        // fldt (%rbx) of 1.0 (0x3FFF, 8000...): fstpl 16(%rbx)
        CpuHarness h = harness("db2b dd5b10");
        h.mem.write64(DATA, 0x8000_0000_0000_0000L);
        h.mem.write16(DATA + 8, 0x3FFF);
        h.run(2);
        assertThat(f64(h, DATA + 16)).isEqualTo(1.0);
    }

    @Test
    void fninitResetsTheUnit() {
        CpuHarness h = harness("d9e8 dbe3");
        h.run(2);
        assertThat(h.cpu.x87.empty).isEqualTo(0xFF);
        assertThat(h.cpu.x87.cw).isEqualTo(X87.CW_DEFAULT);
    }
}
