package dev.lbrvmm.vmm.cpu;

/**
 * Near control transfers: Jcc, JMP, CALL, RET, LOOP/LOOPcc, JRCXZ, and the procedure-frame
 * instructions ENTER and LEAVE. Every taken branch goes to {@link Cpu#branch} with its LBR class;
 * every not-taken conditional to {@link Cpu#notTaken}. Far transfers (INT, IRET, SYSCALL,
 * SYSRET, exceptions) live with {@link Interrupts} and {@link SystemOps}.
 */
final class ControlFlow {
    private ControlFlow() {}

    /** LOOP kinds (opcodes E0-E2). */
    static final int LOOPNE = 0, LOOPE = 1, LOOP = 2;

    static void jcc(Cpu c, Insn in) {
        if (LazyFlags.cond(c, in.ext)) {
            taken(c, in, in.target, BranchKind.K_CONDITIONAL);
        } else {
            notTaken(c, in);
        }
    }

    static void jmpRel(Cpu c, Insn in) {
        taken(c, in, in.target, BranchKind.K_NEAR_REL_JMP);
    }

    static void jmpIndirect(Cpu c, Insn in) {
        taken(c, in, canonicalTarget(c.readRm(in)), BranchKind.K_NEAR_IND_JMP);
    }

    /**
     * An indirect branch target must be canonical: otherwise #GP at the branch itself (its RIP,
     * nothing retired, no LBR record), not #PF at the target (SDM: JMP/CALL/RET "If the target
     * offset is not canonical"). 32-bit targets are zero-extended and always canonical.
     */
    static long canonicalTarget(long t) {
        if ((t << 16 >> 16) != t) {
            throw CpuFault.gp();
        }
        return t;
    }

    static void callRel(Cpu c, Insn in) {
        c.push(in.next, in.size);
        taken(c, in, in.target, BranchKind.K_NEAR_REL_CALL);
    }

    static void callIndirect(Cpu c, Insn in) {
        long t = canonicalTarget(c.readRm(in));
        c.push(in.next, in.size);
        taken(c, in, t, BranchKind.K_NEAR_IND_CALL);
    }

    /** RET and RET imm16 (which releases imm16 bytes of arguments). */
    static void ret(Cpu c, Insn in) {
        long t = canonicalTarget(c.load(c.stackAddress(c.r[Cpu.RSP]), in.size)); // RSP changes only if the return can happen
        c.r[Cpu.RSP] += in.size + in.imm;
        taken(c, in, t, BranchKind.K_NEAR_RET);
    }

    static void loop(Cpu c, Insn in) {
        // With a 0x67 prefix the count is ECX (written back zero-extended).
        long count = in.addr32 ? (c.r[Cpu.RCX] - 1) & 0xFFFF_FFFFL : c.r[Cpu.RCX] - 1;
        c.r[Cpu.RCX] = count;
        boolean take = count != 0 && (in.ext == LOOP || (in.ext == LOOPE) == LazyFlags.zf(c));
        if (take) {
            taken(c, in, in.target, BranchKind.K_CONDITIONAL);
        } else {
            notTaken(c, in);
        }
    }

    static void jrcxz(Cpu c, Insn in) {
        long count = in.addr32 ? c.r[Cpu.RCX] & 0xFFFF_FFFFL : c.r[Cpu.RCX];
        if (count == 0) {
            taken(c, in, in.target, BranchKind.K_CONDITIONAL);
        } else {
            notTaken(c, in);
        }
    }

    static void leave(Cpu c, Insn in) {
        if (in.size == 4) { // 32-bit mode: ESP = EBP; EBP = pop()
            long v = c.load(c.r[Cpu.RBP] & 0xFFFF_FFFFL, 4);
            c.r[Cpu.RSP] = (c.r[Cpu.RBP] + 4) & 0xFFFF_FFFFL;
            c.r[Cpu.RBP] = v;
            return;
        }
        long v = c.load(c.r[Cpu.RBP], 8);
        c.r[Cpu.RSP] = c.r[Cpu.RBP] + 8;
        c.r[Cpu.RBP] = v;
    }

    static void enter(Cpu c, Insn in) {
        long[] r = c.r;
        int level = (int) in.imm2;
        c.push(r[Cpu.RBP], 8);
        long frame = r[Cpu.RSP];
        if (level > 0) {
            long bp = r[Cpu.RBP];
            for (int k = 1; k < level; k++) {
                bp -= 8;
                c.push(c.load(bp, 8), 8);
            }
            c.push(frame, 8);
        }
        r[Cpu.RBP] = frame;
        r[Cpu.RSP] -= in.imm;
    }

    private static void taken(Cpu c, Insn in, long target, int kind) {
        c.rip = target;
        c.branch(in.rip, target, kind);
    }

    private static void notTaken(Cpu c, Insn in) {
        c.rip = in.next;
        c.notTaken(in.rip);
    }

    // ------------------------------------------------------------------ fast forms

    /** The handler for a control-flow form, or null when the reference executor runs it. */
    static Handler select(Insn in) {
        boolean mode64 = in.size == 8;
        return switch (in.op) {
            case Op.JCC -> JCC;
            case Op.JMP_REL -> JMP_REL;
            case Op.JMP_RM -> in.mem || !mode64 ? null : JMP_R;
            case Op.CALL_REL -> mode64 ? CALL_REL : null;
            case Op.RET -> mode64 ? RET : null;
            default -> null;
        };
    }

    static final Handler JCC = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            jcc(c, in);
        }
    };
    static final Handler JMP_REL = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            jmpRel(c, in);
        }
    };
    static final Handler JMP_R = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            taken(c, in, canonicalTarget(c.r[in.rm]), BranchKind.K_NEAR_IND_JMP);
        }
    };
    static final Handler CALL_REL = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            callRel(c, in);
        }
    };
    /** RET without an immediate. */
    static final Handler RET = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            ret(c, in);
        }
    };
}
