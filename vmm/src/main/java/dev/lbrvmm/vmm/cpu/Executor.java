package dev.lbrvmm.vmm.cpu;

/**
 * The reference executor: one line per operation, each sending the decoded instruction to the
 * family that holds its semantics. Every operation the decoder produces runs here; the
 * specialized {@link Handlers} of common forms are checked against it (ExecutorEquivalenceTest).
 * Split in two switches so the common half stays small enough for the JIT to inline into.
 */
final class Executor {
    private Executor() {}

    /** Runs any instruction through its family's reference implementation. */
    static final Handler REFERENCE = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            Executor.exec(c, in);
        }
    };

    static void exec(Cpu c, Insn in) {
        switch (in.op) {
            case Op.NOP, Op.PAUSE -> { }
            case Op.MOV_R_RM -> DataTransfer.movRRm(c, in);
            case Op.MOV_RM_R -> DataTransfer.movRmR(c, in);
            case Op.MOV_RM_I -> DataTransfer.movRmI(c, in);
            case Op.ALU_RM_R -> Arithmetic.aluRmR(c, in);
            case Op.ALU_R_RM -> Arithmetic.aluRRm(c, in);
            case Op.ALU_RM_I -> Arithmetic.aluRmI(c, in);
            case Op.TEST_RM_R -> Arithmetic.testRmR(c, in);
            case Op.TEST_RM_I -> Arithmetic.testRmI(c, in);
            case Op.MOVZX -> DataTransfer.movzx(c, in);
            case Op.MOVSX -> DataTransfer.movsx(c, in);
            case Op.LEA -> DataTransfer.lea(c, in);
            case Op.INC, Op.DEC -> Arithmetic.incDec(c, in);
            case Op.IMUL_R_RM -> MulDiv.imulRRm(c, in);
            case Op.IMUL_R_RM_I -> MulDiv.imulRRmI(c, in);
            case Op.SHIFT_I -> Shifts.shiftImm(c, in);
            case Op.SETCC -> DataTransfer.setcc(c, in);
            case Op.CMOVCC -> DataTransfer.cmov(c, in);
            case Op.PUSH_R -> DataTransfer.pushR(c, in);
            case Op.POP_R -> DataTransfer.popR(c, in);
            case Op.JCC -> ControlFlow.jcc(c, in);
            case Op.JMP_REL -> ControlFlow.jmpRel(c, in);
            case Op.JMP_RM -> ControlFlow.jmpIndirect(c, in);
            case Op.CALL_REL -> ControlFlow.callRel(c, in);
            case Op.CALL_RM -> ControlFlow.callIndirect(c, in);
            case Op.RET, Op.RET_I -> ControlFlow.ret(c, in);
            default -> execRare(c, in);
        }
    }

    private static void execRare(Cpu c, Insn in) {
        switch (in.op) {
            case Op.NEG -> Arithmetic.neg(c, in);
            case Op.NOT -> Arithmetic.not(c, in);
            case Op.XADD -> Arithmetic.xadd(c, in);
            case Op.CMPXCHG -> Arithmetic.cmpxchg(c, in);
            case Op.MUL, Op.IMUL1 -> MulDiv.mulWide(c, in);
            case Op.DIV -> MulDiv.div(c, in);
            case Op.IDIV -> MulDiv.idiv(c, in);
            case Op.CBW -> DataTransfer.cbw(c, in);
            case Op.CWD -> DataTransfer.cwd(c, in);
            case Op.XCHG -> DataTransfer.xchg(c, in);
            case Op.BSWAP -> DataTransfer.bswap(c, in);
            case Op.PUSH_I -> DataTransfer.pushI(c, in);
            case Op.PUSH_RM -> DataTransfer.pushRm(c, in);
            case Op.POP_RM -> DataTransfer.popRm(c, in);
            case Op.SHIFT_CL -> Shifts.shiftCl(c, in);
            case Op.SHLD, Op.SHRD -> Shifts.doubleShift(c, in);
            case Op.BT_R, Op.BT_I -> BitOps.bitTest(c, in);
            case Op.BSF, Op.BSR -> BitOps.bitScan(c, in);
            case Op.TZCNT, Op.LZCNT -> BitOps.count(c, in);
            case Op.POPCNT -> BitOps.popcnt(c, in);
            case Op.LOOP -> ControlFlow.loop(c, in);
            case Op.JRCXZ -> ControlFlow.jrcxz(c, in);
            case Op.LEAVE -> ControlFlow.leave(c, in);
            case Op.ENTER -> ControlFlow.enter(c, in);
            case Op.MOVS, Op.STOS, Op.LODS, Op.SCAS, Op.CMPS -> StringOps.exec(c, in);
            case Op.PUSHF -> FlagOps.pushf(c, in);
            case Op.POPF -> FlagOps.popf(c, in);
            case Op.CLC -> FlagOps.clc(c, in);
            case Op.STC -> FlagOps.stc(c, in);
            case Op.CMC -> FlagOps.cmc(c, in);
            case Op.CLD -> FlagOps.cld(c, in);
            case Op.STD -> FlagOps.std(c, in);
            case Op.CLI -> FlagOps.cli(c, in);
            case Op.STI -> FlagOps.sti(c, in);
            case Op.LAHF -> FlagOps.lahf(c, in);
            case Op.SAHF -> FlagOps.sahf(c, in);
            case Op.CPUID -> SystemOps.cpuid(c, in);
            case Op.RDMSR -> SystemOps.rdmsr(c, in);
            case Op.WRMSR -> SystemOps.wrmsr(c, in);
            case Op.RDTSC, Op.RDTSCP -> SystemOps.rdtsc(c, in);
            case Op.RDPMC -> SystemOps.rdpmc(c, in);
            case Op.HLT -> SystemOps.hlt(c, in);
            case Op.IN -> SystemOps.in(c, in);
            case Op.OUT -> SystemOps.out(c, in);
            case Op.OUTS -> SystemOps.outs(c, in);
            case Op.LIDT, Op.LGDT -> SystemOps.loadDescriptorTable(c, in);
            case Op.SIDT, Op.SGDT -> SystemOps.storeDescriptorTable(c, in);
            case Op.MOV_FROM_CR -> SystemOps.movFromCr(c, in);
            case Op.MOV_TO_CR -> SystemOps.movToCr(c, in);
            case Op.MOV_FROM_SEG -> SystemOps.movFromSeg(c, in);
            case Op.MOV_TO_SEG -> SystemOps.movToSeg(c, in);
            case Op.SWAPGS -> SystemOps.swapgs(c, in);
            case Op.SYSCALL -> SystemOps.syscall(c, in);
            case Op.SYSRET -> SystemOps.sysret(c, in);
            case Op.INT3, Op.INT -> Interrupts.softwareInterrupt(c, in);
            case Op.IRET -> Interrupts.iret(c, in);
            case Op.FETCH_FAULT -> throw c.fetchFault(in.disp);
            case Op.JMP_FAR -> ProtectedMode.jmpFar(c, in);
            case Op.JMP_FAR_M -> ProtectedMode.jmpFarIndirect(c, in);
            case Op.RET_FAR -> ProtectedMode.retFar(c, in);
            case Op.LTR -> ProtectedMode.ltr(c, in);
            case Op.STR -> ProtectedMode.str(c, in);
            case Op.SLDT -> ProtectedMode.sldt(c, in);
            case Op.LLDT -> ProtectedMode.lldt(c, in);
            case Op.INVLPG -> SystemOps.invlpg(c, in);
            case Op.X87 -> X87.exec(c, in);
            case Op.TOO_LONG -> throw CpuFault.gp();
            default -> throw CpuFault.ud();
        }
    }
}
