package dev.lbrvmm.vmm.machine;

import dev.lbrvmm.vmm.cpu.GuestMemory;
import java.nio.charset.StandardCharsets;

/**
 * The stack a Linux process starts with, so unmodified static binaries find argc, argv, envp and
 * the auxiliary vector where _start expects them: argc = 1, argv = {name}, envp = {}, auxv =
 * {AT_PAGESZ 4096, AT_NULL}.
 */
final class InitialStack {
    private static final long AT_NULL = 0, AT_PAGESZ = 6;

    private InitialStack() {}

    /** Builds the stack below {@code top}; returns the initial RSP (16-byte aligned, pointing at argc). */
    static long build(GuestMemory mem, long top, String argv0) {
        byte[] name = (argv0 + "\0").getBytes(StandardCharsets.UTF_8);
        long str = (top - name.length) & ~0xFL;
        mem.load(str, name, 0, name.length);
        long[] words = {1, str, 0, 0, AT_PAGESZ, 4096, AT_NULL, 0};
        long sp = (str - words.length * 8L) & ~0xFL;
        for (int i = 0; i < words.length; i++) {
            mem.write64(sp + i * 8L, words[i]);
        }
        return sp;
    }
}
