package dev.lbrvmm.vmm.machine;

import static dev.lbrvmm.vmm.machine.IntegerSequenceGenerator.BUFFER;
import static dev.lbrvmm.vmm.machine.IntegerSequenceGenerator.R64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lbrvmm.vmm.machine.IntegerSequenceGenerator.Case;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The interpreter against the real CPU: random integer instruction sequences
 * ({@link IntegerSequenceGenerator}) are assembled into one static Linux program, run natively and
 * under lbrvmm, and every case's registers, defined flags (plus DF) and 256-byte memory buffer are
 * compared. A difference names the case, the values, its source, and the first instruction after
 * which the results part (the case is rerun as each of its prefixes).
 *
 * <p>{@code mvn verify} runs a small fixed-seed set. A campaign runs more (see the README):
 * {@code -Dlbrvmm.difftest.count=50000 -Dlbrvmm.difftest.seed=N -Dlbrvmm.difftest.length=40}.
 * Needs an x86-64 Linux host with GNU as and ld; skipped elsewhere.
 */
class NativeDifferentialTest {
    /** Per case in the program's output: the buffer, then 14 registers and the flags (8 bytes each). */
    private static final int RESULTS = 128;
    private static final int STRIDE = BUFFER + RESULTS;
    private static final int FLAGS_SLOT = R64.length;
    private static final int BATCH = 1000;
    private static final int REPORTED = 3;
    private static final PrintStream DISCARD = new PrintStream(OutputStream.nullOutputStream());

    @TempDir
    Path dir;

    @Test
    void randomIntegerSequencesMatchTheRealCpu() throws Exception {
        assumeTrue(toolchainPresent(), "not an x86-64 Linux host with GNU as and ld: differential test skipped");
        long seed = Long.getLong("lbrvmm.difftest.seed", 0x5eed_1b7aL);
        int count = Integer.getInteger("lbrvmm.difftest.count", 400);
        int length = Integer.getInteger("lbrvmm.difftest.length", 24);
        IntegerSequenceGenerator generator = new IntegerSequenceGenerator(seed);
        List<String> reports = new ArrayList<>();
        int mismatched = 0;
        long instructions = 0;
        for (int first = 0; first < count; first += BATCH) {
            List<Case> cases = new ArrayList<>();
            for (int i = first; i < Math.min(count, first + BATCH); i++) {
                cases.add(generator.next(length));
            }
            Outputs out = runBoth(cases, "batch" + first);
            for (int i = 0; i < cases.size(); i++) {
                instructions += cases.get(i).steps().stream().flatMap(s -> s.lines().stream()).filter(l -> !l.endsWith(":")).count();
                List<String> diff = compare(cases.get(i), out.cpu(), out.vmm(), i);
                if (!diff.isEmpty()) {
                    mismatched++;
                    if (reports.size() < REPORTED) {
                        reports.add(report(first + i, cases.get(i), diff, seed));
                    }
                }
            }
        }
        System.out.printf("differential test: %d sequences of %d steps, %d instructions with their operand set-up, seed %d: %d differ%n",
                count, length, instructions, seed, mismatched);
        if (mismatched > 0) {
            fail(mismatched + " of " + count + " sequences differ from the real CPU (seed " + seed + "):\n\n"
                    + String.join("\n", reports));
        }
    }

    /** A seed names its sequences: a reported sequence is reproduced from the seed and its number. */
    @Test
    void casesAreDeterministicForASeed() {
        Case a = new IntegerSequenceGenerator(7).next(30);
        Case b = new IntegerSequenceGenerator(7).next(30);
        assertThat(a.steps()).isEqualTo(b.steps());
        assertThat(a.registers()).isEqualTo(b.registers());
        assertThat(new IntegerSequenceGenerator(8).next(30).steps()).isNotEqualTo(a.steps());
    }

    private record Outputs(byte[] cpu, byte[] vmm) {}

    private Outputs runBoth(List<Case> cases, String name) throws Exception {
        Path elf = build(source(cases), name);
        byte[] cpu = runNatively(elf);
        byte[] vmm = runInLbrvmm(elf, cases);
        int expected = cases.size() * STRIDE;
        assertThat(cpu).as("native output").hasSize(expected);
        assertThat(vmm).as("lbrvmm output").hasSize(expected);
        return new Outputs(cpu, vmm);
    }

    // ---- the program ----

    static String source(List<Case> cases) {
        StringBuilder s = new StringBuilder(cases.size() * 2048);
        s.append("\t.text\n\t.globl _start\n_start:\n");
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            String buf = "out+" + (long) i * STRIDE;
            s.append("case_").append(i).append(":\n");
            line(s, "leaq " + buf + "+" + BUFFER / 2 + "(%rip), %rbx");
            for (int r = 0; r < R64.length; r++) {
                line(s, "movabsq $" + c.registers()[r] + ", %" + R64[r]);
            }
            line(s, "pushq $" + c.flags());
            line(s, "popfq");
            for (IntegerSequenceGenerator.Step step : c.steps()) {
                for (String l : step.lines()) {
                    line(s, l.replace("BUF+", buf + "+"));
                }
            }
            for (int r = 0; r < R64.length; r++) {
                line(s, "movq %" + R64[r] + ", " + buf + "+" + (BUFFER + 8 * r) + "(%rip)");
            }
            line(s, "pushfq");
            line(s, "popq %rax");
            line(s, "andl $" + c.comparedFlags() + ", %eax");
            line(s, "movq %rax, " + buf + "+" + (BUFFER + 8 * FLAGS_SLOT) + "(%rip)");
            line(s, "cld");
        }
        // write(1, out, size) until all is written, then exit(0); exit(1) if a write fails
        s.append("""
                \tleaq out(%rip), %rsi
                \tmovabsq $SIZE, %rdx
                2:\tmovl $1, %eax
                \tmovl $1, %edi
                \tsyscall
                \ttestq %rax, %rax
                \tjle 3f
                \taddq %rax, %rsi
                \tsubq %rax, %rdx
                \tjnz 2b
                \txorl %edi, %edi
                \tmovl $60, %eax
                \tsyscall
                3:\tmovl $1, %edi
                \tmovl $60, %eax
                \tsyscall
                \t.data
                \t.balign 64
                out:
                """.replace("SIZE", Long.toString((long) cases.size() * STRIDE)));
        ByteBuffer words = ByteBuffer.allocate(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
        for (Case c : cases) {
            words.clear();
            words.put(c.memory()).flip();
            s.append("\t.quad ");
            for (int q = 0; q < BUFFER / 8; q++) {
                s.append(q == 0 ? "" : ",").append(words.getLong());
            }
            s.append("\n\t.zero ").append(RESULTS).append('\n');
        }
        return s.toString();
    }

    private static void line(StringBuilder s, String l) {
        s.append(l.endsWith(":") ? "" : "\t").append(l).append('\n');
    }

    private Path build(String source, String name) throws Exception {
        Path src = dir.resolve(name + ".S");
        Path obj = dir.resolve(name + ".o");
        Path elf = dir.resolve(name + ".elf");
        Files.writeString(src, source);
        String as = exec(List.of("as", "--64", "-o", obj.toString(), src.toString()));
        if (as != null) {
            fail("the generator wrote something GNU as rejects:\n" + withSourceLines(as, source));
        }
        String ld = exec(List.of("ld", "-static", "-nostdlib", "-o", elf.toString(), obj.toString()));
        assertThat(ld).as("ld").isNull();
        return elf;
    }

    private static String withSourceLines(String asErrors, String source) {
        String[] lines = source.split("\n");
        StringBuilder sb = new StringBuilder();
        asErrors.lines().limit(10).forEach(e -> {
            sb.append(e).append('\n');
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\.S:(\\d+):").matcher(e);
            if (m.find()) {
                sb.append("    > ").append(lines[Integer.parseInt(m.group(1)) - 1].strip()).append('\n');
            }
        });
        return sb.toString();
    }

    private static byte[] runNatively(Path elf) throws Exception {
        Process p = new ProcessBuilder(elf.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("native exit status (a signal: a generated sequence faults on this CPU)").isZero();
        return out;
    }

    private static byte[] runInLbrvmm(Path elf, List<Case> cases) throws Exception {
        GuestConfig cfg = GuestConfigLoader.load(null, List.of("guest.program.path=\"" + elf + "\"",
                "guest.serial.output=none", "guest.program.stdout=stdout"));
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(captured, false);
                Machine m = Machine.create(cfg, out, DISCARD)) {
            MachineExit exit = m.run();
            out.flush();
            if (exit.kind() != MachineExit.Kind.GUEST_EXIT || exit.status() != 0) {
                fail("lbrvmm ended the program with " + exit + where(elf, exit.message(), cases));
            }
        }
        return captured.toByteArray();
    }

    /** The case a guest address in an exit message lies in, with its source, from the ELF's case_N symbols. */
    private static String where(Path elf, String message, List<Case> cases) throws Exception {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("0x([0-9a-fA-F]+)").matcher(message == null ? "" : message);
        if (!m.find()) {
            return "";
        }
        long rip = Long.parseUnsignedLong(m.group(1), 16);
        Process nm = new ProcessBuilder("nm", "-n", elf.toString()).start();
        int found = -1;
        for (String l : new String(nm.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
            String[] f = l.split(" ");
            if (f.length == 3 && f[2].startsWith("case_") && Long.parseUnsignedLong(f[0], 16) <= rip) {
                found = Integer.parseInt(f[2].substring(5));
            }
        }
        nm.waitFor();
        return found < 0 ? "" : "\nin case " + found + " of its batch:\n" + listing(cases.get(found));
    }

    // ---- comparing ----

    private static List<String> compare(Case c, byte[] cpu, byte[] vmm, int index) {
        ByteBuffer a = ByteBuffer.wrap(cpu).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer b = ByteBuffer.wrap(vmm).order(ByteOrder.LITTLE_ENDIAN);
        int base = index * STRIDE;
        List<String> diff = new ArrayList<>();
        for (int r = 0; r < R64.length; r++) {
            long x = a.getLong(base + BUFFER + 8 * r);
            long y = b.getLong(base + BUFFER + 8 * r);
            if (x != y) {
                diff.add(String.format("%%%s: cpu %#018x, lbrvmm %#018x", R64[r], x, y));
            }
        }
        long fx = a.getLong(base + BUFFER + 8 * FLAGS_SLOT);
        long fy = b.getLong(base + BUFFER + 8 * FLAGS_SLOT);
        if (fx != fy) {
            diff.add(String.format("flags (compared %#x): cpu %#x, lbrvmm %#x", c.comparedFlags(), fx, fy));
        }
        for (int i = 0; i < BUFFER; i++) {
            if (cpu[base + i] != vmm[base + i]) {
                diff.add(String.format("memory %+d(%%rbx): cpu %02x, lbrvmm %02x", i - BUFFER / 2, cpu[base + i], vmm[base + i]));
                if (diff.size() > 12) {
                    diff.add("...");
                    break;
                }
            }
        }
        return diff;
    }

    /** The case's differences, its source, and the first step after which the two part. */
    private String report(int number, Case c, List<String> diff, long seed) throws Exception {
        StringBuilder sb = new StringBuilder();
        sb.append("sequence ").append(number).append(" (reproduce: -Dlbrvmm.difftest.seed=").append(seed)
                .append(" -Dlbrvmm.difftest.count=").append(number + 1).append("):\n");
        diff.forEach(d -> sb.append("  ").append(d).append('\n'));
        List<Case> prefixes = new ArrayList<>();
        for (int n = 1; n <= c.steps().size(); n++) {
            prefixes.add(c.prefix(n));
        }
        Outputs out = runBoth(prefixes, "prefixes" + number);
        for (int n = 0; n < prefixes.size(); n++) {
            List<String> d = compare(prefixes.get(n), out.cpu(), out.vmm(), n);
            if (!d.isEmpty()) {
                sb.append("  first difference after step ").append(n + 1).append(": ")
                        .append(String.join("; ", c.steps().get(n).lines())).append('\n');
                d.forEach(x -> sb.append("    ").append(x).append('\n'));
                break;
            }
        }
        sb.append(listing(c));
        return sb.toString();
    }

    private static String listing(Case c) {
        StringBuilder sb = new StringBuilder("  initial:");
        for (int r = 0; r < R64.length; r++) {
            sb.append(String.format(" %%%s=%#x", R64[r], c.registers()[r]));
        }
        sb.append(String.format(" flags=%#x%n  memory (from -128(%%rbx)): %s%n", c.flags(), HexFormat.of().formatHex(c.memory())));
        int n = 1;
        for (IntegerSequenceGenerator.Step step : c.steps()) {
            sb.append(String.format("  %2d: %s%n", n++, String.join("; ", step.lines())));
        }
        return sb.toString();
    }

    // ---- environment ----

    private static boolean toolchainPresent() {
        String arch = System.getProperty("os.arch");
        if (!System.getProperty("os.name").equals("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return false;
        }
        try {
            return exec(List.of("as", "--version")) == null && exec(List.of("ld", "--version")) == null;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Runs a tool; null when it succeeded, else what it printed. */
    private static String exec(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return p.waitFor() == 0 ? null : out;
    }
}
