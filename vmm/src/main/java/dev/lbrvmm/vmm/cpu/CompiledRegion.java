package dev.lbrvmm.vmm.cpu;

/**
 * Hot guest code translated to JVM bytecode by {@link RegionCompiler}: a region of decoded blocks
 * (a loop, a function body, a chain of hot successors) as one method, control flow between its
 * blocks as Java jumps, each instruction's handler called at a constant site so the JVM inlines
 * its semantics.
 *
 * <p>The contract is the interpreter loop's, block by block. {@link #run} starts at the block it
 * is given (any block of the region can be an entry), which the run loop has already checked; the
 * run loop enters only with at least {@link #minBudget} instructions of budget left. Jumps to a
 * block later in the region (forward) go straight on: any path of forward jumps visits each block
 * at most once, so it fits that budget. Jumps backward pass a check (the region's one header, so
 * its loops are reducible for the JVM's compiler), as does a forward jump after a branch hook
 * whose counter alarm ran. The check leaves when less than {@link #minBudget} is left
 * (the run loop then goes on block by block), when a stop request came (read when the
 * instructions done pass the point it is due, within the run loop's bound; on the way through, the
 * check is one comparison against that limit) and, after an alarm, when the run loop would stop there (an exit,
 * a deliverable interrupt: {@link Cpu#mustLeaveRegion}). Every cycle has a backward jump, so nothing runs unchecked for
 * longer than the region's size. Exactness rests on this: within the blocks a region chains (none
 * with a system instruction), exits and IF do not change and an interrupt becomes pending only in
 * a branch hook (the vPMU's counter alarm), which says so.
 *
 * <p>A store that overwrote decoded code ends the region right after it. The retired count and RIP
 * live in locals while it runs; it writes them to the CPU when it leaves and before a handler or a
 * branch observer runs ({@link Cpu#atBlock}), so they are what the interpreter shows wherever
 * anything looks, and returns the instructions retired. When
 * an instruction throws, the instructions of the blocks completed before are retired and counted
 * in {@link Cpu#compiledDone}, the faulting block's code and the faulting instruction's index are
 * in {@link Cpu#compiledFaultCode} and {@link Cpu#compiledFaultIndex}, and the exception goes on
 * to the run loop. How it is built: docs/jit.md.
 */
public abstract class CompiledRegion {
    /** Instructions in all the region's blocks: the longest path through its unchecked jumps (see above). */
    final int minBudget;

    protected CompiledRegion(int minBudget) {
        this.minBudget = minBudget;
    }

    /** Runs from the region's block {@code entry} (its index in the region). */
    abstract long run(Cpu c, long left, int entry);
}
