package dev.lbrvmm.vmm.cpu;

import static org.objectweb.asm.Opcodes.ALOAD;
import static org.objectweb.asm.Opcodes.DUP2;
import static org.objectweb.asm.Opcodes.GOTO;
import static org.objectweb.asm.Opcodes.I2L;
import static org.objectweb.asm.Opcodes.IFEQ;
import static org.objectweb.asm.Opcodes.IFGE;
import static org.objectweb.asm.Opcodes.IFGT;
import static org.objectweb.asm.Opcodes.IFLE;
import static org.objectweb.asm.Opcodes.IFLT;
import static org.objectweb.asm.Opcodes.IFNE;
import static org.objectweb.asm.Opcodes.ILOAD;
import static org.objectweb.asm.Opcodes.INVOKESTATIC;
import static org.objectweb.asm.Opcodes.INVOKEVIRTUAL;
import static org.objectweb.asm.Opcodes.ISTORE;
import static org.objectweb.asm.Opcodes.L2I;
import static org.objectweb.asm.Opcodes.LADD;
import static org.objectweb.asm.Opcodes.LALOAD;
import static org.objectweb.asm.Opcodes.LAND;
import static org.objectweb.asm.Opcodes.LASTORE;
import static org.objectweb.asm.Opcodes.LCMP;
import static org.objectweb.asm.Opcodes.LLOAD;
import static org.objectweb.asm.Opcodes.LMUL;
import static org.objectweb.asm.Opcodes.LOR;
import static org.objectweb.asm.Opcodes.LSHL;
import static org.objectweb.asm.Opcodes.LSHR;
import static org.objectweb.asm.Opcodes.LSTORE;
import static org.objectweb.asm.Opcodes.LSUB;
import static org.objectweb.asm.Opcodes.LUSHR;
import static org.objectweb.asm.Opcodes.LXOR;
import static org.objectweb.asm.Opcodes.POP2;
import static org.objectweb.asm.Opcodes.PUTFIELD;
import static org.objectweb.asm.Opcodes.IXOR;
import static org.objectweb.asm.Opcodes.IAND;
import static org.objectweb.asm.Opcodes.IFNONNULL;
import static org.objectweb.asm.Opcodes.AALOAD;
import static org.objectweb.asm.Opcodes.ARRAYLENGTH;
import static org.objectweb.asm.Opcodes.DUP;
import static org.objectweb.asm.Opcodes.ASTORE;
import static org.objectweb.asm.Opcodes.GETFIELD;

import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Type;

/**
 * Emits the bytecode of one instruction of a translated region with every operand a constant:
 * register numbers, operand size, immediates, displacements, branch targets and the ALU row are
 * folded into the code, where a handler reads them from its {@link Insn} at run time. Only the
 * common 32- and 64-bit forms are emitted here ({@link #emit} says false for the rest, which call
 * their handler as in the interpreter); what each one computes is the handler's own rule, written
 * again in bytecode, and {@code EngineEquivalenceTest}, {@code TranslatedRegionTest} and
 * {@code RandomProgramEquivalenceTest} hold the two to the same results.
 *
 * <p><b>Flags stay in locals.</b> A flag-setting instruction leaves its {@link LazyFlags} operands in
 * the region's locals; they are written to the CPU only when something else could look at them:
 * before a handler runs, before a condition this class cannot evaluate from the locals, when the
 * region leaves, and on a fault (the region's exception path writes back whatever is pending, so a
 * fault sees the flags the interpreter would have left). A Jcc after CMP or TEST compares the kept
 * operands directly, like {@link LazyFlags#cond}. Within a block the pending kind is known while
 * translating; across blocks two locals (kind, size) say it.
 *
 * <p><b>Guest registers stay in locals</b> too (loaded at region entry), tracked as dirty (newer
 * than {@code Cpu.r}) or stale (older, after a handler); they are written back before handlers, at
 * exits and, on a fault, those dirty when the faulting instruction started. Every instruction here
 * writes its registers only after the last point where it may fault. See docs/jit.md.
 */
final class InstructionEmitter {
    private static final String CPU = Type.getInternalName(Cpu.class);
    private static final String FLAGS = Type.getInternalName(LazyFlags.class);
    private static final String CONTROL = Type.getInternalName(ControlFlow.class);
    private static final String MEMORY = Type.getInternalName(GuestMemory.class);
    private static final String MEMORY_DESC = Type.getDescriptor(GuestMemory.class);
    private static final String PAGING = Type.getInternalName(Paging.class);
    private static final String PAGING_DESC = Type.getDescriptor(Paging.class);
    /** LazyFlags.restore(Cpu, kind, size, a, b, res, aux). */
    static final String RESTORE_DESC = "(L" + CPU + ";IIJJJJ)V";
    private static final long M32 = 0xFFFF_FFFFL;

    private final MethodVisitor mv;
    private final int c, regs, pkind, psize, fa, fb, fres, faux, ta, tb, addr, gpr, dirtyMask, attention, limit;
    /** Long locals: the RIP control goes to after the block, the retired count at the region's entry, instructions retired since. */
    private final int next, base, done;
    /**
     * The direct memory path's locals (GuestMemory.firstChunk): the first chunk (byte[]), the
     * code-page table (long[][]), 1 while paging is off (int), the chunk's length and the address
     * of the access (longs); an int set to 1 when a store took the slow path (Cpu.store), the only
     * one that may overwrite decoded code ({@link #mayHaveChangedCode}).
     */
    private final int chunk, codePages, pagingOff, chunkLength, memAddr, slowStore;
    /** Instructions in the block being emitted (what its branch hook counts). */
    private int blockLength;
    /** The LazyFlags kind whose operands are in the locals and not yet in the CPU, -1 (in the CPU) or UNKNOWN. */
    private int pending = -1;
    /** At a block's start: the kind local says (the blocks that may come before it leave different kinds). */
    private static final int UNKNOWN = -2;
    private int pendingSize;
    /** Guest registers (bit n: register n) whose local is newer than the CPU's array. */
    private int dirty;
    /** Guest registers whose local is older than the CPU's array (a handler may have written them). */
    private int stale;
    /** The value the dirty-mask local holds here, or -1 when not known (at a block's start). */
    private int maskStored = -1;
    static final int ALL = 0xFFFF;
    /**
     * Guest registers that have a local ({@link #useOnly}): the ones the region's emitted code
     * reads or writes. The others stay in the CPU's array, where handlers read and write them, so
     * they cost the region nothing (no load at entry, no store at exit, no reload after a handler,
     * and no register the JVM must keep live across the whole region).
     */
    private int used = ALL;
    /** Of those, the ones the emitted code may write: only these can be newer than the CPU's array. */
    private int mayWrite = ALL;
    /**
     * The registers the instructions emitted so far read or wrote, and wrote (not counting the
     * write-backs and reloads around handlers, which follow from these; RegionCompiler.emit's two passes).
     */
    private int touched, written;

    /**
     * @param c local holding the Cpu; {@code regs} its register array; {@code pkind, psize} ints and
     *     the rest longs (two slots each): pending flags for the exception path and scratch;
     *     {@code gpr} the first of 16 long locals holding the guest registers; {@code dirtyMask} an
     *     int saying, for the exception path, which of them are newer than the CPU's array;
     *     {@code next, base, done} longs: the RIP after the block, the retired count at entry and
     *     the instructions of the region's blocks before this one
     */
    InstructionEmitter(MethodVisitor mv, int c, int regs, int pkind, int psize, int fa, int fb, int fres, int faux, int ta, int tb, int addr,
            int gpr, int dirtyMask, int attention, int limit, int next, int base, int done, int chunk, int codePages, int pagingOff,
            int chunkLength, int memAddr, int slowStore) {
        this.chunk = chunk;
        this.codePages = codePages;
        this.pagingOff = pagingOff;
        this.chunkLength = chunkLength;
        this.memAddr = memAddr;
        this.slowStore = slowStore;
        this.next = next;
        this.base = base;
        this.done = done;
        this.gpr = gpr;
        this.attention = attention;
        this.limit = limit;
        this.dirtyMask = dirtyMask;
        this.mv = mv;
        this.c = c;
        this.regs = regs;
        this.pkind = pkind;
        this.psize = psize;
        this.fa = fa;
        this.fb = fb;
        this.fres = fres;
        this.faux = faux;
        this.ta = ta;
        this.tb = tb;
        this.addr = addr;
    }

    /** Emits {@code in} with constant operands; false when it is not a form this class knows (nothing emitted). */
    boolean emit(Insn in) {
        if (!supported(in)) {
            return false;
        }
        switch (in.op) {
            case Op.NOP -> { }
            case Op.MOV_R_RM -> {
                readRm(in, in.size);
                writeReg(in.reg, in.size);
            }
            case Op.MOV_RM_R -> {
                if (in.mem) {
                    ea(in);
                    mv.visitVarInsn(LSTORE, addr);
                }
                readReg(in.reg, in.size);
                writeRm(in);
            }
            case Op.MOV_RM_I -> {
                if (in.mem) {
                    ea(in);
                    mv.visitVarInsn(LSTORE, addr);
                }
                mv.visitLdcInsn(in.imm);
                writeRm(in);
            }
            case Op.MOVZX, Op.MOVSX -> {
                readRm(in, in.size2);
                if (in.op == Op.MOVSX) {
                    signExtend(in.size2);
                    mask(in.size);
                }
                writeReg(in.reg, in.size);
            }
            case Op.LEA -> {
                offset(in);
                if (in.size == 4 || in.addr32) {
                    mask(4);
                }
                writeReg(in.reg, 8);
            }
            case Op.ALU_RM_R, Op.ALU_RM_I, Op.TEST_RM_R, Op.TEST_RM_I -> {
                if (in.mem) {
                    ea(in);
                    mv.visitVarInsn(LSTORE, addr);
                }
                readRm(in, in.size);
                mv.visitVarInsn(LSTORE, ta);
                if (in.op == Op.ALU_RM_R || in.op == Op.TEST_RM_R) {
                    readReg(in.reg, in.size);
                } else {
                    mv.visitLdcInsn(in.imm);
                }
                mv.visitVarInsn(LSTORE, tb);
                int row = in.op == Op.TEST_RM_R || in.op == Op.TEST_RM_I ? Arithmetic.AND : in.ext;
                alu(row, in.size);
                if (in.op == Op.ALU_RM_R || in.op == Op.ALU_RM_I) {
                    if (Arithmetic.writesResult(row)) {
                        mv.visitVarInsn(LLOAD, fres);
                        writeRm(in);
                    }
                }
            }
            case Op.ALU_R_RM -> {
                readReg(in.reg, in.size);
                mv.visitVarInsn(LSTORE, ta);
                readRm(in, in.size);
                mv.visitVarInsn(LSTORE, tb);
                alu(in.ext, in.size);
                if (Arithmetic.writesResult(in.ext)) {
                    mv.visitVarInsn(LLOAD, fres);
                    writeReg(in.reg, in.size);
                }
            }
            case Op.INC, Op.DEC -> incDec(in);
            case Op.SHIFT_I -> shift(in);
            case Op.PUSH_R, Op.PUSH_I -> {
                if (in.op == Op.PUSH_R) {
                    readReg(in.reg, 8);
                } else {
                    mv.visitLdcInsn(in.imm);
                }
                push();
            }
            case Op.POP_R -> {
                pop(false);
                writeReg(in.reg, 8);
            }
            case Op.IMUL_R_RM, Op.IMUL_R_RM_I -> imul(in);
            case Op.JMP_REL -> {
                taken(in, in.target, BranchKind.K_NEAR_REL_JMP);
            }
            case Op.CALL_REL -> {
                mv.visitLdcInsn(in.next);
                push();
                taken(in, in.target, BranchKind.K_NEAR_REL_CALL);
            }
            case Op.CALL_RM -> { // ControlFlow.callIndirect: the target is read and checked before the push
                readRm(in, 8);
                canonical();
                mv.visitVarInsn(LSTORE, ta);
                mv.visitLdcInsn(in.next);
                push();
                takenTo(in, ta, BranchKind.K_NEAR_IND_CALL);
            }
            case Op.JMP_RM -> {
                readRm(in, 8);
                canonical();
                mv.visitVarInsn(LSTORE, ta);
                takenTo(in, ta, BranchKind.K_NEAR_IND_JMP);
            }
            case Op.RET -> {
                pop(true); // ControlFlow.ret: RSP moves only once the return address is read and canonical
                mv.visitVarInsn(LSTORE, ta);
                takenTo(in, ta, BranchKind.K_NEAR_RET);
            }
            case Op.JCC -> jcc(in);
            case Op.CMOVCC -> cmov(in);
            case Op.SETCC -> setcc(in);
            default -> throw new AssertionError(Op.name(in.op));
        }
        return true;
    }

    /** The forms {@link #emit} knows: 32- and 64-bit operands, no segment override, no AH..BH. */
    static boolean supported(Insn in) {
        boolean wide = in.size == 4 || in.size == 8;
        if (in.mem && in.seg != 0) {
            return false;
        }
        return switch (in.op) {
            case Op.NOP -> true;
            case Op.MOV_R_RM, Op.MOV_RM_R, Op.MOV_RM_I, Op.TEST_RM_R, Op.TEST_RM_I, Op.INC, Op.DEC -> wide;
            case Op.MOVZX, Op.MOVSX -> wide && (in.mem || in.rm < 16) && (in.size2 == 1 || in.size2 == 2 || in.size2 == 4);
            case Op.LEA -> wide;
            case Op.ALU_RM_R, Op.ALU_R_RM, Op.ALU_RM_I -> wide && in.ext != Arithmetic.ADC && in.ext != Arithmetic.SBB;
            case Op.SHIFT_I -> wide && !in.mem && (in.ext == Shifts.SHL || in.ext == Shifts.SAL || in.ext == Shifts.SHR || in.ext == Shifts.SAR
                    || in.ext == Shifts.ROL || in.ext == Shifts.ROR);
            case Op.PUSH_R, Op.POP_R, Op.PUSH_I, Op.CALL_REL, Op.CALL_RM, Op.JMP_RM -> in.size == 8;
            case Op.RET -> in.size == 8 && in.imm == 0;
            case Op.IMUL_R_RM, Op.IMUL_R_RM_I -> wide;
            case Op.JMP_REL, Op.JCC -> true;
            case Op.CMOVCC -> wide;
            case Op.SETCC -> in.size == 1 && (in.mem || in.rm < 16);
            default -> false;
        };
    }

    /**
     * On the boolean the branch hook returned (the branch counter's alarm ran and may have raised a
     * PMI): the attention local is set, so the region looks at the CPU before its next block.
     */
    private void alarmed() {
        Label no = new Label();
        mv.visitJumpInsn(IFEQ, no);
        attention();
        mv.visitLabel(no);
    }

    /** The region looks at the CPU before its next block (after a handler that reported a branch, or an alarm). */
    void attention() {
        mv.visitLdcInsn(1);
        mv.visitVarInsn(ISTORE, attention);
        mv.visitLdcInsn(Long.MIN_VALUE); // and the header's one test fails (RegionCompiler's header)
        mv.visitVarInsn(LSTORE, limit);
    }

    /** Writes pending flags to the CPU (before anything else may read them there); none are pending after it. */
    void flush() {
        if (pending == -1) {
            return;
        }
        writeBack();
        setPending(-1, 0);
    }

    /** Writes pending flags to the CPU on a path that leaves the region; code after it still has them pending. */
    void writeBack() {
        if (pending == -1) {
            return;
        }
        if (pending == UNKNOWN) {
            writeBackPending(mv, c, pkind, psize, fa, fb, fres, faux);
            return;
        }
        mv.visitVarInsn(ALOAD, c);
        mv.visitLdcInsn(pending);
        mv.visitLdcInsn(pendingSize);
        mv.visitVarInsn(LLOAD, fa);
        mv.visitVarInsn(LLOAD, fb);
        mv.visitVarInsn(LLOAD, fres);
        mv.visitVarInsn(LLOAD, faux);
        mv.visitMethodInsn(INVOKESTATIC, FLAGS, "restore", RESTORE_DESC, false);
    }

    /**
     * Emits: if the kind local is not -1, LazyFlags.restore from the locals (what the region's exits
     * and its exception path do, and a block that does not know which kind its predecessor left).
     */
    static void writeBackPending(MethodVisitor mv, int c, int pkind, int psize, int fa, int fb, int fres, int faux) {
        Label none = new Label();
        mv.visitVarInsn(ILOAD, pkind);
        mv.visitJumpInsn(IFLT, none);
        mv.visitVarInsn(ALOAD, c);
        mv.visitVarInsn(ILOAD, pkind);
        mv.visitVarInsn(ILOAD, psize);
        mv.visitVarInsn(LLOAD, fa);
        mv.visitVarInsn(LLOAD, fb);
        mv.visitVarInsn(LLOAD, fres);
        mv.visitVarInsn(LLOAD, faux);
        mv.visitMethodInsn(INVOKESTATIC, FLAGS, "restore", RESTORE_DESC, false);
        mv.visitLabel(none);
    }

    private void setPending(int kind, int size) {
        pending = kind;
        pendingSize = size;
        mv.visitLdcInsn(kind);
        mv.visitVarInsn(ISTORE, pkind);
        mv.visitLdcInsn(size);
        mv.visitVarInsn(ISTORE, psize);
    }

    // ------------------------------------------------------------------ operands

    private int local(int n) {
        if ((used & (1 << n)) == 0) {
            throw new IllegalStateException("register " + n + " has no local in this region");
        }
        return gpr + 2 * n;
    }

    /** The emitted code changed register n's local: it is newer than the CPU's array. */
    private void wrote(int n) {
        dirty |= 1 << n;
        written |= 1 << n;
        touched |= 1 << n;
    }

    /**
     * Gives locals to {@code used} registers only, of which {@code mayWrite} may be written (what a
     * first emission of the same blocks {@link #touched} and {@link #written}).
     */
    void useOnly(int used, int mayWrite) {
        this.used = used;
        this.mayWrite = mayWrite & used;
    }

    int touched() {
        return touched;
    }

    int written() {
        return written;
    }

    private void readReg(int n, int size) {
        touched |= 1 << n;
        if ((stale & (1 << n)) != 0) {
            load(n);
        }
        mv.visitVarInsn(LLOAD, local(n));
        mask(size);
    }

    /** local(n) = c.r[n]. */
    private void load(int n) {
        mv.visitVarInsn(ALOAD, regs);
        mv.visitLdcInsn(n);
        mv.visitInsn(LALOAD);
        mv.visitVarInsn(LSTORE, local(n));
        stale &= ~(1 << n);
    }

    /** Stores the long on the stack into register n, zero-extended from {@code size} (4 or 8). */
    private void writeReg(int n, int size) {
        mask(size); // 32-bit writes zero-extend; on a value masked already the JVM folds it away
        mv.visitVarInsn(LSTORE, local(n));
        stale &= ~(1 << n);
        wrote(n);
    }

    /**
     * A block starts: every register's local is current; {@code mayBeDirty} of them may be newer
     * than the CPU's array; the flags are where the kind local says (the blocks before it differ).
     */
    void startBlock(int mayBeDirty, int length) {
        blockLength = length;
        pending = UNKNOWN;
        stale = 0;
        dirty = mayBeDirty & mayWrite;
        maskStored = -1;
    }

    /** An instruction starts: the exception path learns which locals it must write back if the instruction faults. */
    void startInstruction() {
        int m = dirty & ~stale;
        if (m != maskStored) {
            mv.visitLdcInsn(m);
            mv.visitVarInsn(ISTORE, dirtyMask);
            maskStored = m;
        }
    }

    /** Before a handler: it reads the flags and registers from the CPU. */
    void beforeHandler() {
        flush();
        spill();
        startInstruction();
    }

    /** After a handler: it may have written any register. */
    void afterHandler() {
        dirty = 0;
        stale = ALL;
    }

    /** The block ends: every register local is made current again (what each block's start assumes); flags stay where they are. */
    void endBlock() {
        for (int n = 0; n < 16; n++) {
            if ((stale & used & (1 << n)) != 0) {
                load(n);
            }
        }
    }

    /** c.r[n] = local(n) for every dirty register; they stay dirty for the code after this if it does not leave. */
    void writeBackRegisters() {
        for (int n = 0; n < 16; n++) {
            if ((dirty & ~stale & (1 << n)) != 0) {
                mv.visitVarInsn(ALOAD, regs);
                mv.visitLdcInsn(n);
                mv.visitVarInsn(LLOAD, local(n));
                mv.visitInsn(LASTORE);
            }
        }
    }

    private void spill() {
        writeBackRegisters();
        dirty = 0;
    }

    /** Cpu.push(value on the stack, 8): the new RSP is checked and the value stored before RSP moves. */
    private void push() {
        mv.visitVarInsn(LSTORE, tb);
        readReg(Cpu.RSP, 8);
        mv.visitLdcInsn(8L);
        mv.visitInsn(LSUB);
        mv.visitVarInsn(LSTORE, addr);
        storeMemory(addr, tb, 8, true);
        mv.visitVarInsn(LLOAD, addr);
        writeReg(Cpu.RSP, 8);
    }

    /**
     * Cpu.pop(8), leaving the value on the stack: it is read (and may fault) before RSP moves, and
     * so is the canonical check of a return address. Every emitted instruction writes its registers
     * only after the last point where it may fault: the exception path writes back the registers
     * dirty when the instruction started.
     */
    private void pop(boolean returnAddress) {
        readReg(Cpu.RSP, 8);
        loadMemory(8, true);
        if (returnAddress) {
            canonical();
        }
        readReg(Cpu.RSP, 8);
        mv.visitLdcInsn(8L);
        mv.visitInsn(LADD);
        writeReg(Cpu.RSP, 8);
    }

    private void mask(int size) {
        if (size == 4) {
            mv.visitLdcInsn(M32);
            mv.visitInsn(LAND);
        } else if (size == 2) {
            mv.visitLdcInsn(0xFFFFL);
            mv.visitInsn(LAND);
        } else if (size == 1) {
            mv.visitLdcInsn(0xFFL);
            mv.visitInsn(LAND);
        }
    }

    private void signExtend(int size) {
        int s = 64 - 8 * size;
        if (s != 0) {
            mv.visitLdcInsn(s);
            mv.visitInsn(LSHL);
            mv.visitLdcInsn(s);
            mv.visitInsn(LSHR);
        }
    }

    /** The r/m operand at {@code size}: a load (at the address in {@code addr} for RMW forms, else computed) or a register. */
    private void readRm(Insn in, int size) {
        if (!in.mem) {
            readReg(in.rm, size);
            return;
        }
        if (in.op == Op.ALU_RM_R || in.op == Op.ALU_RM_I || in.op == Op.TEST_RM_R || in.op == Op.TEST_RM_I || in.op == Op.INC
                || in.op == Op.DEC) {
            mv.visitVarInsn(LLOAD, addr);
        } else {
            ea(in);
        }
        loadMemory(size, false);
    }

    /**
     * Cpu.load(address on the stack, size), leaving the value: with paging off and the access in
     * the first chunk, straight from the array (GuestMemory.firstChunk), else through the CPU
     * (after the stack-address check when {@code stack}: a pop).
     */
    private void loadMemory(int size, boolean stack) {
        Label slow = new Label(), end = new Label();
        mv.visitVarInsn(LSTORE, memAddr);
        directOrElse(size, slow);
        mv.visitVarInsn(ALOAD, chunk);
        mv.visitVarInsn(LLOAD, memAddr);
        mv.visitInsn(L2I);
        mv.visitMethodInsn(INVOKESTATIC, MEMORY, "direct" + 8 * size, "([BI)J", false);
        mv.visitJumpInsn(GOTO, end);
        slowAccess(slow, stack, size);
        mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "load", "(JI)J", false);
        mv.visitLabel(end);
    }

    /**
     * Cpu.store(the address in {@code at}, size, the value in {@code value}): with paging off, in
     * the first chunk and within one page holding no decoded code, straight into the array (what
     * GuestMemory's writes do when no code is hit), else through the CPU, which notices stores
     * into code.
     */
    private void storeMemory(int at, int value, int size, boolean stack) {
        Label slow = new Label(), end = new Label();
        mv.visitVarInsn(LLOAD, at);
        mv.visitVarInsn(LSTORE, memAddr);
        directOrElse(size, slow);
        mv.visitVarInsn(LLOAD, memAddr); // within one page
        mv.visitLdcInsn(0xFFFL);
        mv.visitInsn(LAND);
        mv.visitLdcInsn((long) (0x1000 - size));
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFGT, slow);
        mv.visitVarInsn(ALOAD, codePages); // and no decoded code in it
        mv.visitVarInsn(LLOAD, memAddr);
        mv.visitLdcInsn(12);
        mv.visitInsn(LUSHR);
        mv.visitInsn(L2I);
        mv.visitInsn(AALOAD);
        mv.visitJumpInsn(IFNONNULL, slow);
        mv.visitVarInsn(ALOAD, chunk);
        mv.visitVarInsn(LLOAD, memAddr);
        mv.visitInsn(L2I);
        mv.visitVarInsn(LLOAD, value);
        mv.visitMethodInsn(INVOKESTATIC, MEMORY, "putDirect" + 8 * size, "([BIJ)V", false);
        mv.visitJumpInsn(GOTO, end);
        slowAccess(slow, stack, size);
        mv.visitVarInsn(LLOAD, value);
        mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "store", "(JIJ)V", false);
        mv.visitLdcInsn(1);
        mv.visitVarInsn(ISTORE, slowStore);
        mv.visitLabel(end);
    }

    /**
     * Jumps to {@code unchanged} when the instruction just emitted cannot have overwritten decoded
     * code: all its stores took the direct path, which only writes pages without decoded code (an
     * emitted instruction stores through {@link #storeMemory} only). Otherwise it clears the
     * slow-store local and falls through to the code-epoch test.
     */
    void mayHaveChangedCode(Label unchanged) {
        mv.visitVarInsn(ILOAD, slowStore);
        mv.visitJumpInsn(IFEQ, unchanged);
        mv.visitLdcInsn(0);
        mv.visitVarInsn(ISTORE, slowStore);
    }

    /**
     * The slow path of an access at memAddr starts here: for a stack access, Cpu.stackAddress,
     * which raises #SS(0) for a non-canonical address (PUSH/POP and CALL/RET in 64-bit mode) before
     * the access is tried (the direct path needs no test: an address in the first chunk is
     * canonical); then the CPU, the address and the size go on the stack for Cpu.load/store.
     */
    private void slowAccess(Label slow, boolean stack, int size) {
        mv.visitLabel(slow);
        if (stack) {
            mv.visitVarInsn(ALOAD, c);
            mv.visitVarInsn(LLOAD, memAddr);
            mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "stackAddress", "(J)J", false);
            mv.visitInsn(POP2);
        }
        mv.visitVarInsn(ALOAD, c);
        mv.visitVarInsn(LLOAD, memAddr);
        mv.visitLdcInsn(size);
    }

    /** Jumps to {@code slow} unless paging is off and {@code size} bytes at memAddr lie in the first chunk (an unsigned compare). */
    private void directOrElse(int size, Label slow) {
        mv.visitVarInsn(ILOAD, pagingOff);
        mv.visitJumpInsn(IFEQ, slow);
        mv.visitVarInsn(LLOAD, memAddr);
        mv.visitVarInsn(LLOAD, chunkLength);
        mv.visitLdcInsn((long) size);
        mv.visitInsn(LSUB);
        mv.visitMethodInsn(INVOKESTATIC, "java/lang/Long", "compareUnsigned", "(JJ)I", false);
        mv.visitJumpInsn(IFGT, slow);
    }

    /** After a handler (it may have turned paging on or off): the direct path's test again. */
    void reloadMemoryState() {
        loadMemoryState(mv, c, chunk, codePages, pagingOff, chunkLength);
    }

    /** Loads the direct memory path's locals from the CPU (at region entry and after handlers). */
    static void loadMemoryState(MethodVisitor mv, int c, int chunk, int codePages, int pagingOff, int chunkLength) {
        mv.visitVarInsn(ALOAD, c);
        mv.visitFieldInsn(GETFIELD, CPU, "mem", MEMORY_DESC);
        mv.visitInsn(DUP);
        mv.visitMethodInsn(INVOKEVIRTUAL, MEMORY, "firstChunk", "()[B", false);
        mv.visitInsn(DUP);
        mv.visitVarInsn(ASTORE, chunk);
        mv.visitInsn(ARRAYLENGTH);
        mv.visitInsn(I2L);
        mv.visitVarInsn(LSTORE, chunkLength);
        mv.visitMethodInsn(INVOKEVIRTUAL, MEMORY, "codePageBits", "()[[J", false);
        mv.visitVarInsn(ASTORE, codePages);
        Label on = new Label(), done = new Label();
        mv.visitVarInsn(ALOAD, c);
        mv.visitFieldInsn(GETFIELD, CPU, "paging", PAGING_DESC);
        mv.visitFieldInsn(GETFIELD, PAGING, "enabled", "Z");
        mv.visitJumpInsn(IFNE, on);
        mv.visitLdcInsn(1);
        mv.visitJumpInsn(GOTO, done);
        mv.visitLabel(on);
        mv.visitLdcInsn(0);
        mv.visitLabel(done);
        mv.visitVarInsn(ISTORE, pagingOff);
    }


    /** Writes the long on the stack to the r/m operand (memory at the address in {@code addr}). */
    private void writeRm(Insn in) {
        if (!in.mem) {
            writeReg(in.rm, in.size);
            return;
        }
        mv.visitVarInsn(LSTORE, tb);
        storeMemory(addr, tb, in.size, false);
    }

    /** base + index << scale + disp, not truncated (LEA's offset and, truncated by ea, the address). */
    private void offset(Insn in) {
        mv.visitLdcInsn(in.disp);
        if (in.base >= 0) {
            readReg(in.base, 8);
            mv.visitInsn(LADD);
        }
        if (in.index >= 0) {
            readReg(in.index, 8);
            if (in.scale != 0) {
                mv.visitLdcInsn(in.scale);
                mv.visitInsn(LSHL);
            }
            mv.visitInsn(LADD);
        }
    }

    /** Cpu.ea without a segment override (those forms are not emitted here). */
    private void ea(Insn in) {
        offset(in);
        if (in.addr32) {
            mask(4);
        }
    }

    private void canonical() {
        mv.visitMethodInsn(INVOKESTATIC, CONTROL, "canonicalTarget", "(J)J", false);
    }

    // ------------------------------------------------------------------ arithmetic

    /** fa = ta, fb = tb, fres = ta (row) tb, the flags pending as the row's LazyFlags kind. */
    private void alu(int row, int size) {
        int kind = switch (row) {
            case Arithmetic.ADD -> LazyFlags.ADD;
            case Arithmetic.SUB, Arithmetic.CMP -> LazyFlags.SUB;
            default -> LazyFlags.LOGIC;
        };
        mv.visitVarInsn(LLOAD, ta);
        mv.visitVarInsn(LLOAD, tb);
        mv.visitInsn(switch (row) {
            case Arithmetic.ADD -> LADD;
            case Arithmetic.SUB, Arithmetic.CMP -> LSUB;
            case Arithmetic.AND -> LAND;
            case Arithmetic.OR -> LOR;
            case Arithmetic.XOR -> LXOR;
            default -> throw new AssertionError("ALU row " + row);
        });
        mask(size);
        mv.visitVarInsn(LSTORE, fres);
        if (kind == LazyFlags.LOGIC) {
            mv.visitLdcInsn(0L); // Arithmetic.logic keeps no operands
            mv.visitInsn(DUP2);
            mv.visitVarInsn(LSTORE, fa);
            mv.visitVarInsn(LSTORE, fb);
        } else {
            mv.visitVarInsn(LLOAD, ta);
            mv.visitVarInsn(LSTORE, fa);
            mv.visitVarInsn(LLOAD, tb);
            mv.visitVarInsn(LSTORE, fb);
        }
        setPending(kind, size);
    }

    /** INC/DEC keep CF: the carry before them goes to fAux, as in Arithmetic.incDec. */
    private void incDec(Insn in) {
        if (in.mem) {
            ea(in);
            mv.visitVarInsn(LSTORE, addr);
        }
        readRm(in, in.size);
        mv.visitVarInsn(LSTORE, ta);
        carryFlag();
        mv.visitVarInsn(LSTORE, faux);
        mv.visitVarInsn(LLOAD, ta);
        mv.visitLdcInsn(1L);
        mv.visitInsn(in.op == Op.INC ? LADD : LSUB);
        mask(in.size);
        mv.visitVarInsn(LSTORE, fres);
        mv.visitVarInsn(LLOAD, ta);
        mv.visitVarInsn(LSTORE, fa);
        mv.visitLdcInsn(1L);
        mv.visitVarInsn(LSTORE, fb);
        setPending(in.op == Op.INC ? LazyFlags.INC : LazyFlags.DEC, in.size);
        mv.visitVarInsn(LLOAD, fres);
        writeRm(in);
    }

    /** IMUL reg, r/m[, imm] truncated to the operand size: CF = OF = the product did not fit (MulDiv.imulTruncated). */
    private void imul(Insn in) {
        if (in.op == Op.IMUL_R_RM) {
            readReg(in.reg, in.size);
        } else {
            readRm(in, in.size);
        }
        mv.visitVarInsn(LSTORE, ta);
        if (in.op == Op.IMUL_R_RM) {
            readRm(in, in.size);
        } else {
            mv.visitLdcInsn(in.imm);
        }
        mv.visitVarInsn(LSTORE, tb);
        Label over = new Label(), end = new Label();
        if (in.size == 8) {
            mv.visitVarInsn(LLOAD, ta);
            mv.visitVarInsn(LLOAD, tb);
            mv.visitInsn(LMUL);
            mv.visitVarInsn(LSTORE, fres);
            mv.visitVarInsn(LLOAD, ta);
            mv.visitVarInsn(LLOAD, tb);
            mv.visitMethodInsn(INVOKESTATIC, "java/lang/Math", "multiplyHigh", "(JJ)J", false);
            mv.visitVarInsn(LLOAD, fres);
            mv.visitLdcInsn(63);
            mv.visitInsn(LSHR);
        } else {
            mv.visitVarInsn(LLOAD, ta);
            signExtend(4);
            mv.visitVarInsn(LLOAD, tb);
            signExtend(4);
            mv.visitInsn(LMUL);
            mv.visitInsn(DUP2);
            mv.visitVarInsn(LSTORE, addr); // the full product
            mask(4);
            mv.visitVarInsn(LSTORE, fres);
            mv.visitVarInsn(LLOAD, addr);
            mv.visitVarInsn(LLOAD, fres);
            signExtend(4);
        }
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFNE, over);
        mv.visitLdcInsn(0L);
        mv.visitJumpInsn(GOTO, end);
        mv.visitLabel(over);
        mv.visitLdcInsn(Cpu.CF | Cpu.OF);
        mv.visitLabel(end);
        mv.visitVarInsn(LSTORE, faux);
        setPending(LazyFlags.SHIFT, in.size);
        mv.visitVarInsn(LLOAD, fres);
        writeReg(in.reg, in.size);
    }

    /** Pushes CF as a long 0 or 1: from the pending kind when it says, else from the CPU. */
    private void carryFlag() {
        Label one = new Label(), end = new Label();
        switch (pending) {
            case LazyFlags.LOGIC -> {
                mv.visitLdcInsn(0L);
                return;
            }
            case LazyFlags.INC, LazyFlags.DEC -> {
                mv.visitVarInsn(LLOAD, faux);
                return;
            }
            case LazyFlags.SUB -> {
                unsignedCompare(fa, fb);
                mv.visitJumpInsn(IFLT, one);
            }
            case LazyFlags.ADD -> {
                unsignedCompare(fres, fa);
                mv.visitJumpInsn(IFLT, one);
            }
            case UNKNOWN -> {
                // what the kind local says, as LazyFlags.cf would from the CPU's fields
                Label logic = new Label(), aux = new Label(), sub = new Label(), add = new Label(), shift = new Label(), cpu = new Label();
                mv.visitVarInsn(ILOAD, pkind);
                mv.visitLookupSwitchInsn(cpu, new int[] {LazyFlags.LOGIC, LazyFlags.ADD, LazyFlags.SUB, LazyFlags.INC, LazyFlags.DEC, LazyFlags.SHIFT},
                        new Label[] {logic, add, sub, aux, aux, shift});
                mv.visitLabel(logic);
                mv.visitLdcInsn(0L);
                mv.visitJumpInsn(GOTO, end);
                mv.visitLabel(aux);
                mv.visitVarInsn(LLOAD, faux);
                mv.visitJumpInsn(GOTO, end);
                mv.visitLabel(shift);
                mv.visitVarInsn(LLOAD, faux);
                mv.visitLdcInsn(Cpu.CF);
                mv.visitInsn(LAND);
                mv.visitJumpInsn(GOTO, end);
                mv.visitLabel(sub);
                unsignedCompare(fa, fb);
                mv.visitJumpInsn(IFLT, one);
                mv.visitLdcInsn(0L);
                mv.visitJumpInsn(GOTO, end);
                mv.visitLabel(add);
                unsignedCompare(fres, fa);
                mv.visitJumpInsn(IFLT, one);
                mv.visitLdcInsn(0L);
                mv.visitJumpInsn(GOTO, end);
                mv.visitLabel(cpu); // -1: the flags are in the CPU
                mv.visitVarInsn(ALOAD, c);
                mv.visitMethodInsn(INVOKESTATIC, FLAGS, "cf", "(L" + CPU + ";)Z", false);
                mv.visitInsn(I2L);
                mv.visitJumpInsn(GOTO, end);
                mv.visitLabel(one);
                mv.visitLdcInsn(1L);
                mv.visitLabel(end);
                return;
            }
            default -> {
                flush();
                mv.visitVarInsn(ALOAD, c);
                mv.visitMethodInsn(INVOKESTATIC, FLAGS, "cf", "(L" + CPU + ";)Z", false);
                mv.visitInsn(I2L);
                return;
            }
        }
        mv.visitLdcInsn(0L);
        mv.visitJumpInsn(GOTO, end);
        mv.visitLabel(one);
        mv.visitLdcInsn(1L);
        mv.visitLabel(end);
    }

    /** SHL/SAL, SHR, SAR of a register by a constant count, as Shifts.shift computes them. */
    private void shift(Insn in) {
        int size = in.size;
        int count = (int) in.imm & (size == 8 ? 63 : 31);
        if (count == 0) {
            if (size == 4) { // Shifts.zeroCount: flags alone, the 32-bit destination still zero-extended
                readReg(in.rm, 4);
                writeReg(in.rm, 4);
            }
            return;
        }
        int bits = size * 8;
        long sign = OperandSize.SIGN[size];
        if (in.ext == Shifts.ROL || in.ext == Shifts.ROR) {
            rotate(in, count, bits);
            return;
        }
        readReg(in.rm, size);
        mv.visitVarInsn(LSTORE, ta);
        // fres = result; faux = CF | OF bits (count < bits always: the count is masked to bits - 1)
        switch (in.ext) {
            case Shifts.SHR -> {
                mv.visitVarInsn(LLOAD, ta);
                mv.visitLdcInsn(count);
                mv.visitInsn(LUSHR);
                mv.visitVarInsn(LSTORE, fres);
                bitTo(ta, count - 1, Cpu.CF); // CF: the last bit shifted out
                mv.visitVarInsn(LLOAD, ta); // OF: the operand's sign, for every count (as Shifts.shift)
                mv.visitLdcInsn(sign);
                mv.visitInsn(LAND);
                flagIfNonZero(Cpu.OF);
                mv.visitInsn(LOR);
                mv.visitVarInsn(LSTORE, faux);
            }
            case Shifts.SAR -> {
                mv.visitVarInsn(LLOAD, ta);
                signExtend(size);
                mv.visitInsn(DUP2);
                mv.visitLdcInsn(count);
                mv.visitInsn(LSHR);
                mask(size);
                mv.visitVarInsn(LSTORE, fres);
                mv.visitVarInsn(LSTORE, tb);
                bitTo(tb, count - 1, Cpu.CF);
                mv.visitVarInsn(LSTORE, faux);
            }
            default -> { // SHL, SAL
                mv.visitVarInsn(LLOAD, ta);
                mv.visitLdcInsn(count);
                mv.visitInsn(LSHL);
                mask(size);
                mv.visitVarInsn(LSTORE, fres);
                bitTo(ta, bits - count, Cpu.CF);
                mv.visitVarInsn(LSTORE, faux);
                // OF = (sign of result) != CF
                mv.visitVarInsn(LLOAD, fres);
                mv.visitLdcInsn(sign);
                mv.visitInsn(LAND);
                flagIfNonZero(1);
                mv.visitVarInsn(LLOAD, faux);
                mv.visitInsn(LXOR); // 1 when they differ (CF is bit 0)
                mv.visitLdcInsn(1L);
                mv.visitInsn(LAND);
                flagIfNonZero(Cpu.OF);
                mv.visitVarInsn(LLOAD, faux);
                mv.visitInsn(LOR);
                mv.visitVarInsn(LSTORE, faux);
            }
        }
        setPending(LazyFlags.SHIFT, size);
        mv.visitVarInsn(LLOAD, fres);
        writeReg(in.rm, size);
    }

    /**
     * ROL/ROR of a register by a non-zero immediate below the width (Shifts.shift): only CF and OF
     * change, so the flags go to the CPU first and LazyFlags.setCfOf keeps the others as they are.
     */
    private void rotate(Insn in, int n, int bits) {
        boolean left = in.ext == Shifts.ROL;
        flush();
        readReg(in.rm, in.size);
        mv.visitVarInsn(LSTORE, ta);
        mv.visitVarInsn(LLOAD, ta);
        mv.visitLdcInsn(n);
        mv.visitInsn(left ? LSHL : LUSHR);
        mv.visitVarInsn(LLOAD, ta);
        mv.visitLdcInsn(bits - n);
        mv.visitInsn(left ? LUSHR : LSHL);
        mv.visitInsn(LOR);
        mask(in.size);
        mv.visitVarInsn(LSTORE, fres);
        mv.visitVarInsn(ALOAD, c);
        if (left) { // CF = bit 0 of the result, OF = its sign XOR CF
            bitAsInt(0);
            bitAsInt(bits - 1);
            bitAsInt(0);
        } else { // CF = the sign of the result, OF = its sign XOR the bit below
            bitAsInt(bits - 1);
            bitAsInt(bits - 1);
            bitAsInt(bits - 2);
        }
        mv.visitInsn(IXOR);
        mv.visitLdcInsn(1);
        mv.visitMethodInsn(INVOKESTATIC, FLAGS, "setCfOf", "(L" + CPU + ";ZZZ)V", false);
        mv.visitVarInsn(LLOAD, fres);
        writeReg(in.rm, in.size);
    }

    /** Pushes bit {@code bit} of the result local as an int 0 or 1. */
    private void bitAsInt(int bit) {
        mv.visitVarInsn(LLOAD, fres);
        mv.visitLdcInsn(bit);
        mv.visitInsn(LUSHR);
        mv.visitInsn(L2I);
        mv.visitLdcInsn(1);
        mv.visitInsn(IAND);
    }

    /** Pushes {@code flag} if bit {@code bit} of the long in {@code local} is set, else 0. */
    private void bitTo(int local, int bit, long flag) {
        mv.visitVarInsn(LLOAD, local);
        mv.visitLdcInsn(bit);
        mv.visitInsn(LUSHR);
        mv.visitLdcInsn(1L);
        mv.visitInsn(LAND);
        if (flag != 1) {
            mv.visitLdcInsn(Long.numberOfTrailingZeros(flag));
            mv.visitInsn(LSHL);
        }
    }

    /** Replaces the long on the stack by {@code flag} if it is non-zero, else 0. */
    private void flagIfNonZero(long flag) {
        Label zero = new Label(), end = new Label();
        mv.visitLdcInsn(0L);
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFEQ, zero);
        mv.visitLdcInsn(flag);
        mv.visitJumpInsn(GOTO, end);
        mv.visitLabel(zero);
        mv.visitLdcInsn(0L);
        mv.visitLabel(end);
    }

    /** Leaves the int comparison (-1, 0, 1) of two longs as unsigned numbers. */
    private void unsignedCompare(int x, int y) {
        mv.visitVarInsn(LLOAD, x);
        mv.visitLdcInsn(Long.MIN_VALUE);
        mv.visitInsn(LADD);
        mv.visitVarInsn(LLOAD, y);
        mv.visitLdcInsn(Long.MIN_VALUE);
        mv.visitInsn(LADD);
        mv.visitInsn(LCMP);
    }

    /** Leaves the int comparison of two longs sign-extended from {@code size}. */
    private void signedCompare(int x, int y, int size) {
        mv.visitVarInsn(LLOAD, x);
        if (size == 4) {
            mv.visitInsn(L2I);
            mv.visitInsn(I2L);
        }
        mv.visitVarInsn(LLOAD, y);
        if (size == 4) {
            mv.visitInsn(L2I);
            mv.visitInsn(I2L);
        }
        mv.visitInsn(LCMP);
    }

    /** Leaves the int comparison of the pending result, sign-extended, with 0. */
    private void resultSign(int size) {
        mv.visitVarInsn(LLOAD, fres);
        if (size == 4) {
            mv.visitInsn(L2I);
            mv.visitInsn(I2L);
        }
        mv.visitLdcInsn(0L);
        mv.visitInsn(LCMP);
    }

    // ------------------------------------------------------------------ branches

    /** Jumps to {@code target} when condition code {@code cc} holds (from the locals when it can, else LazyFlags.cond). */
    private void jumpIf(int cc, Label target) {
        int jump = condition(pending, pendingSize, cc >> 1);
        if (jump == -1) {
            flush();
            mv.visitVarInsn(ALOAD, c);
            mv.visitLdcInsn(cc);
            mv.visitMethodInsn(INVOKESTATIC, FLAGS, "cond", "(L" + CPU + ";I)Z", false);
            mv.visitJumpInsn(IFNE, target);
        } else if (jump == ALWAYS || jump == NEVER) {
            if ((jump == ALWAYS) != ((cc & 1) != 0)) {
                mv.visitJumpInsn(GOTO, target);
            }
        } else {
            mv.visitJumpInsn((cc & 1) != 0 ? negate(jump) : jump, target);
        }
    }

    /** CMOVcc (DataTransfer.cmov): the source is read (and may fault) first; a 32-bit one always zero-extends its destination. */
    private void cmov(Insn in) {
        readRm(in, in.size);
        mv.visitVarInsn(LSTORE, ta);
        if ((stale & (1 << in.reg)) != 0) {
            load(in.reg); // current on both paths below
        }
        Label move = new Label(), end = new Label();
        jumpIf(in.ext, move);
        if (in.size == 4) {
            mv.visitVarInsn(LLOAD, local(in.reg));
            mask(4);
            mv.visitVarInsn(LSTORE, local(in.reg));
        }
        mv.visitJumpInsn(GOTO, end);
        mv.visitLabel(move);
        mv.visitVarInsn(LLOAD, ta);
        mask(in.size);
        mv.visitVarInsn(LSTORE, local(in.reg));
        mv.visitLabel(end);
        wrote(in.reg);
    }

    /** SETcc (DataTransfer.setcc) into a low byte register or a byte of memory. */
    private void setcc(Insn in) {
        if (in.mem) {
            ea(in);
            mv.visitVarInsn(LSTORE, addr);
        } else if ((stale & (1 << in.rm)) != 0) {
            load(in.rm);
        }
        Label one = new Label(), end = new Label();
        jumpIf(in.ext, one);
        mv.visitLdcInsn(0L);
        mv.visitJumpInsn(GOTO, end);
        mv.visitLabel(one);
        mv.visitLdcInsn(1L);
        mv.visitLabel(end);
        if (in.mem) {
            writeRm(in); // in.size is 1
        } else {
            mv.visitVarInsn(LLOAD, local(in.rm));
            mv.visitLdcInsn(~0xFFL);
            mv.visitInsn(LAND);
            mv.visitInsn(LOR);
            mv.visitVarInsn(LSTORE, local(in.rm));
            wrote(in.rm);
        }
    }

    private void jcc(Insn in) {
        Label taken = new Label(), after = new Label();
        jumpIf(in.ext, taken);
        // not taken
        mv.visitLdcInsn(in.next);
        mv.visitVarInsn(LSTORE, next);
        mv.visitVarInsn(ALOAD, c);
        mv.visitLdcInsn(in.rip);
        blockStart();
        mv.visitLdcInsn(blockLength);
        mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "notTakenInRegion", "(JJI)Z", false);
        alarmed();
        mv.visitJumpInsn(GOTO, after);
        mv.visitLabel(taken);
        taken(in, in.target, BranchKind.K_CONDITIONAL);
        mv.visitLabel(after);
    }

    /** Pushes the retired count at the start of this block (base + done). */
    private void blockStart() {
        mv.visitVarInsn(LLOAD, base);
        mv.visitVarInsn(LLOAD, done);
        mv.visitInsn(LADD);
    }

    /** Before a handler, which may read the retired count or report a branch: the CPU shows this block (Cpu.atBlock). */
    void syncBlock() {
        mv.visitVarInsn(ALOAD, c);
        blockStart();
        mv.visitLdcInsn(blockLength);
        mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "atBlock", "(JI)V", false);
    }

    private static final int ALWAYS = -2, NEVER = -3;

    /**
     * Emits the comparison for the positive condition {@code pair} (cc >> 1) of pending flags of
     * {@code kind} and returns the IFxx opcode that jumps when it holds, ALWAYS or NEVER when it is
     * known, or -1 (nothing emitted) when only LazyFlags.cond can say.
     */
    private int condition(int kind, int size, int pair) {
        switch (kind) {
            case LazyFlags.SUB -> {
                switch (pair) {
                    case LazyFlags.CC_B >> 1 -> {
                        unsignedCompare(fa, fb);
                        return IFLT;
                    }
                    case LazyFlags.CC_E >> 1 -> {
                        mv.visitVarInsn(LLOAD, fa);
                        mv.visitVarInsn(LLOAD, fb);
                        mv.visitInsn(LCMP);
                        return IFEQ;
                    }
                    case LazyFlags.CC_BE >> 1 -> {
                        unsignedCompare(fa, fb);
                        return IFLE;
                    }
                    case LazyFlags.CC_L >> 1 -> {
                        signedCompare(fa, fb, size);
                        return IFLT;
                    }
                    case LazyFlags.CC_LE >> 1 -> {
                        signedCompare(fa, fb, size);
                        return IFLE;
                    }
                    case LazyFlags.CC_S >> 1 -> {
                        resultSign(size);
                        return IFLT;
                    }
                    default -> {
                        return -1;
                    }
                }
            }
            case LazyFlags.LOGIC -> { // CF = OF = 0
                switch (pair) {
                    case LazyFlags.CC_O >> 1, LazyFlags.CC_B >> 1 -> {
                        return NEVER;
                    }
                    case LazyFlags.CC_E >> 1, LazyFlags.CC_BE >> 1 -> {
                        resultSign(8);
                        return IFEQ;
                    }
                    case LazyFlags.CC_S >> 1, LazyFlags.CC_L >> 1 -> {
                        resultSign(size);
                        return IFLT;
                    }
                    case LazyFlags.CC_LE >> 1 -> {
                        resultSign(size);
                        return IFLE;
                    }
                    default -> {
                        return -1;
                    }
                }
            }
            case LazyFlags.ADD, LazyFlags.INC, LazyFlags.DEC, LazyFlags.SHIFT -> {
                switch (pair) {
                    case LazyFlags.CC_E >> 1 -> {
                        resultSign(8);
                        return IFEQ;
                    }
                    case LazyFlags.CC_S >> 1 -> {
                        resultSign(size);
                        return IFLT;
                    }
                    default -> {
                        return -1;
                    }
                }
            }
            default -> {
                return -1;
            }
        }
    }

    private static int negate(int jump) {
        return switch (jump) {
            case IFLT -> IFGE;
            case IFLE -> IFGT;
            case IFEQ -> IFNE;
            default -> throw new AssertionError(jump);
        };
    }

    private void taken(Insn in, long target, int kind) {
        mv.visitLdcInsn(target);
        mv.visitVarInsn(LSTORE, ta);
        takenTo(in, ta, kind);
    }

    /** next = target; then the kind's branch hook (Cpu.conditionalInRegion and the rest), the target in a long local. */
    private void takenTo(Insn in, int target, int kind) {
        mv.visitVarInsn(LLOAD, target);
        mv.visitVarInsn(LSTORE, next);
        mv.visitVarInsn(ALOAD, c);
        mv.visitLdcInsn(in.rip);
        mv.visitVarInsn(LLOAD, target);
        blockStart();
        mv.visitLdcInsn(blockLength);
        mv.visitMethodInsn(INVOKEVIRTUAL, CPU, hook(kind), "(JJJI)Z", false);
        alarmed();
    }

    private static String hook(int kind) {
        return switch (kind) {
            case BranchKind.K_CONDITIONAL -> "conditionalInRegion";
            case BranchKind.K_NEAR_REL_JMP -> "directJumpInRegion";
            case BranchKind.K_NEAR_IND_JMP -> "indirectJumpInRegion";
            case BranchKind.K_NEAR_REL_CALL -> "directCallInRegion";
            case BranchKind.K_NEAR_IND_CALL -> "indirectCallInRegion";
            case BranchKind.K_NEAR_RET -> "nearReturnInRegion";
            default -> throw new AssertionError("no far branch is emitted: " + kind);
        };
    }

}
