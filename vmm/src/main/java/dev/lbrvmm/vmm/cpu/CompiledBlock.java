package dev.lbrvmm.vmm.cpu;

/**
 * A decoded block translated to JVM bytecode by {@link BlockCompiler}: the block's instructions
 * run one after the other with each handler called at a constant call site, so the JVM inlines
 * every instruction's semantics into one method instead of dispatching per instruction.
 *
 * <p>The contract is the interpreter loop's: {@link #run} executes the whole block and returns
 * how many instructions ran (fewer when a store overwrote decoded code: it stops right after that
 * store); when an instruction throws, the number of instructions before it is in
 * {@link Cpu#compiledFaultIndex} and the exception goes on to the run loop.
 */
public abstract class CompiledBlock {
    protected CompiledBlock() {}

    abstract int run(Cpu c);
}
