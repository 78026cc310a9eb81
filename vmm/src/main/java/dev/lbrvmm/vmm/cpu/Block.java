package dev.lbrvmm.vmm.cpu;

/** A decoded straight-line run of instructions ending at a control transfer or possible exit. */
final class Block {
    /** Longest block; keeps budget cuts and self-modification re-decodes cheap. */
    static final int MAX_INSNS = 64;

    final long rip;
    final Insn[] insns;
    final int byteLen;
    /** Successor cache: the blocks control most recently went to after this one. */
    Block succA;
    Block succB;
    /** Its bytes as decoded, and the mode they were decoded in: under the translating engine only (null: not known). */
    byte[] code;
    boolean mode32;
    /**
     * Under the translating engine: where control went after this block beyond {@link #succA} and
     * {@link #succB} (the targets of its indirect jump, call or return), up to {@link #MAX_SEEN}.
     */
    long[] seen;
    static final int MAX_SEEN = 8;
    /** Times the block ran in the interpreter (the translating engine counts them). */
    int runs;
    /** The translated region that holds this block, once the translating engine made one (set on the vCPU thread only). */
    CompiledRegion compiled;
    /** This block's index in {@link #compiled}: where the region is entered to run it (0: the region was formed from it). */
    int compiledEntry;
    /** A region holding this block is formed already (translating or installed): it forms none of its own. */
    boolean inRegion;

    Block(long rip, Insn[] insns, int byteLen) {
        this.rip = rip;
        this.insns = insns;
        this.byteLen = byteLen;
    }
}
