package dev.lbrvmm.vmm.cpu;

/**
 * One decoded instruction. Decoded once, cached inside a {@link Block} and executed many times,
 * so every operand detail the executor needs is resolved here (register numbers, absolute branch
 * targets, RIP-relative addresses, immediates masked to the operand size).
 *
 * <p>Register numbers: 0-15 are RAX..R15; for byte operands 16-19 are AH, CH, DH, BH.
 */
public final class Insn {
    /** Address and length of the instruction. */
    public long rip;
    public int len;
    /** Address of the next instruction. */
    public long next;
    /** Executor operation, one of {@link Op}. */
    public int op;
    /** Operand size in bytes: 1, 2, 4 or 8. */
    public int size;
    /** Secondary size (source size of MOVZX/MOVSX, address size for string ops). */
    public int size2;
    /** ModRM.reg operand or opcode-embedded register. */
    public int reg;
    /** Register of a register-form r/m operand. */
    public int rm;
    /** True when the r/m operand is in memory. */
    public boolean mem;
    /** Memory operand: base and index register (-1 = none), scale shift, displacement. */
    public int base = -1;
    public int index = -1;
    public int scale;
    public long disp;
    /** 0 = none, 1 = FS, 2 = GS. */
    public int seg;
    /** 0x67 prefix: 32-bit effective addresses. */
    public boolean addr32;
    /** Immediate, masked to the operand size; second immediate for ENTER. */
    public long imm;
    public long imm2;
    /** Absolute target of a relative branch. */
    public long target;
    /** Sub-operation: ALU op, shift op, condition code, group extension, REP kind. */
    public int ext;
    /** A control transfer: the executor always sets RIP itself (taken or not). */
    public boolean branch;
    /** Executes this instruction: a form-specialized handler, or the reference executor. */
    public Handler handler = Executor.REFERENCE;
    /** Reads the retired-instruction count (RDTSC, RDMSR, ...): always first in its block. */
    public boolean observesRetired;
    /** May write guest memory ({@link MemoryWrites}): the engines look for overwritten code after it. */
    public boolean mayWriteMemory;
    /** Ends the decoded block (control transfer or a possible exit to the VMM). */
    public boolean endsBlock;

    @Override
    public String toString() {
        return String.format("%x: %s size=%d len=%d", rip, Op.name(op), size, len);
    }
}
