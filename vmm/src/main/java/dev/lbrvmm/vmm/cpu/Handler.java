package dev.lbrvmm.vmm.cpu;

/**
 * Executes one decoded instruction form. The common forms get their own small subclass chosen at
 * decode time (see {@link Handlers}): each is compiled by the JIT on its own, with its own profile,
 * so no guest's mix of instructions de-optimizes another's, and none has to re-test what decoding
 * already knew (register vs memory operand, operand size, ALU operation).
 */
public abstract class Handler {
    abstract void exec(Cpu c, Insn in);
}
