package dev.lbrvmm.vmm.cpu;

/**
 * Hot guest code translated to JVM bytecode by {@link RegionCompiler}: a region of decoded blocks
 * (a loop, a function body, a chain of hot successors) as one method, control flow between its
 * blocks as Java jumps, each instruction's handler called at a constant site so the JVM inlines
 * its semantics.
 *
 * <p>The contract is the interpreter loop's, block by block. {@link #run} starts at the block it
 * is given (any block of the region can be an entry), which the run loop has already checked and which fits the budget; before each
 * further block it leaves when the run loop would stop there (a stop request, an exit, a
 * deliverable interrupt: {@link Cpu#mustLeaveRegion}) or when the block does not fit what is left
 * of the budget (the run loop interprets the cut block). A store that overwrote decoded code ends
 * the region right after it. It keeps {@link Cpu#retired()} and RIP as the interpreter does and
 * returns the instructions retired. When an instruction throws, the instructions of the blocks
 * completed before are retired and counted in {@link Cpu#compiledDone}, the faulting block's code
 * and the faulting instruction's index are in {@link Cpu#compiledFaultCode} and
 * {@link Cpu#compiledFaultIndex}, and the exception goes on to the run loop.
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
