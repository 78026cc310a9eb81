package dev.lbrvmm.vmm.cpu;

import static org.objectweb.asm.Opcodes.AALOAD;
import static org.objectweb.asm.Opcodes.ACC_FINAL;
import static org.objectweb.asm.Opcodes.ACC_PUBLIC;
import static org.objectweb.asm.Opcodes.ACC_STATIC;
import static org.objectweb.asm.Opcodes.ACC_SUPER;
import static org.objectweb.asm.Opcodes.ALOAD;
import static org.objectweb.asm.Opcodes.ASM9;
import static org.objectweb.asm.Opcodes.ASTORE;
import static org.objectweb.asm.Opcodes.ATHROW;
import static org.objectweb.asm.Opcodes.DUP2;
import static org.objectweb.asm.Opcodes.GETFIELD;
import static org.objectweb.asm.Opcodes.GOTO;
import static org.objectweb.asm.Opcodes.H_INVOKESTATIC;
import static org.objectweb.asm.Opcodes.IAND;
import static org.objectweb.asm.Opcodes.IFEQ;
import static org.objectweb.asm.Opcodes.IFGE;
import static org.objectweb.asm.Opcodes.IFGT;
import static org.objectweb.asm.Opcodes.IFLE;
import static org.objectweb.asm.Opcodes.IFLT;
import static org.objectweb.asm.Opcodes.IFNE;
import static org.objectweb.asm.Opcodes.ILOAD;
import static org.objectweb.asm.Opcodes.INVOKEINTERFACE;
import static org.objectweb.asm.Opcodes.INVOKESPECIAL;
import static org.objectweb.asm.Opcodes.INVOKESTATIC;
import static org.objectweb.asm.Opcodes.INVOKEVIRTUAL;
import static org.objectweb.asm.Opcodes.ISTORE;
import static org.objectweb.asm.Opcodes.L2I;
import static org.objectweb.asm.Opcodes.LADD;
import static org.objectweb.asm.Opcodes.LALOAD;
import static org.objectweb.asm.Opcodes.LASTORE;
import static org.objectweb.asm.Opcodes.LCMP;
import static org.objectweb.asm.Opcodes.LCONST_0;
import static org.objectweb.asm.Opcodes.LLOAD;
import static org.objectweb.asm.Opcodes.LRETURN;
import static org.objectweb.asm.Opcodes.LSTORE;
import static org.objectweb.asm.Opcodes.LSUB;
import static org.objectweb.asm.Opcodes.POP2;
import static org.objectweb.asm.Opcodes.POP;
import static org.objectweb.asm.Opcodes.PUTFIELD;
import static org.objectweb.asm.Opcodes.RETURN;
import static org.objectweb.asm.Opcodes.V17;

import java.lang.constant.ConstantDescs;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.ConstantDynamic;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Type;

/**
 * Translates a region of decoded blocks into a {@link CompiledRegion}: one hidden class (not
 * strongly reachable from its loader, so the GC unloads it once its entry block is gone) whose
 * {@code run} holds every block of the region, with the jumps between them as Java control flow.
 * The common forms are written out with constant operands, registers and flags in locals
 * ({@link InstructionEmitter}); every other instruction calls its handler or family method, loaded
 * with its {@link Insn} as dynamic constants from the class data: a constant receiver lets the JVM
 * inline it, so there is no per-instruction dispatch and no per-block trip through the run loop.
 * What the region adds (when it looks at exits, interrupts, the budget and overwritten code) keeps
 * the run loop's results exactly (see {@link CompiledRegion} and docs/jit.md).
 */
final class RegionCompiler {
    /** Bounds that keep a region's method under the JVM's size limits for compiling and inlining. */
    static final int MAX_BLOCKS = 16, MAX_INSNS = 160;

    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    private static final String SELF = Type.getInternalName(RegionCompiler.class).replace("RegionCompiler", "TranslatedRegion");
    private static final String BASE = Type.getInternalName(CompiledRegion.class);
    private static final String CPU = Type.getInternalName(Cpu.class);
    private static final String INSN_DESC = Type.getDescriptor(Insn.class);
    private static final Handle CLASS_DATA_AT = new Handle(H_INVOKESTATIC, "java/lang/invoke/MethodHandles", "classDataAt",
            "(Ljava/lang/invoke/MethodHandles$Lookup;Ljava/lang/String;Ljava/lang/Class;I)Ljava/lang/Object;", false);
    // locals of run(Cpu c, long left, int entry)
    private static final int C = 1, LEFT = 2, ENTRY = 4, DONE = 5, K = 7, CUR = 8, NEXT = 9, THROWN = 11;
    // and InstructionEmitter's: the register array, pending flags (kind, size, a, b, res, aux), scratch
    private static final int REGS = 12, PKIND = 13, PSIZE = 14, FA = 15, FB = 17, FRES = 19, FAUX = 21, TA = 23, TB = 25, ADDR = 27;
    // the guest registers RAX..R15 (16 longs) and which of them are newer than Cpu.r at a fault
    private static final int GPR = 30, DIRTY = 62;
    // set when a branch hook's alarm ran: the next block is entered through its check
    private static final int ATTENTION = 63;
    // the retired count at entry: the CPU's is written when the region leaves or calls out (base + done)
    private static final int RETIRED_AT_ENTRY = 64;
    // the direct memory path (InstructionEmitter.loadMemory, storeMemory): guest RAM's first chunk, the
    // code-page table, whether paging is off, the chunk's length, an access's address
    private static final int CHUNK = 66, CODE_PAGES = 67, PAGING_OFF = 68, CHUNK_LENGTH = 69, MEM_ADDR = 71;
    // the header's one test: while DONE is at most this, the check has nothing to do (see the header)
    private static final int LIMIT = 73;
    // set when a store took the slow path (InstructionEmitter.mayHaveChangedCode)
    private static final int SLOW_STORE = 75;
    /**
     * Instructions between stop-request reads: the header is reached at least every region's 160
     * instructions, so reads are at most the run loop's bound apart (64 blocks of at most 64 instructions).
     */
    private static final long STOP_INSNS = (long) Cpu.STOP_CHECK_INTERVAL * Block.MAX_INSNS - MAX_INSNS;

    private RegionCompiler() {}

    /**
     * A block a region may continue into: no instruction that changes what the run loop must look
     * at between blocks in ways a region cannot see (interrupt flag, mode, translation, devices,
     * exits to the VMM). Such blocks run as a region's first block only, with nothing after them.
     */
    static boolean chainable(Block b) {
        for (Insn in : b.insns) {
            boolean ok = switch (in.op) {
                case Op.POPF, Op.STI, Op.CLI, Op.CPUID, Op.RDMSR, Op.WRMSR, Op.RDTSC, Op.RDTSCP, Op.RDPMC, Op.HLT, Op.IN, Op.OUT,
                        Op.OUTS, Op.INT3, Op.INT, Op.IRET, Op.SYSCALL, Op.SYSRET, Op.LIDT, Op.LGDT, Op.SIDT, Op.SGDT,
                        Op.MOV_FROM_CR, Op.MOV_TO_CR, Op.MOV_FROM_SEG, Op.MOV_TO_SEG, Op.SWAPGS, Op.JMP_FAR, Op.JMP_FAR_M,
                        Op.RET_FAR, Op.LTR, Op.STR, Op.SLDT, Op.LLDT, Op.INVLPG, Op.UD, Op.FETCH_FAULT, Op.TOO_LONG -> false;
                default -> true;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** The addresses control may go to from {@code b} that a region can know (direct branches and fall-through). */
    static long[] successors(Block b) {
        Insn last = b.insns[b.insns.length - 1];
        if (!last.branch) {
            return new long[] {last.next};
        }
        return switch (last.op) {
            case Op.JCC, Op.LOOP, Op.JRCXZ -> new long[] {last.target, last.next};
            case Op.JMP_REL, Op.CALL_REL -> new long[] {last.target};
            default -> new long[0]; // indirect jumps, calls and returns: the run loop looks the target up
        };
    }

    /** The translation of {@code blocks}, entered at the first. */
    static CompiledRegion compile(List<Block> blocks) {
        List<Object> data = new ArrayList<>();
        Insn[][] code = new Insn[blocks.size()][];
        for (int j = 0; j < blocks.size(); j++) {
            code[j] = blocks.get(j).insns;
            for (Insn in : code[j]) {
                data.add(callee(in));
                data.add(in);
            }
        }
        data.add(code);
        try {
            MethodHandles.Lookup hidden = LOOKUP.defineHiddenClassWithClassData(emit(blocks), List.copyOf(data), true);
            return (CompiledRegion) hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (Throwable e) {
            throw new IllegalStateException("translating the region at 0x" + Long.toHexString(blocks.get(0).rip) + " failed: " + e, e);
        }
    }

    private static ConstantDynamic classData(Class<?> type, int index) {
        return new ConstantDynamic(ConstantDescs.DEFAULT_NAME, Type.getDescriptor(type), CLASS_DATA_AT, index);
    }

    static byte[] emit(List<Block> blocks) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS) {
            @Override
            protected String getCommonSuperClass(String a, String b) {
                return "java/lang/Object"; // only Throwables meet, at the handler: no class loading while translating
            }
        };
        cw.visit(V17, ACC_FINAL | ACC_SUPER, SELF, null, BASE, null);
        MethodVisitor init = cw.visitMethod(ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(ALOAD, 0);
        init.visitLdcInsn(instructions(blocks));
        init.visitMethodInsn(INVOKESPECIAL, BASE, "<init>", "(I)V", false);
        init.visitInsn(RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();

        // Twice: the first emission (thrown away) finds the registers the region's own code reads and
        // writes; only those get locals in the second (InstructionEmitter.useOnly).
        long masks = run(new MethodVisitor(ASM9) {}, blocks, InstructionEmitter.ALL, InstructionEmitter.ALL);
        run(cw.visitMethod(0, "run", "(L" + CPU + ";JI)J", null, null), blocks, (int) masks, (int) (masks >>> 32));
        // Resolve every constant when the class is initialized: the JVM's compilers give up on a
        // method with an unresolved dynamic constant, and a cold block's or the fault path's would be.
        MethodVisitor clinit = cw.visitMethod(ACC_STATIC, "<clinit>", "()V", null, null);
        clinit.visitCode();
        int k = 0;
        for (Block b : blocks) {
            for (int t = 0; t < b.insns.length; t++) {
                clinit.visitLdcInsn(classData(calleeType(b.insns[t]), k++));
                clinit.visitInsn(POP);
                clinit.visitLdcInsn(classData(Insn.class, k++));
                clinit.visitInsn(POP);
            }
        }
        clinit.visitLdcInsn(classData(Insn[][].class, k));
        clinit.visitInsn(POP);
        clinit.visitInsn(RETURN);
        clinit.visitMaxs(0, 0);
        clinit.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }

    /** Emits run(Cpu, long, int) giving locals to {@code used} registers; returns the registers written (high half) and touched. */
    private static long run(MethodVisitor mv, List<Block> blocks, int used, int mayWrite) {
        int nb = blocks.size();
        int total = instructions(blocks);
        Label[] body = new Label[nb];
        for (int j = 0; j < nb; j++) {
            body[j] = new Label();
        }
        Label header = new Label(), dispatch = new Label();
        mv.visitCode();
        Label start = new Label(), end = new Label(), onThrow = new Label(), leave = new Label(), leaveSynced = new Label();
        mv.visitTryCatchBlock(start, end, onThrow, "java/lang/RuntimeException");
        mv.visitInsn(LCONST_0);
        mv.visitVarInsn(LSTORE, DONE);
        mv.visitLdcInsn(0);
        mv.visitVarInsn(ISTORE, K);
        mv.visitLdcInsn(0);
        mv.visitVarInsn(ISTORE, CUR);
        mv.visitVarInsn(ALOAD, C);
        mv.visitFieldInsn(GETFIELD, CPU, "r", "[J");
        mv.visitVarInsn(ASTORE, REGS);
        mv.visitLdcInsn(-1);
        mv.visitVarInsn(ISTORE, PKIND);
        mv.visitLdcInsn(0);
        mv.visitVarInsn(ISTORE, PSIZE);
        mv.visitLdcInsn(0);
        mv.visitVarInsn(ISTORE, ATTENTION);
        mv.visitLdcInsn(0);
        mv.visitVarInsn(ISTORE, SLOW_STORE);
        setLimit(mv, total); // the run loop read the stop request and left at least total
        for (int local : new int[] {FA, FB, FRES, FAUX, TA, TB, ADDR}) {
            mv.visitInsn(LCONST_0);
            mv.visitVarInsn(LSTORE, local);
        }
        for (int n = 0; n < 16; n++) {
            if ((used & (1 << n)) == 0) {
                continue;
            }
            mv.visitVarInsn(ALOAD, REGS);
            mv.visitLdcInsn(n);
            mv.visitInsn(LALOAD);
            mv.visitVarInsn(LSTORE, GPR + 2 * n);
        }
        mv.visitLdcInsn(0);
        mv.visitVarInsn(ISTORE, DIRTY);
        mv.visitVarInsn(ALOAD, C);
        mv.visitFieldInsn(GETFIELD, CPU, "retired", "J");
        mv.visitVarInsn(LSTORE, RETIRED_AT_ENTRY);
        mv.visitVarInsn(ALOAD, C);
        mv.visitFieldInsn(GETFIELD, CPU, "rip", "J");
        mv.visitVarInsn(LSTORE, NEXT);
        InstructionEmitter.loadMemoryState(mv, C, CHUNK, CODE_PAGES, PAGING_OFF, CHUNK_LENGTH);
        mv.visitInsn(LCONST_0);
        mv.visitVarInsn(LSTORE, MEM_ADDR);
        InstructionEmitter emitter = new InstructionEmitter(mv, C, REGS, PKIND, PSIZE, FA, FB, FRES, FAUX, TA, TB, ADDR, GPR, DIRTY, ATTENTION, LIMIT,
                NEXT, RETIRED_AT_ENTRY, DONE, CHUNK, CODE_PAGES, PAGING_OFF, CHUNK_LENGTH, MEM_ADDR, SLOW_STORE);
        emitter.useOnly(used, mayWrite);
        mv.visitLabel(start);
        // the run loop checked the entry block already
        mv.visitVarInsn(ILOAD, ENTRY);
        mv.visitVarInsn(ISTORE, CUR);
        mv.visitJumpInsn(GOTO, dispatch);
        // The one check (see CompiledRegion), before the block CUR: every backward jump comes here,
        // so this is the only way into the region's cycles. The JVM's compiler then sees reducible
        // loops with one header, which it optimizes (invariant loads hoisted, registers kept) where
        // a jump into the middle of a cycle would defeat it. An exit or a deliverable interrupt can
        // only have come with a branch counter's alarm, which set ATTENTION.
        //
        // One test on the way through: DONE <= LIMIT, where LIMIT is the lower of the last budget
        // that leaves room for any unchecked path (LEFT - total) and the point where the stop request
        // is due again; an alarm sets it to Long.MIN_VALUE (InstructionEmitter.attention). Otherwise
        // the full check below, which sets LIMIT afresh.
        mv.visitLabel(header);
        mv.visitVarInsn(LLOAD, DONE);
        mv.visitVarInsn(LLOAD, LIMIT);
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFLE, dispatch);
        Label quiet = new Label();
        mv.visitVarInsn(ILOAD, ATTENTION);
        mv.visitJumpInsn(IFEQ, quiet);
        mv.visitVarInsn(ALOAD, C);
        mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "mustLeaveRegion", "()Z", false);
        mv.visitJumpInsn(IFNE, leave);
        mv.visitLabel(quiet);
        mv.visitVarInsn(ALOAD, C); // the volatile stop request (at most STOP_INSNS apart, or sooner)
        mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "stopRequested", "()Z", false);
        mv.visitJumpInsn(IFNE, leave);
        mv.visitVarInsn(LLOAD, LEFT);
        mv.visitVarInsn(LLOAD, DONE);
        mv.visitInsn(LSUB);
        mv.visitLdcInsn((long) total);
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFLT, leave); // not enough budget for any unchecked path: the run loop goes on block by block
        mv.visitLdcInsn(0);
        mv.visitVarInsn(ISTORE, ATTENTION);
        setLimit(mv, total);
        mv.visitLabel(dispatch);
        if (nb == 1) {
            mv.visitJumpInsn(GOTO, body[0]);
        } else {
            mv.visitVarInsn(ILOAD, CUR);
            mv.visitTableSwitchInsn(0, nb - 1, body[0], body);
        }
        int constant = 0;
        for (int j = 0; j < nb; j++) {
            Insn[] code = blocks.get(j).insns;
            int n = code.length;
            mv.visitLabel(body[j]);
            mv.visitLdcInsn(j);
            mv.visitVarInsn(ISTORE, CUR);
            emitter.startBlock(InstructionEmitter.ALL, n);
            boolean lastEmitted = false;
            for (int t = 0; t < n; t++) {
                mv.visitLdcInsn(t);
                mv.visitVarInsn(ISTORE, K);
                int handler = constant;
                constant += 2;
                emitter.startInstruction();
                lastEmitted = emitter.emit(code[t]);
                if (!lastEmitted) {
                    emitter.beforeHandler(); // the handler reads flags and registers from the CPU
                    emitter.syncBlock(); // and may read the retired count or report a branch
                    call(mv, code[t], handler);
                    emitter.afterHandler();
                    emitter.reloadMemoryState(); // it may have turned paging on or off
                    if (code[t].branch) { // it set RIP (OUTS too, which may stop part-way)
                        emitter.attention(); // a branch hook may have run the counter's alarm
                        mv.visitVarInsn(ALOAD, C);
                        mv.visitFieldInsn(GETFIELD, CPU, "rip", "J");
                        mv.visitVarInsn(LSTORE, NEXT);
                    }
                }
                if (code[t].mayWriteMemory && t < n - 1) {
                    // a store into decoded code ends the block right after it, as in the interpreter
                    Label same = new Label();
                    if (lastEmitted) {
                        emitter.mayHaveChangedCode(same);
                    }
                    mv.visitVarInsn(ALOAD, C);
                    mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "codeChanged", "()Z", false);
                    mv.visitJumpInsn(IFEQ, same);
                    emitter.writeBack();
                    emitter.writeBackRegisters();
                    retire(mv, t + 1);
                    mv.visitVarInsn(ALOAD, C);
                    mv.visitLdcInsn(code[t].next);
                    mv.visitFieldInsn(PUTFIELD, CPU, "rip", "J");
                    mv.visitJumpInsn(GOTO, leaveSynced); // the registers are in the CPU, some locals may be older
                    mv.visitLabel(same);
                }
            }
            emitter.endBlock(); // every register local current
            retire(mv, n);
            Insn last = code[n - 1];
            if (!last.branch) {
                mv.visitLdcInsn(last.next);
                mv.visitVarInsn(LSTORE, NEXT);
            }
            if (last.mayWriteMemory) {
                Label same = new Label();
                if (lastEmitted) {
                    emitter.mayHaveChangedCode(same);
                }
                mv.visitVarInsn(ALOAD, C);
                mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "codeChanged", "()Z", false);
                mv.visitJumpInsn(IFNE, leave);
                mv.visitLabel(same);
            }
            if (chainable(blocks.get(j))) {
                // on to the block at RIP if the region holds it: its direct successors first, then
                // (after an indirect jump, call or return) every other block of the region
                List<Integer> order = new ArrayList<>();
                for (long s : successors(blocks.get(j))) {
                    int to = indexOf(blocks, s);
                    if (to >= 0 && !order.contains(to)) {
                        order.add(to);
                    }
                }
                if (!direct(last)) {
                    for (int to = 0; to < nb; to++) {
                        if (!order.contains(to)) {
                            order.add(to);
                        }
                    }
                }
                List<Integer> targets = new ArrayList<>();
                for (int to : order) {
                    if (chainable(blocks.get(to))) {
                        targets.add(to);
                    }
                }
                if (!direct(last) && targets.size() > 4) {
                    lookup(mv, blocks, targets, j, header, body, leave); // after an indirect jump: a binary search
                } else {
                    for (int to : targets) {
                        mv.visitVarInsn(LLOAD, NEXT);
                        mv.visitLdcInsn(blocks.get(to).rip);
                        mv.visitInsn(LCMP);
                        Label other = new Label();
                        mv.visitJumpInsn(IFNE, other);
                        next(mv, to, j, header, body);
                        mv.visitLabel(other);
                    }
                }
            }
            mv.visitJumpInsn(GOTO, leave);
        }
        mv.visitLabel(end);
        mv.visitLabel(leave); // between blocks: every register local is current, the flags where the kind local says
        InstructionEmitter.writeBackPending(mv, C, PKIND, PSIZE, FA, FB, FRES, FAUX);
        for (int r = 0; r < 16; r++) {
            if ((mayWrite & (1 << r)) == 0) {
                continue; // its local, if any, only ever held the CPU's value
            }
            mv.visitVarInsn(ALOAD, REGS);
            mv.visitLdcInsn(r);
            mv.visitVarInsn(LLOAD, GPR + 2 * r);
            mv.visitInsn(LASTORE);
        }
        mv.visitVarInsn(ALOAD, C);
        mv.visitVarInsn(LLOAD, NEXT);
        mv.visitFieldInsn(PUTFIELD, CPU, "rip", "J");
        mv.visitLabel(leaveSynced);
        syncRetired(mv);
        mv.visitVarInsn(LLOAD, DONE);
        mv.visitInsn(LRETURN);
        mv.visitLabel(onThrow);
        mv.visitVarInsn(ASTORE, THROWN);
        // flags the faulting block had pending in locals: the CPU gets what the interpreter would have set
        InstructionEmitter.writeBackPending(mv, C, PKIND, PSIZE, FA, FB, FRES, FAUX);
        // and the registers the faulting instruction found newer in locals than in the CPU
        for (int r = 0; r < 16; r++) {
            if ((mayWrite & (1 << r)) == 0) {
                continue;
            }
            Label clean = new Label();
            mv.visitVarInsn(ILOAD, DIRTY);
            mv.visitLdcInsn(1 << r);
            mv.visitInsn(IAND);
            mv.visitJumpInsn(IFEQ, clean);
            mv.visitVarInsn(ALOAD, REGS);
            mv.visitLdcInsn(r);
            mv.visitVarInsn(LLOAD, GPR + 2 * r);
            mv.visitInsn(LASTORE);
            mv.visitLabel(clean);
        }
        syncRetired(mv); // the blocks before the faulting one retired
        mv.visitVarInsn(ALOAD, C);
        mv.visitVarInsn(ILOAD, K);
        mv.visitFieldInsn(PUTFIELD, CPU, "compiledFaultIndex", "I");
        mv.visitVarInsn(ALOAD, C);
        mv.visitVarInsn(LLOAD, DONE);
        mv.visitFieldInsn(PUTFIELD, CPU, "compiledDone", "J");
        mv.visitVarInsn(ALOAD, C);
        mv.visitLdcInsn(classData(Insn[][].class, constant));
        mv.visitVarInsn(ILOAD, CUR);
        mv.visitInsn(AALOAD);
        mv.visitFieldInsn(PUTFIELD, CPU, "compiledFaultCode", "[" + INSN_DESC);
        mv.visitVarInsn(ALOAD, THROWN);
        mv.visitInsn(ATHROW);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        return (long) emitter.written() << 32 | emitter.touched();
    }

    /**
     * What an instruction the emitter does not write out calls: its handler, or for an operation
     * without a specialized one, the operation's family method (not the reference executor's
     * dispatch, which is too large for the JVM to inline).
     */
    private static Object callee(Insn in) {
        return in.handler == Executor.REFERENCE ? Executor.semantics(in.op) : in.handler;
    }

    private static Class<?> calleeType(Insn in) {
        return in.handler == Executor.REFERENCE ? Executor.Semantics.class : Handler.class;
    }

    /** Calls the instruction's callee (class data {@code constant}) on the CPU and the instruction (class data {@code constant + 1}). */
    private static void call(MethodVisitor mv, Insn in, int constant) {
        boolean reference = in.handler == Executor.REFERENCE;
        Class<?> type = calleeType(in);
        mv.visitLdcInsn(classData(type, constant));
        mv.visitVarInsn(ALOAD, C);
        mv.visitLdcInsn(classData(Insn.class, constant + 1));
        String desc = "(L" + CPU + ";" + INSN_DESC + ")V";
        if (reference) {
            mv.visitMethodInsn(INVOKEINTERFACE, Type.getInternalName(type), "exec", desc, true);
        } else {
            mv.visitMethodInsn(INVOKEVIRTUAL, Type.getInternalName(type), "exec", desc, false);
        }
    }

    /** done += n (the CPU's count is written when the region leaves or calls out). */
    private static void retire(MethodVisitor mv, int n) {
        mv.visitVarInsn(LLOAD, DONE);
        mv.visitLdcInsn((long) n);
        mv.visitInsn(LADD);
        mv.visitVarInsn(LSTORE, DONE);
    }

    /** c.retired = the count at entry + done. */
    private static void syncRetired(MethodVisitor mv) {
        mv.visitVarInsn(ALOAD, C);
        mv.visitVarInsn(LLOAD, RETIRED_AT_ENTRY);
        mv.visitVarInsn(LLOAD, DONE);
        mv.visitInsn(LADD);
        mv.visitFieldInsn(PUTFIELD, CPU, "retired", "J");
    }

    /**
     * LIMIT = min(LEFT - total, DONE + STOP_INSNS): the header's one comparison passes while the
     * budget leaves room for any unchecked path and the stop request is not due.
     */
    private static void setLimit(MethodVisitor mv, int total) {
        mv.visitVarInsn(LLOAD, LEFT);
        mv.visitLdcInsn((long) total);
        mv.visitInsn(LSUB);
        mv.visitVarInsn(LLOAD, DONE);
        mv.visitLdcInsn(STOP_INSNS);
        mv.visitInsn(LADD);
        mv.visitMethodInsn(INVOKESTATIC, "java/lang/Math", "min", "(JJ)J", false);
        mv.visitVarInsn(LSTORE, LIMIT);
    }

    /** Where control goes after {@code last} is known from the code (a fall-through or a direct branch). */
    static boolean direct(Insn last) {
        return !last.branch || switch (last.op) {
            case Op.JCC, Op.LOOP, Op.JRCXZ, Op.JMP_REL, Op.CALL_REL -> true;
            default -> false;
        };
    }

    /** On to block {@code to} from block {@code from}: backward through the header's check, forward straight on unless an alarm ran. */
    private static void next(MethodVisitor mv, int to, int from, Label header, Label[] body) {
        Label checked = new Label();
        if (to > from) {
            // forward: no check unless an alarm ran (any path of forward jumps fits the budget)
            mv.visitVarInsn(ILOAD, ATTENTION);
            mv.visitJumpInsn(IFNE, checked);
            mv.visitJumpInsn(GOTO, body[to]);
        }
        mv.visitLabel(checked); // backward: every cycle passes the check, at the region's one header
        mv.visitLdcInsn(to);
        mv.visitVarInsn(ISTORE, CUR);
        mv.visitJumpInsn(GOTO, header);
    }

    /** Widest range of block offsets an indirect branch's dispatch covers with a tableswitch (4 bytes of bytecode each). */
    private static final int MAX_TABLE_SPAN = 1024;

    /** The block at RIP (NEXT) among {@code targets}, by a switch on its offset from the lowest; none: leave. */
    private static void lookup(MethodVisitor mv, List<Block> blocks, List<Integer> targets, int from, Label header, Label[] body,
            Label leave) {
        long base = Long.MAX_VALUE;
        for (int to : targets) {
            base = Math.min(base, blocks.get(to).rip);
        }
        List<Integer> sorted = new ArrayList<>(targets);
        sorted.sort((a, b) -> Long.compare(blocks.get(a).rip, blocks.get(b).rip));
        int[] keys = new int[sorted.size()];
        Label[] cases = new Label[sorted.size()];
        for (int k = 0; k < keys.length; k++) {
            keys[k] = (int) (blocks.get(sorted.get(k)).rip - base); // a region spans far less than 2 GiB
            cases[k] = new Label();
        }
        mv.visitVarInsn(LLOAD, NEXT);
        mv.visitLdcInsn(base);
        mv.visitInsn(LSUB);
        mv.visitInsn(DUP2);
        mv.visitLdcInsn((long) keys[keys.length - 1]);
        mv.visitInsn(LCMP);
        Label inRange = new Label(), outside = new Label();
        mv.visitJumpInsn(IFGT, outside);
        mv.visitInsn(DUP2);
        mv.visitInsn(LCONST_0);
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFGE, inRange);
        mv.visitLabel(outside);
        mv.visitInsn(POP2);
        mv.visitJumpInsn(GOTO, leave);
        mv.visitLabel(inRange);
        mv.visitInsn(L2I);
        int span = keys[keys.length - 1] + 1;
        if (span <= MAX_TABLE_SPAN) {
            // dense enough for a jump table: one indirect jump, as the guest's own dispatch (a
            // lookupswitch may become a tree of compares, each a branch the host mispredicts)
            Label[] table = new Label[span];
            java.util.Arrays.fill(table, leave);
            for (int k = 0; k < keys.length; k++) {
                table[keys[k]] = cases[k];
            }
            mv.visitTableSwitchInsn(0, span - 1, leave, table);
        } else {
            mv.visitLookupSwitchInsn(leave, keys, cases);
        }
        for (int k = 0; k < keys.length; k++) {
            mv.visitLabel(cases[k]);
            next(mv, sorted.get(k), from, header, body);
        }
    }

    /** Guest instructions in all the blocks. */
    static int instructions(List<Block> blocks) {
        int total = 0;
        for (Block b : blocks) {
            total += b.insns.length;
        }
        return total;
    }

    private static int indexOf(List<Block> blocks, long rip) {
        for (int j = 0; j < blocks.size(); j++) {
            if (blocks.get(j).rip == rip) {
                return j;
            }
        }
        return -1;
    }
}
