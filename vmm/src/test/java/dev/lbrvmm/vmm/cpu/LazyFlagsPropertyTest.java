package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.AF;
import static dev.lbrvmm.vmm.cpu.Cpu.CF;
import static dev.lbrvmm.vmm.cpu.Cpu.OF;
import static dev.lbrvmm.vmm.cpu.Cpu.PF;
import static dev.lbrvmm.vmm.cpu.Cpu.SF;
import static dev.lbrvmm.vmm.cpu.Cpu.ZF;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The lazily derived flags against an eager reference computed here with BigInteger arithmetic
 * (the SDM's definitions, not the interpreter's formulas), for every ALU row, INC, DEC, NEG and the
 * shifts at every operand size, and every condition code against the eager flags.
 *
 * <p>Masked (undefined in the SDM): AF after logic operations and shifts; OF after shifts by more
 * than one bit.
 */
class LazyFlagsPropertyTest {
    private static final int[] SIZES = {1, 2, 4, 8};
    private static final long ALL = CF | PF | AF | ZF | SF | OF;

    @Test
    void aluRowsIncDecNegMatchTheEagerDefinitions() {
        Random rnd = new Random(7);
        for (int t = 0; t < 20_000; t++) {
            int size = SIZES[rnd.nextInt(4)];
            long a = operand(rnd, size);
            long b = operand(rnd, size);
            boolean carryIn = rnd.nextBoolean();
            int row = rnd.nextInt(8);
            Cpu c = cpuWithCarry(carryIn);
            long res = Arithmetic.alu(c, row, a, b, size);
            Eager e = switch (row) {
                case Arithmetic.ADD -> add(a, b, 0, size);
                case Arithmetic.ADC -> add(a, b, carryIn ? 1 : 0, size);
                case Arithmetic.SUB, Arithmetic.CMP -> sub(a, b, 0, size);
                case Arithmetic.SBB -> sub(a, b, carryIn ? 1 : 0, size);
                case Arithmetic.AND -> logic(a & b, size);
                case Arithmetic.OR -> logic(a | b, size);
                default -> logic(a ^ b, size);
            };
            long mask = row == Arithmetic.AND || row == Arithmetic.OR || row == Arithmetic.XOR ? ALL & ~AF : ALL;
            check(c, e, res, mask, "row " + row + " size " + size + " a=" + Long.toHexString(a) + " b=" + Long.toHexString(b));
        }
    }

    @Test
    void incDecKeepCarryAndNegSetsItForNonZero() {
        Random rnd = new Random(8);
        for (int t = 0; t < 20_000; t++) {
            int size = SIZES[rnd.nextInt(4)];
            long v = operand(rnd, size);
            boolean carryIn = rnd.nextBoolean();
            int which = rnd.nextInt(3);
            String hex = switch (which) {
                case 0 -> prefix(size) + (size == 1 ? "fec0" : "ffc0"); // inc %al/%ax/%eax/%rax
                case 1 -> prefix(size) + (size == 1 ? "fec8" : "ffc8"); // dec
                default -> prefix(size) + (size == 1 ? "f6d8" : "f7d8"); // neg
            };
            Cpu c = cpuWithCarry(carryIn);
            c.r[Cpu.RAX] = v;
            execute(c, hex);
            long res = c.r[Cpu.RAX] & OperandSize.MASK[size];
            Eager e = switch (which) {
                case 0 -> add(v, 1, 0, size).withCf(carryIn);
                case 1 -> sub(v, 1, 0, size).withCf(carryIn);
                default -> sub(0, v, 0, size);
            };
            check(c, e, res, ALL, hex + " v=" + Long.toHexString(v));
        }
    }

    @Test
    void shiftsMatchTheEagerDefinitions() {
        Random rnd = new Random(9);
        for (int t = 0; t < 20_000; t++) {
            int size = SIZES[rnd.nextInt(4)];
            int bits = size * 8;
            long v = operand(rnd, size);
            int count = 1 + rnd.nextInt(bits - 1);
            int kind = rnd.nextInt(3); // SHL, SHR, SAR
            String hex = prefix(size) + (size == 1 ? "c0" : "c1") + new String[] {"e0", "e8", "f8"}[kind] + String.format("%02x", count);
            Cpu c = cpuWithCarry(rnd.nextBoolean());
            c.r[Cpu.RAX] = v;
            execute(c, hex);
            long res = c.r[Cpu.RAX] & OperandSize.MASK[size];
            BigInteger x = BigInteger.valueOf(v).and(mask(size));
            BigInteger sx = BigInteger.valueOf(OperandSize.signExtend(v, size));
            BigInteger expect;
            boolean cf;
            boolean of;
            switch (kind) {
                case 0 -> {
                    expect = x.shiftLeft(count).and(mask(size));
                    cf = x.testBit(bits - count);
                    of = expect.testBit(bits - 1) != cf;
                }
                case 1 -> {
                    expect = x.shiftRight(count);
                    cf = x.testBit(count - 1);
                    of = x.testBit(bits - 1);
                }
                default -> {
                    expect = sx.shiftRight(count).and(mask(size));
                    cf = sx.testBit(count - 1);
                    of = false;
                }
            }
            Eager e = new Eager(expect.longValue(), cf, of, false);
            check(c, e, res, count == 1 ? ALL & ~AF : ALL & ~AF & ~OF, hex + " v=" + Long.toHexString(v));
        }
    }

    @Test
    void everyConditionCodeFollowsTheEagerFlags() {
        Random rnd = new Random(10);
        for (int t = 0; t < 20_000; t++) {
            int size = SIZES[rnd.nextInt(4)];
            long a = operand(rnd, size);
            long b = operand(rnd, size);
            int row = rnd.nextInt(8);
            Cpu c = cpuWithCarry(rnd.nextBoolean());
            Arithmetic.alu(c, row, a, b, size);
            long f = c.rflags();
            boolean cf = (f & CF) != 0, zf = (f & ZF) != 0, sf = (f & SF) != 0, of = (f & OF) != 0, pf = (f & PF) != 0;
            boolean[] positive = {of, cf, zf, cf || zf, sf, pf, sf != of, zf || sf != of};
            for (int cc = 0; cc < 16; cc++) {
                boolean expect = positive[cc >> 1] ^ ((cc & 1) != 0);
                assertThat(LazyFlags.cond(c, cc)).as("cc %d after row %d size %d a=%x b=%x", cc, row, size, a, b).isEqualTo(expect);
            }
        }
    }

    private record Eager(long result, boolean cf, boolean of, boolean af) {
        Eager withCf(boolean c) {
            return new Eager(result, c, of, af);
        }
    }

    private static Eager add(long a, long b, int carry, int size) {
        BigInteger sum = u(a, size).add(u(b, size)).add(BigInteger.valueOf(carry));
        BigInteger ssum = s(a, size).add(s(b, size)).add(BigInteger.valueOf(carry));
        long res = sum.and(mask(size)).longValue();
        return new Eager(res, sum.bitLength() > size * 8, !fitsSigned(ssum, size), ((a ^ b ^ res) & 0x10) != 0);
    }

    private static Eager sub(long a, long b, int borrow, int size) {
        BigInteger diff = u(a, size).subtract(u(b, size)).subtract(BigInteger.valueOf(borrow));
        BigInteger sdiff = s(a, size).subtract(s(b, size)).subtract(BigInteger.valueOf(borrow));
        long res = diff.and(mask(size)).longValue();
        return new Eager(res, diff.signum() < 0, !fitsSigned(sdiff, size), ((a ^ b ^ res) & 0x10) != 0);
    }

    private static Eager logic(long res, int size) {
        return new Eager(res & OperandSize.MASK[size], false, false, false);
    }

    private static void check(Cpu c, Eager e, long result, long mask, String what) {
        int size = c.fSize;
        assertThat(result).as("result: " + what).isEqualTo(e.result);
        long expect = (e.cf ? CF : 0) | (e.of ? OF : 0) | (e.af ? AF : 0) | (e.result == 0 ? ZF : 0)
                | ((e.result & OperandSize.SIGN[size]) != 0 ? SF : 0) | ((Long.bitCount(e.result & 0xFF) & 1) == 0 ? PF : 0);
        assertThat(c.rflags() & mask).as("flags: " + what).isEqualTo(expect & mask);
    }

    /** One CPU for all trials (a new one per trial would spend the time allocating its block cache). */
    private final Cpu cpu = new Cpu(0, new GuestMemory(1 << 20));

    private Cpu cpuWithCarry(boolean carry) {
        cpu.setRflags(carry ? CF : 0);
        return cpu;
    }

    private static void execute(Cpu c, String hex) {
        byte[] b = java.util.HexFormat.of().parseHex(hex);
        c.memory().load(0x1000, b, 0, b.length);
        Executor.exec(c, new Decoder(c.memory()).decode(0x1000));
    }

    private static String prefix(int size) {
        return size == 2 ? "66" : size == 8 ? "48" : "";
    }

    private static long operand(Random rnd, int size) {
        long v = switch (rnd.nextInt(3)) {
            case 0 -> OperandSize.SIGN[size] + rnd.nextInt(5) - 2;
            case 1 -> rnd.nextInt(33) - 16;
            default -> rnd.nextLong();
        };
        return v & OperandSize.MASK[size];
    }

    private static BigInteger mask(int size) {
        return BigInteger.ONE.shiftLeft(size * 8).subtract(BigInteger.ONE);
    }

    private static BigInteger u(long v, int size) {
        return BigInteger.valueOf(v).and(mask(size));
    }

    private static BigInteger s(long v, int size) {
        return BigInteger.valueOf(OperandSize.signExtend(v, size));
    }

    private static boolean fitsSigned(BigInteger v, int size) {
        return v.bitLength() < size * 8;
    }
}
