package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * For every instruction objdump finds in every example ELF, our decoder must agree on the length
 * and, for direct branches and calls, on the target. Skipped with a message when objdump is absent.
 */
class DecoderObjdumpCrossCheckTest {
    private static final Pattern LINE = Pattern.compile("^\\s*([0-9a-f]+):\\t((?:[0-9a-f]{2} )+)\\s*\\t?(.*)$");
    private static final Pattern DIRECT = Pattern.compile("^(j\\w+|call|loop\\w*|jrcxz|jecxz)\\w*\\s+([0-9a-f]+) <");

    record Line(long address, byte[] bytes, String text) {}

    static Stream<Path> examples() throws IOException {
        Path bin = Path.of(System.getProperty("lbrvmm.home", "..")).resolve("examples/bin");
        try (Stream<Path> s = Files.list(bin)) {
            return s.filter(p -> p.toString().endsWith(".elf")).sorted().toList().stream();
        }
    }

    private static long symbol(Path elf, String name) throws Exception {
        Process p = new ProcessBuilder("nm", elf.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        for (String l : out.split("\n")) {
            String[] w = l.trim().split("\\s+");
            if (w.length == 3 && w[2].equals(name)) {
                return Long.parseLong(w[0], 16);
            }
        }
        throw new AssertionError(elf + " has no symbol " + name);
    }

    private static List<Line> objdump(Path elf) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("objdump", "-d", "--insn-width=16"));
        byte[] head = Files.readAllBytes(elf);
        if (head[4] == 1) {
            // A Multiboot kernel: an ELF32 wrapper whose code is 64-bit from start64 on (before it: the
            // header and the 32-bit entry, which the 32-bit tests cover).
            cmd.addAll(List.of("-m", "i386:x86-64", "--start-address=0x" + Long.toHexString(symbol(elf, "start64"))));
        }
        cmd.add(elf.toString());
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "objdump is not installed (binutils); decoder cross-check skipped");
            throw e;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assumeTrue(p.exitValue() == 0, "objdump failed: " + out);
        List<Line> lines = new ArrayList<>();
        for (String l : out.split("\n")) {
            Matcher m = LINE.matcher(l);
            if (!m.matches()) {
                continue;
            }
            String[] hex = m.group(2).trim().split(" ");
            byte[] b = new byte[hex.length];
            for (int i = 0; i < hex.length; i++) {
                b[i] = (byte) Integer.parseInt(hex[i], 16);
            }
            lines.add(new Line(Long.parseLong(m.group(1), 16), b, m.group(3).trim()));
        }
        return lines;
    }

    @ParameterizedTest
    @MethodSource("examples")
    void decoderAgreesWithObjdump(Path elf) throws Exception {
        List<Line> lines = objdump(elf);
        assertThat(lines).as("objdump found instructions in " + elf).isNotEmpty();
        GuestMemory mem = new GuestMemory(16 << 20);
        for (Line l : lines) {
            mem.load(l.address(), l.bytes(), 0, l.bytes().length);
        }
        Decoder d = new Decoder(mem);
        int checkedTargets = 0;
        for (Line l : lines) {
            if (l.text().contains("(bad)")) {
                continue;
            }
            Insn in = d.decode(l.address());
            assertThat(in.len).as("%s: length of '%s' at 0x%x", elf.getFileName(), l.text(), l.address()).isEqualTo(l.bytes().length);
            assertThat(in.op).as("%s: '%s' at 0x%x decodes to a real instruction", elf.getFileName(), l.text(), l.address())
                    .isNotIn(Op.UD, Op.FETCH_FAULT, Op.TOO_LONG);
            Matcher m = DIRECT.matcher(l.text());
            if (m.find() && !l.text().contains("*")) {
                assertThat(in.target).as("%s: target of '%s' at 0x%x", elf.getFileName(), l.text(), l.address())
                        .isEqualTo(Long.parseLong(m.group(2), 16));
                checkedTargets++;
            }
        }
        assertThat(checkedTargets).as("direct branches checked in " + elf).isPositive();
    }
}
