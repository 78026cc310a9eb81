package dev.lbrvmm.vmm.cpu;

/**
 * What the translating engine did on one vCPU.
 *
 * @param blocksCompiled      blocks translated to bytecode
 * @param instructionsCompiled guest instructions in those blocks (static size)
 * @param instructionsRun     guest instructions retired in translated code (the coverage)
 * @param invalidated         translated blocks dropped because code was overwritten, remapped or the mode changed
 * @param evicted             translated blocks dropped from the full decode cache
 * @param refused             translations not made: queue full or the vCPU at its block cap
 * @param translationNanos    time spent generating and loading the classes
 */
public record JitStats(long blocksCompiled, long instructionsCompiled, long instructionsRun, long invalidated, long evicted,
        long refused, long translationNanos) {
    public static final JitStats NONE = new JitStats(0, 0, 0, 0, 0, 0, 0);
}
