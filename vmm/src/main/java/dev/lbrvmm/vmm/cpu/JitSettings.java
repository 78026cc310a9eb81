package dev.lbrvmm.vmm.cpu;

/**
 * How the translating engine works.
 *
 * @param threshold  a region is formed at a block and translated after the block ran this many
 *                   times in the interpreter
 * @param maxRegions translated regions a vCPU keeps at most (classes and metaspace stay bounded;
 *                   a region whose entry block leaves the decode cache is freed for the GC)
 * @param background translate on a background thread while the vCPU goes on interpreting (false:
 *                   on the vCPU thread at once, for tests that want the switch at a known point)
 */
public record JitSettings(int threshold, int maxRegions, boolean background) {
    public JitSettings {
        if (threshold < 1 || maxRegions < 0) {
            throw new IllegalArgumentException("threshold must be at least 1 and maxRegions not negative");
        }
    }
}
