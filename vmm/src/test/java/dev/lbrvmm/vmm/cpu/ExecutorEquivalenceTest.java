package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Every specialized handler of a common form gives exactly what the reference executor gives for
 * the same instruction: registers, RIP, all six arithmetic flags, memory, the fault (if any) and
 * the branch events. Run over generated register, memory and flag values, with a random earlier
 * flag-setting instruction so that every lazy-flag kind is the starting state somewhere.
 */
class ExecutorEquivalenceTest {
    private static final long CODE = 0x1000;
    private static final long DATA = 0x4000;
    private static final long STACK = 0x8000;
    private static final int MEMORY = 0x10000;
    private static final int TRIALS = 400;

    /** Encodings that decode to fast forms (AT&T in the comments; rbx is the memory base). */
    private static final List<String> FORMS = List.of(
            "488bc3", "8bc3", "488b03", "8b03", "4889d8", "89d8", "488903", "8903", // mov
            "48c7c011223344", "b8aabbccdd", "48b88877665544332211", // mov $imm, %rax / %eax / movabs
            "488d4c5808", "8d4c58f8", "668d4c5808", "678d4c5808", "488d0d10000000", // lea, rip-relative
            "0fb603", "480fb64308", // movzbl (%rbx), movzbq 8(%rbx)
            "53", "4153", "5b", "415b", // push/pop %rbx, %r11
            "4801d8", "01d8", "4829d8", "29d8", "4839d8", "39d8", "4831d8", "31d8", "4821d8", "21d8", "4809d8", "09d8",
            "483bc3", "3bc3", // cmp %rbx,%rax (3B form)
            "483b03", "3b4308", "480303", "482b03", "481303", "481b03", "482303", "480b03", "483303", "0303",
            "4883c07f", "4881c000000080", "83c0ff", "0501000000", "4883e801", "2dffffff7f", "4883f800", "83f880",
            "4883e00f", "25f0f0f0f0", // and
            "48833b00", "833b7f", "48813b00000080", // cmp $imm,(%rbx)
            "4885d8", "85d8", // test
            "48ffc0", "48ffc8", "ffc0", "ffc8", "49ffc3", // inc/dec
            "7010", "7110", "7210", "7310", "7410", "7510", "7610", "7710", "7810", "7910", "7a10", "7b10", "7c10", "7d10", "7e10",
            "7f10", "0f8400010000", "0f8ff0ffffff", // jcc
            "eb10", "e900010000", "ffe0", "41ffe3", "e800010000", "c3");

    /** Values that sit on flag edges, mixed with random ones. */
    private static final long[] EDGES = {0, 1, 2, -1, -2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFFL, 0x8000_0000L,
        0xFFFF_FFFFL, 0x1_0000_0000L, Long.MAX_VALUE, Long.MIN_VALUE, 0x10, 0xF};

    /** Flag-setting instructions run first (through the reference) so every lazy-flag kind starts a trial. */
    private static final List<String> PRELUDES = List.of("", "4801d1", "4829d1", "4839d1", "4821d1", "4811d1", "4819d1",
            "48ffc1", "48ffc9", "48d1e1", "48d1e9", "48f7d9", "480fa3d1", "9d", "f9", "f8", "38d1", "6639d1");

    @Test
    void everyFastFormMatchesTheReferenceExecutor() {
        Random rnd = new Random(0x5EED_CAFEL);
        Set<Handler> covered = new HashSet<>();
        for (String hex : FORMS) {
            Insn probe = decodeAlone(hex);
            assertThat(probe.handler).as("%s decodes to a fast form (%s)", hex, probe).isNotSameAs(Executor.REFERENCE);
            covered.add(probe.handler);
            for (int t = 0; t < TRIALS; t++) {
                long seed = rnd.nextLong();
                Outcome fast = run(hex, seed, true);
                Outcome reference = run(hex, seed, false);
                assertThat(fast).as("%s (%s), trial %d, seed %d", hex, Op.name(probe.op), t, seed).isEqualTo(reference);
            }
        }
        assertThat(covered).as("every fast handler has an encoding in FORMS").containsExactlyInAnyOrderElementsOf(allFastHandlers());
    }

    @Test
    void jccAndSetccAgreeOnEveryConditionAfterEveryFlagKind() {
        // Jcc has a fast path for CMP (operands compared directly); SETcc always derives flags.
        Random rnd = new Random(42);
        for (int t = 0; t < 2000; t++) {
            long seed = rnd.nextLong();
            for (int cc = 0; cc < 16; cc++) {
                Outcome jcc = run(String.format("%02x10", 0x70 + cc), seed, true);
                Outcome setcc = run(String.format("0f%02xc0", 0x90 + cc), seed, false);
                boolean taken = jcc.rip == CODE + 2 + 0x10;
                assertThat(setcc.regs[Cpu.RAX] & 0xFF).as("cc %d, seed %d", cc, seed).isEqualTo(taken ? 1L : 0L);
            }
        }
    }

    private static Insn decodeAlone(String hex) {
        GuestMemory m = new GuestMemory(MEMORY);
        byte[] b = HexFormat.of().parseHex(hex);
        m.load(CODE, b, 0, b.length);
        return new Decoder(m).decode(CODE);
    }

    /** The state after one instruction, run through its fast handler or the reference executor. */
    private static Outcome run(String hex, long seed, boolean fast) {
        Random rnd = new Random(seed);
        GuestMemory mem = new GuestMemory(MEMORY);
        byte[] noise = new byte[0x1000];
        rnd.nextBytes(noise);
        mem.load(DATA, noise, 0, noise.length);
        mem.load(STACK - 0x800, noise, 0, 0x1000);
        Cpu cpu = new Cpu(0, mem);
        for (int i = 0; i < 16; i++) {
            cpu.r[i] = value(rnd);
        }
        Insn in = place(mem, CODE, hex);
        if (in.mem && in.base == Cpu.RBX) {
            cpu.r[Cpu.RBX] = DATA + rnd.nextInt(0x800); // the memory base
        }
        cpu.r[Cpu.RSP] = STACK - 8 * rnd.nextInt(64);
        cpu.setRflags(rnd.nextLong() & (Cpu.CF | Cpu.PF | Cpu.AF | Cpu.ZF | Cpu.SF | Cpu.OF | Cpu.DF));
        String prelude = PRELUDES.get(rnd.nextInt(PRELUDES.size()));
        if (!prelude.isEmpty()) {
            Insn p = place(mem, CODE - 0x100, prelude);
            if (p.op == Op.POPF) {
                cpu.push(rnd.nextLong() & 0xFD5, 8); // arithmetic flags only
            }
            Executor.exec(cpu, p);
        }
        List<String> events = new ArrayList<>();
        cpu.setBranchListener(new BranchListener() {
            @Override
            public void onBranch(long from, long to, BranchKind kind, int cpl) {
                events.add(String.format("%x->%x %s", from, to, kind));
            }

            @Override
            public void onNotTaken(long from) {
                events.add(String.format("%x not taken", from));
            }
        });
        cpu.setRip(CODE);
        String fault = "none";
        try {
            if (fast) {
                in.handler.exec(cpu, in);
            } else {
                Executor.exec(cpu, in);
            }
        } catch (CpuFault f) {
            fault = Vector.name(f.vector) + "(" + f.errorCode + ") at " + Long.toHexString(f.address);
        }
        long memoryHash = 0;
        for (int a = 0; a < MEMORY; a += 8) {
            memoryHash = memoryHash * 0x9E37_79B9_7F4A_7C15L + mem.read64(a);
        }
        return new Outcome(cpu.r.clone(), cpu.rip(), cpu.rflags(), memoryHash, fault, events);
    }

    private static Insn place(GuestMemory mem, long at, String hex) {
        byte[] b = HexFormat.of().parseHex(hex);
        mem.load(at, b, 0, b.length);
        return new Decoder(mem).decode(at);
    }

    private static long value(Random rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> EDGES[rnd.nextInt(EDGES.length)];
            case 1 -> EDGES[rnd.nextInt(EDGES.length)] + rnd.nextInt(3) - 1;
            case 2 -> rnd.nextInt(256) - 128;
            default -> rnd.nextLong();
        };
    }

    /** Every Handler constant of the cpu package's families except the reference executor. */
    private static Set<Handler> allFastHandlers() {
        Set<Handler> all = new HashSet<>();
        for (Class<?> family : List.of(Arithmetic.class, DataTransfer.class, ControlFlow.class, MulDiv.class, Shifts.class,
                BitOps.class, FlagOps.class, StringOps.class, SystemOps.class, Interrupts.class)) {
            for (Field f : family.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) && Handler.class.isAssignableFrom(f.getType())) {
                    try {
                        f.setAccessible(true);
                        all.add((Handler) f.get(null));
                    } catch (IllegalAccessException e) {
                        throw new AssertionError(e);
                    }
                }
            }
        }
        return all;
    }

    private record Outcome(long[] regs, long rip, long rflags, long memoryHash, String fault, List<String> events) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Outcome x && java.util.Arrays.equals(regs, x.regs) && rip == x.rip && rflags == x.rflags
                    && memoryHash == x.memoryHash && fault.equals(x.fault) && events.equals(x.events);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(regs);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 16; i++) {
                sb.append(String.format("r%d=%x ", i, regs[i]));
            }
            return sb + String.format("rip=%x rflags=%x mem#%x fault=%s events=%s", rip, rflags, memoryHash, fault, events);
        }
    }
}
