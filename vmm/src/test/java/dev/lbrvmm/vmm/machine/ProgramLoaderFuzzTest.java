package dev.lbrvmm.vmm.machine;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lbrvmm.vmm.cpu.GuestMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The ELF and Multiboot loaders on damaged programs: an example program with fields overwritten
 * (header offsets and counts, segment addresses and sizes, the Multiboot header and its address
 * fields) and possibly truncated. A load either succeeds inside guest memory or fails with a
 * {@link ProgramLoadException}; nothing else may escape. Raw bytes would rarely get past the magic,
 * so the fuzzer edits real programs.
 */
class ProgramLoaderFuzzTest {
    private static final Path HOME = Path.of("").toAbsolutePath().getParent();
    private static final List<String> ELFS = List.of("fib.elf", "lbr_sample.elf", "pmu_lbr.elf", "x87.elf");
    private static final List<String> KERNELS = List.of("mb_longmode.elf", "mb_highmap.elf", "mb_pagefault.elf", "mb_remap.elf");
    private static byte[][] elfs;
    private static byte[][] kernels;

    private static synchronized void loadBases() {
        if (elfs == null) {
            elfs = ELFS.stream().map(ProgramLoaderFuzzTest::example).toArray(byte[][]::new);
            kernels = KERNELS.stream().map(ProgramLoaderFuzzTest::example).toArray(byte[][]::new);
        }
    }

    private static byte[] example(String name) {
        try {
            return Files.readAllBytes(HOME.resolve("examples/bin").resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A copy of one of {@code bases} with up to 16 fields overwritten, biased to the headers, maybe truncated. */
    private static byte[] damaged(FuzzedDataProvider p, byte[][] bases) {
        byte[] b = bases[p.consumeInt(0, bases.length - 1)].clone();
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int edits = p.consumeInt(0, 16);
        for (int i = 0; i < edits; i++) {
            int limit = p.consumeBoolean() ? Math.min(b.length, 8192 + 256) : b.length; // headers live in the first pages
            int width = switch (p.consumeInt(0, 3)) {
                case 0 -> 1;
                case 1 -> 2;
                case 2 -> 4;
                default -> 8;
            };
            int at = p.consumeInt(0, limit - width);
            switch (width) {
                case 1 -> buf.put(at, p.consumeByte());
                case 2 -> buf.putShort(at, p.consumeShort());
                case 4 -> buf.putInt(at, p.consumeInt());
                default -> buf.putLong(at, p.consumeLong());
            }
        }
        if (p.consumeBoolean()) {
            return java.util.Arrays.copyOf(b, p.consumeInt(0, b.length));
        }
        return b;
    }

    @FuzzTest(maxDuration = "10m")
    void elf(FuzzedDataProvider p) {
        loadBases();
        byte[] file = damaged(p, elfs);
        try {
            ElfLoader.load(Path.of("fuzz.elf"), file, new GuestMemory(8 << 20));
        } catch (ProgramLoadException expected) {
            // a clear error is the other good outcome
        }
    }

    @FuzzTest(maxDuration = "10m")
    void multiboot(FuzzedDataProvider p) {
        loadBases();
        byte[] file = damaged(p, kernels);
        String cmdline = p.consumeString(64);
        MultibootLoader.Module module = p.consumeBoolean() ? new MultibootLoader.Module("initrd", p.consumeBytes(4096)) : null;
        try {
            MultibootLoader.load(Path.of("fuzz-kernel.elf"), file, cmdline, module, new GuestMemory(8 << 20));
        } catch (ProgramLoadException expected) {
            // a clear error is the other good outcome
        }
    }
}
