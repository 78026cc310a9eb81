package dev.lbrvmm.vmm.cpu;

/**
 * What the translating engine did on one vCPU.
 *
 * @param regions              regions translated to bytecode (made here or reused)
 * @param reused               of those, regions whose translation another vCPU or machine of the process had made
 * @param blocks               decoded blocks in those regions
 * @param instructions         guest instructions in those blocks (static size)
 * @param instructionsRun      guest instructions retired in translated code (the coverage)
 * @param invalidated          translations dropped because code was overwritten or remapped, or the mode changed
 * @param evicted              translations dropped with their entry block from the full decode cache
 * @param refused              translations not made: the queue full, or the vCPU at its cap
 * @param translationNanos     time spent forming regions, generating and loading their classes
 * @param firstRegionNanos     warm-up: wall time from the engine's start on this vCPU to its first installed region (-1: none yet)
 * @param instructionsBeforeFirstRegion guest instructions this vCPU retired before that region was installed
 */
public record JitStats(long regions, long reused, long blocks, long instructions, long instructionsRun, long invalidated, long evicted,
        long refused, long translationNanos, long firstRegionNanos, long instructionsBeforeFirstRegion) {
    public static final JitStats NONE = new JitStats(0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0);
}
