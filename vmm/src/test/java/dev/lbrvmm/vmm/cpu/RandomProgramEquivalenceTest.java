package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Randomised engine equivalence with fixed seeds: generated integer programs (straight-line code,
 * a counted loop around it, calls to generated functions, an indirect jump through a table,
 * data-dependent forward branches, memory operands of every size) assembled with GNU as and run
 * under the interpreter and the translating engine side by side ({@link EnginePair}), compared
 * register by register, flag by flag, branch by branch and LBR record by LBR record after every
 * slice. Half the seeds run with random slice lengths (budgets ending anywhere inside regions),
 * half in call-stack LBR mode. A failure names the seed and prints the program.
 */
class RandomProgramEquivalenceTest {
    /** The registers generated code may change: not RBX (data base), RSP, R14 (table) or R15 (loop count). */
    private static final String[] R64 = {"rax", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13"};
    private static final String[] R32 = {"eax", "ecx", "edx", "esi", "edi", "ebp", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d"};
    private static final String[] R16 = {"ax", "cx", "dx", "si", "di", "bp", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w"};
    private static final String[] R8 = {"al", "cl", "dl", "sil", "dil", "bpl", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b"};
    private static final String[] CC = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"};
    private static final long DATA = 0x8000;

    @TempDir
    Path dir;

    static List<Long> seeds() {
        List<Long> out = new ArrayList<>();
        for (long s = 1; s <= 40; s++) {
            out.add(s * 0x9E37_79B9L);
        }
        return out;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void generatedProgramsRunIdenticallyUnderBothEngines(long seed) throws Exception {
        assumeTrue(toolchainPresent(), "GNU as and ld are needed to assemble the generated programs");
        SplittableRandom random = new SplittableRandom(seed);
        String source = program(random);
        byte[] code = assemble(source);
        EnginePair p = new EnginePair(HexFormat.of().formatHex(code), h -> {
            for (int n = 0; n < 16; n++) {
                h.reg(n, random.nextLong());
            }
            h.reg(Cpu.RBX, DATA);
            h.reg(Cpu.RSP, CpuHarness.STACK);
            h.reg(15, 40 + random.nextInt(60));
            for (long a = DATA - 256; a < DATA + 256; a += 8) {
                h.mem.write64(a, random.nextLong());
            }
        });
        // both CPUs were set up from one random stream: make the second the same as the first
        System.arraycopy(p.interpreted.cpu.r, 0, p.translated.cpu.r, 0, 16);
        for (long a = DATA - 256; a < DATA + 256; a += 8) {
            p.translated.mem.write64(a, p.interpreted.mem.read64(a));
        }
        if ((seed / 0x9E37_79B9L) % 2 == 0) {
            p.lbrSelect(LbrUnit.EN_CALLSTACK | 1 << 2 | 1 << 7); // call stack; no conditional branches, no far ones
        }
        try {
            CpuExit e;
            if ((seed / 0x9E37_79B9L) % 3 == 0) {
                int guard = 0;
                do {
                    e = p.step(1 + random.nextInt(300));
                } while (e == CpuExit.BUDGET && ++guard < 1_000_000);
            } else {
                e = p.runToHalt(50_000);
            }
            assertThat(e).isEqualTo(CpuExit.HLT);
            assertThat(p.translatedShare()).as("share of instructions run translated").isGreaterThan(50);
        } catch (AssertionError err) {
            fail("seed " + seed + ": " + err.getMessage() + "\nprogram:\n" + source, err);
        }
    }

    // ------------------------------------------------------------------ the generator

    private static String program(SplittableRandom r) {
        StringBuilder s = new StringBuilder();
        s.append(".code64\n.globl _start\n_start:\n");
        s.append("outer:\n");
        int functions = 3;
        for (int part = 0; part < 5; part++) {
            straightLine(r, s, 3 + r.nextInt(8));
            switch (r.nextInt(4)) {
                case 0 -> s.append("  call f").append(r.nextInt(functions)).append('\n');
                case 1 -> { // an indirect jump through the table by a data-dependent index
                    String j = "j" + part;
                    s.append("  mov %rax, %r14\n  and $3, %r14\n  lea table").append(part).append("(%rip), %r13\n");
                    s.append("  jmp *(%r13,%r14,8)\n");
                    for (int t = 0; t < 4; t++) {
                        s.append(j).append('t').append(t).append(":\n");
                        straightLine(r, s, 1 + r.nextInt(4));
                        s.append("  jmp ").append(j).append("done\n");
                    }
                    s.append("  .balign 8\ntable").append(part).append(":\n");
                    for (int t = 0; t < 4; t++) {
                        s.append("  .quad ").append(j).append('t').append(t).append('\n');
                    }
                    s.append(j).append("done:\n");
                }
                case 2 -> { // a data-dependent forward branch
                    s.append("  test $").append(1 << r.nextInt(8)).append(", %").append(R8[r.nextInt(4)]).append('\n');
                    s.append("  j").append(CC[r.nextInt(16)]).append(" skip").append(part).append('\n');
                    straightLine(r, s, 1 + r.nextInt(5));
                    s.append("skip").append(part).append(":\n");
                }
                default -> { }
            }
        }
        s.append("  dec %r15\n  jnz outer\n  hlt\n");
        for (int f = 0; f < functions; f++) {
            s.append("f").append(f).append(":\n");
            straightLine(r, s, 2 + r.nextInt(6));
            if (f + 1 < functions && r.nextBoolean()) {
                s.append("  call f").append(f + 1).append('\n');
            }
            s.append("  ret\n");
        }
        return s.toString();
    }

    private static void straightLine(SplittableRandom r, StringBuilder s, int n) {
        for (int k = 0; k < n; k++) {
            s.append("  ").append(instruction(r)).append('\n');
        }
    }

    private static String instruction(SplittableRandom r) {
        int size = new int[] {8, 8, 8, 4, 4, 2, 1}[r.nextInt(7)];
        String sfx = switch (size) {
            case 8 -> "q";
            case 4 -> "l";
            case 2 -> "w";
            default -> "b";
        };
        String a = reg(r, size), b = reg(r, size);
        String mem = (-128 + 8 * r.nextInt(31)) + "(%rbx)";
        String imm = "$" + switch (r.nextInt(4)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> r.nextInt(-128, 128);
            default -> size == 1 ? r.nextInt(256) - 128 : r.nextInt(-40000, 40000);
        };
        String alu = new String[] {"add", "sub", "and", "or", "xor", "cmp", "adc", "sbb"}[r.nextInt(8)];
        return switch (r.nextInt(22)) {
            case 0, 1 -> alu + sfx + " " + b + ", " + a;
            case 2 -> alu + sfx + " " + imm + ", " + a;
            case 3 -> alu + sfx + " " + mem + ", " + a;
            case 4 -> alu + sfx + " " + a + ", " + mem;
            case 5 -> alu + sfx + " " + imm + ", " + mem;
            case 6 -> "test" + sfx + " " + b + ", " + a;
            case 7 -> new String[] {"inc", "dec", "neg", "not"}[r.nextInt(4)] + sfx + " " + (r.nextBoolean() ? a : mem);
            case 8 -> "mov" + sfx + " " + b + ", " + a;
            case 9 -> "mov" + sfx + " " + mem + ", " + a;
            case 10 -> "mov" + sfx + " " + a + ", " + mem;
            case 11 -> "mov" + sfx + " " + imm + ", " + (r.nextBoolean() ? a : mem);
            case 12 -> new String[] {"movzbl " + mem + ", " + reg(r, 4), "movsbq " + reg(r, 1) + ", " + reg(r, 8),
                "movswl " + mem + ", " + reg(r, 4), "movslq " + mem + ", " + reg(r, 8),
                "movzwq " + reg(r, 2) + ", " + reg(r, 8)}[r.nextInt(5)];
            case 13 -> "lea" + (size == 4 ? "l" : "q") + " " + r.nextInt(-64, 64) + "(%" + R64[r.nextInt(R64.length)] + ",%"
                    + R64[r.nextInt(R64.length)] + "," + (1 << r.nextInt(4)) + "), " + reg(r, size == 4 ? 4 : 8);
            case 14 -> new String[] {"shl", "shr", "sar", "rol", "ror"}[r.nextInt(5)] + sfx + " $" + r.nextInt(0, size * 8) + ", " + a;
            case 15 -> new String[] {"shl", "shr", "sar"}[r.nextInt(3)] + sfx + " " + (r.nextBoolean() ? "$1, " : "%cl, ") + a;
            case 16 -> size == 1 ? "imulq " + imm + ", " + reg(r, 8) + ", " + reg(r, 8) : "imul" + sfx + " " + b + ", " + a;
            case 17 -> "set" + CC[r.nextInt(16)] + " " + reg(r, 1);
            case 18 -> size == 1 ? "xchgq " + reg(r, 8) + ", " + reg(r, 8) : "cmov" + CC[r.nextInt(16)] + sfx + " " + b + ", " + a;
            case 19 -> "push %" + R64[r.nextInt(R64.length)] + "; pop %" + R64[r.nextInt(R64.length)];
            case 20 -> "pushq " + imm + "; popq " + mem;
            default -> "cmp" + sfx + " " + b + ", " + a + "; j" + CC[r.nextInt(16)] + " 1f; inc" + sfx + " " + a + "; 1:";
        };
    }

    private static String reg(SplittableRandom r, int size) {
        int n = r.nextInt(R64.length);
        return "%" + switch (size) {
            case 8 -> R64[n];
            case 4 -> R32[n];
            case 2 -> R16[n];
            default -> R8[n];
        };
    }

    // ------------------------------------------------------------------ assembling

    private byte[] assemble(String source) throws IOException, InterruptedException {
        Path src = dir.resolve("p.s"), obj = dir.resolve("p.o"), bin = dir.resolve("p.bin");
        Files.writeString(src, source);
        String as = exec(List.of("as", "--64", "-o", obj.toString(), src.toString()));
        if (as != null) {
            fail("GNU as rejected the generated program: " + as + "\n" + source);
        }
        String ld = exec(List.of("ld", "-Ttext=0x" + Long.toHexString(CpuHarness.CODE), "--oformat=binary", "-o", bin.toString(), obj.toString()));
        if (ld != null) {
            fail("ld: " + ld);
        }
        return Files.readAllBytes(bin);
    }

    /** Runs a command; null when it succeeded, else what it printed. */
    private static String exec(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timed out";
        }
        return p.exitValue() == 0 ? null : out;
    }

    private static boolean toolchainPresent() {
        try {
            return exec(List.of("as", "--version")) == null && exec(List.of("ld", "--version")) == null;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
