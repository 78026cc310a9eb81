package dev.lbrvmm.vmm.cpu;

/**
 * The reference executor: one line per operation, each sending the decoded instruction to the
 * family that holds its semantics. Every operation the decoder produces runs here; the
 * specialized {@link Handlers} of common forms are checked against it (ExecutorEquivalenceTest).
 * The operations are a table of method references, so translated code calls an operation's
 * family method directly (a constant receiver the JVM inlines) instead of this dispatch.
 */
final class Executor {
    private Executor() {}

    /** What one operation does: a family's reference implementation. */
    @FunctionalInterface
    interface Semantics {
        void exec(Cpu c, Insn in);
    }

    private static final Semantics[] BY_OP = new Semantics[Op.COUNT];

    static {
        for (int op = 0; op < Op.COUNT; op++) {
            BY_OP[op] = of(op);
        }
    }

    /** Runs any instruction through its family's reference implementation. */
    static final Handler REFERENCE = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            Executor.exec(c, in);
        }
    };

    static void exec(Cpu c, Insn in) {
        BY_OP[in.op].exec(c, in);
    }

    /** The reference implementation of an operation (one of {@link Op}). */
    static Semantics semantics(int op) {
        return BY_OP[op];
    }

    private static Semantics of(int op) {
        return switch (op) {
            case Op.NOP, Op.PAUSE -> (c, in) -> { };
            case Op.MOV_R_RM -> DataTransfer::movRRm;
            case Op.MOV_RM_R -> DataTransfer::movRmR;
            case Op.MOV_RM_I -> DataTransfer::movRmI;
            case Op.ALU_RM_R -> Arithmetic::aluRmR;
            case Op.ALU_R_RM -> Arithmetic::aluRRm;
            case Op.ALU_RM_I -> Arithmetic::aluRmI;
            case Op.TEST_RM_R -> Arithmetic::testRmR;
            case Op.TEST_RM_I -> Arithmetic::testRmI;
            case Op.MOVZX -> DataTransfer::movzx;
            case Op.MOVSX -> DataTransfer::movsx;
            case Op.LEA -> DataTransfer::lea;
            case Op.IMUL_R_RM -> MulDiv::imulRRm;
            case Op.IMUL_R_RM_I -> MulDiv::imulRRmI;
            case Op.SHIFT_I -> Shifts::shiftImm;
            case Op.SETCC -> DataTransfer::setcc;
            case Op.CMOVCC -> DataTransfer::cmov;
            case Op.PUSH_R -> DataTransfer::pushR;
            case Op.POP_R -> DataTransfer::popR;
            case Op.JCC -> ControlFlow::jcc;
            case Op.JMP_REL -> ControlFlow::jmpRel;
            case Op.JMP_RM -> ControlFlow::jmpIndirect;
            case Op.CALL_REL -> ControlFlow::callRel;
            case Op.CALL_RM -> ControlFlow::callIndirect;
            case Op.NEG -> Arithmetic::neg;
            case Op.NOT -> Arithmetic::not;
            case Op.XADD -> Arithmetic::xadd;
            case Op.CMPXCHG -> Arithmetic::cmpxchg;
            case Op.DIV -> MulDiv::div;
            case Op.IDIV -> MulDiv::idiv;
            case Op.CBW -> DataTransfer::cbw;
            case Op.CWD -> DataTransfer::cwd;
            case Op.XCHG -> DataTransfer::xchg;
            case Op.BSWAP -> DataTransfer::bswap;
            case Op.PUSH_I -> DataTransfer::pushI;
            case Op.PUSH_RM -> DataTransfer::pushRm;
            case Op.POP_RM -> DataTransfer::popRm;
            case Op.SHIFT_CL -> Shifts::shiftCl;
            case Op.POPCNT -> BitOps::popcnt;
            case Op.LOOP -> ControlFlow::loop;
            case Op.JRCXZ -> ControlFlow::jrcxz;
            case Op.LEAVE -> ControlFlow::leave;
            case Op.ENTER -> ControlFlow::enter;
            case Op.PUSHF -> FlagOps::pushf;
            case Op.POPF -> FlagOps::popf;
            case Op.CLC -> FlagOps::clc;
            case Op.STC -> FlagOps::stc;
            case Op.CMC -> FlagOps::cmc;
            case Op.CLD -> FlagOps::cld;
            case Op.STD -> FlagOps::std;
            case Op.CLI -> FlagOps::cli;
            case Op.STI -> FlagOps::sti;
            case Op.LAHF -> FlagOps::lahf;
            case Op.SAHF -> FlagOps::sahf;
            case Op.CPUID -> SystemOps::cpuid;
            case Op.RDMSR -> SystemOps::rdmsr;
            case Op.WRMSR -> SystemOps::wrmsr;
            case Op.RDPMC -> SystemOps::rdpmc;
            case Op.HLT -> SystemOps::hlt;
            case Op.IN -> SystemOps::in;
            case Op.OUT -> SystemOps::out;
            case Op.OUTS -> SystemOps::outs;
            case Op.MOV_FROM_CR -> SystemOps::movFromCr;
            case Op.MOV_TO_CR -> SystemOps::movToCr;
            case Op.MOV_FROM_SEG -> SystemOps::movFromSeg;
            case Op.MOV_TO_SEG -> SystemOps::movToSeg;
            case Op.SWAPGS -> SystemOps::swapgs;
            case Op.SYSCALL -> SystemOps::syscall;
            case Op.SYSRET -> SystemOps::sysret;
            case Op.IRET -> Interrupts::iret;
            case Op.FETCH_FAULT -> (c, in) -> {
                throw c.fetchFault(in.disp);
            };
            case Op.JMP_FAR -> ProtectedMode::jmpFar;
            case Op.JMP_FAR_M -> ProtectedMode::jmpFarIndirect;
            case Op.RET_FAR -> ProtectedMode::retFar;
            case Op.LTR -> ProtectedMode::ltr;
            case Op.STR -> ProtectedMode::str;
            case Op.SLDT -> ProtectedMode::sldt;
            case Op.LLDT -> ProtectedMode::lldt;
            case Op.INVLPG -> SystemOps::invlpg;
            case Op.X87 -> X87::exec;
            case Op.TOO_LONG -> (c, in) -> {
                throw CpuFault.gp();
            };
            case Op.INC, Op.DEC -> Arithmetic::incDec;
            case Op.RET, Op.RET_I -> ControlFlow::ret;
            case Op.MUL, Op.IMUL1 -> MulDiv::mulWide;
            case Op.SHLD, Op.SHRD -> Shifts::doubleShift;
            case Op.BT_R, Op.BT_I -> BitOps::bitTest;
            case Op.BSF, Op.BSR -> BitOps::bitScan;
            case Op.TZCNT, Op.LZCNT -> BitOps::count;
            case Op.MOVS, Op.STOS, Op.LODS, Op.SCAS, Op.CMPS -> StringOps::exec;
            case Op.RDTSC, Op.RDTSCP -> SystemOps::rdtsc;
            case Op.LIDT, Op.LGDT -> SystemOps::loadDescriptorTable;
            case Op.SIDT, Op.SGDT -> SystemOps::storeDescriptorTable;
            case Op.INT3, Op.INT -> Interrupts::softwareInterrupt;
            default -> (c, in) -> {
                throw CpuFault.ud();
            };
        };
    }
}
