package dev.lbrvmm.vmm.machine;

import dev.lbrvmm.vmm.cpu.GuestMemory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The stack a Linux process starts with, so unmodified static binaries find argc, argv, envp and
 * the auxiliary vector where _start expects them: argc = 1 + args, argv = {name, args...}, envp = {},
 * auxv = {AT_PAGESZ 4096, AT_NULL}.
 */
final class InitialStack {
    private static final long AT_NULL = 0, AT_PAGESZ = 6;

    private InitialStack() {}

    /**
     * Builds the stack below {@code top}; returns the initial RSP (16-byte aligned, pointing at argc),
     * or minus the bytes needed when they do not fit above {@code floor} (the program's end); nothing is written then.
     */
    static long build(GuestMemory mem, long top, long floor, String argv0, List<String> args) {
        List<String> argv = new ArrayList<>();
        argv.add(argv0);
        argv.addAll(args);
        long[] words = new long[1 + argv.size() + 1 + 1 + 4];
        long need = 32 + words.length * 8L; // two 16-byte alignments at most
        for (String a : argv) {
            need += a.getBytes(StandardCharsets.UTF_8).length + 1;
        }
        if (need > top - floor) {
            return -need;
        }
        long str = top;
        words[0] = argv.size();
        for (int i = argv.size() - 1; i >= 0; i--) {
            byte[] b = (argv.get(i) + "\0").getBytes(StandardCharsets.UTF_8);
            str -= b.length;
            mem.load(str, b, 0, b.length);
            words[1 + i] = str;
        }
        int aux = 1 + argv.size() + 2; // after argv's NULL and envp's NULL
        words[aux] = AT_PAGESZ;
        words[aux + 1] = 4096;
        words[aux + 2] = AT_NULL;
        words[aux + 3] = 0;
        str &= ~0xFL;
        long sp = (str - words.length * 8L) & ~0xFL;
        for (int i = 0; i < words.length; i++) {
            mem.write64(sp + i * 8L, words[i]);
        }
        return sp;
    }
}
