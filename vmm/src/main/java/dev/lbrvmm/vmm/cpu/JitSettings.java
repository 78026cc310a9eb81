package dev.lbrvmm.vmm.cpu;

/**
 * How the translating engine works.
 *
 * @param threshold  a block is translated after it ran this many times in the interpreter
 * @param maxBlocks  translated blocks a vCPU keeps at most (classes and metaspace stay bounded;
 *                   a block evicted from the decode cache frees its class for the GC)
 * @param background translate on a background thread while the vCPU goes on interpreting (false:
 *                   on the vCPU thread at once, for tests that want the switch at a known point)
 */
public record JitSettings(int threshold, int maxBlocks, boolean background) {
    public JitSettings {
        if (threshold < 1 || maxBlocks < 0) {
            throw new IllegalArgumentException("threshold must be at least 1 and maxBlocks not negative");
        }
    }
}
