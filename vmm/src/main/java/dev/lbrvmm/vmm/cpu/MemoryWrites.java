package dev.lbrvmm.vmm.cpu;

/**
 * Which decoded instructions may write guest memory, and so may overwrite decoded code: only after
 * those do the engines look at the code epoch (self-modifying code ends the block right after the
 * store, as before). Conservative: an operation not known to leave memory alone counts as a
 * possible writer (system instructions, string stores, stack pushes, device I/O).
 */
final class MemoryWrites {
    private MemoryWrites() {}

    static boolean possible(Insn in) {
        return switch (in.op) {
            // read memory at most
            case Op.NOP, Op.PAUSE, Op.LEA, Op.MOV_R_RM, Op.MOVZX, Op.MOVSX, Op.TEST_RM_R, Op.TEST_RM_I, Op.ALU_R_RM,
                    Op.IMUL_R_RM, Op.IMUL_R_RM_I, Op.CBW, Op.CWD, Op.CMOVCC, Op.BSF, Op.BSR, Op.TZCNT, Op.LZCNT, Op.POPCNT,
                    Op.BSWAP, Op.POP_R, Op.JCC, Op.JMP_REL, Op.JMP_RM, Op.RET, Op.RET_I, Op.LOOP, Op.JRCXZ, Op.LEAVE,
                    Op.CLC, Op.STC, Op.CMC, Op.CLD, Op.STD, Op.LAHF, Op.SAHF, Op.LODS, Op.SCAS, Op.CMPS,
                    Op.MUL, Op.IMUL1, Op.DIV, Op.IDIV -> false;
            // CMP and BT only read their memory operand
            case Op.ALU_RM_R, Op.ALU_RM_I -> in.mem && in.ext != Arithmetic.CMP;
            case Op.BT_R, Op.BT_I -> in.mem && in.ext != 0;
            // write their r/m operand: memory only in the memory form
            case Op.MOV_RM_R, Op.MOV_RM_I, Op.INC, Op.DEC, Op.NEG, Op.NOT, Op.SHIFT_I, Op.SHIFT_CL, Op.SHLD, Op.SHRD, Op.SETCC,
                    Op.XCHG, Op.XADD, Op.CMPXCHG -> in.mem;
            default -> true;
        };
    }
}
