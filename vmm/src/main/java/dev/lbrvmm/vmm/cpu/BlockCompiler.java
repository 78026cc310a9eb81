package dev.lbrvmm.vmm.cpu;

import static org.objectweb.asm.Opcodes.ACC_FINAL;
import static org.objectweb.asm.Opcodes.ACC_PUBLIC;
import static org.objectweb.asm.Opcodes.ACC_SUPER;
import static org.objectweb.asm.Opcodes.ALOAD;
import static org.objectweb.asm.Opcodes.ASTORE;
import static org.objectweb.asm.Opcodes.ATHROW;
import static org.objectweb.asm.Opcodes.H_INVOKESTATIC;
import static org.objectweb.asm.Opcodes.ICONST_0;
import static org.objectweb.asm.Opcodes.IFEQ;
import static org.objectweb.asm.Opcodes.ILOAD;
import static org.objectweb.asm.Opcodes.INVOKESPECIAL;
import static org.objectweb.asm.Opcodes.INVOKEVIRTUAL;
import static org.objectweb.asm.Opcodes.IRETURN;
import static org.objectweb.asm.Opcodes.ISTORE;
import static org.objectweb.asm.Opcodes.PUTFIELD;
import static org.objectweb.asm.Opcodes.RETURN;
import static org.objectweb.asm.Opcodes.V17;

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
 * Translates a decoded {@link Block} into a {@link CompiledBlock}: one hidden class (not strongly
 * reachable from its loader, so the GC unloads it with the block) whose {@code run} calls each
 * instruction's handler with the handler and the {@link Insn} as dynamic constants loaded from
 * the class data. A constant receiver lets the JVM inline every handler, so the block costs no
 * per-instruction dispatch; the code-epoch test follows only instructions that may store.
 * Semantics stay the handlers' own: the interpreter and the translation cannot disagree on what an
 * instruction does, only on when the loop looks at exits, and that is kept identical here.
 */
final class BlockCompiler {
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    private static final String SELF = Type.getInternalName(BlockCompiler.class).replace("BlockCompiler", "TranslatedBlock");
    private static final String BASE = Type.getInternalName(CompiledBlock.class);
    private static final String CPU = Type.getInternalName(Cpu.class);
    private static final String HANDLER_DESC = Type.getDescriptor(Handler.class);
    private static final String INSN_DESC = Type.getDescriptor(Insn.class);
    private static final Handle CLASS_DATA_AT = new Handle(H_INVOKESTATIC, "java/lang/invoke/MethodHandles", "classDataAt",
            "(Ljava/lang/invoke/MethodHandles$Lookup;Ljava/lang/String;Ljava/lang/Class;I)Ljava/lang/Object;", false);

    private BlockCompiler() {}

    /** The translation of {@code code} (a whole decoded block). */
    static CompiledBlock compile(Insn[] code) {
        List<Object> data = new ArrayList<>(code.length * 2);
        for (Insn in : code) {
            data.add(in.handler);
            data.add(in);
        }
        try {
            MethodHandles.Lookup hidden = LOOKUP.defineHiddenClassWithClassData(emit(code), List.copyOf(data), true);
            return (CompiledBlock) hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (Throwable e) {
            throw new IllegalStateException("translating the block at 0x" + Long.toHexString(code[0].rip) + " failed: " + e, e);
        }
    }

    static byte[] emit(Insn[] code) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS) {
            @Override
            protected String getCommonSuperClass(String a, String b) {
                return "java/lang/Object"; // only Throwables meet at the handler: no class loading while translating
            }
        };
        cw.visit(V17, ACC_FINAL | ACC_SUPER, SELF, null, BASE, null);
        MethodVisitor init = cw.visitMethod(ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(ALOAD, 0);
        init.visitMethodInsn(INVOKESPECIAL, BASE, "<init>", "()V", false);
        init.visitInsn(RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();

        MethodVisitor mv = cw.visitMethod(0, "run", "(L" + CPU + ";)I", null, null);
        mv.visitCode();
        Label start = new Label(), end = new Label(), onThrow = new Label();
        mv.visitTryCatchBlock(start, end, onThrow, "java/lang/RuntimeException");
        mv.visitInsn(ICONST_0);
        mv.visitVarInsn(ISTORE, 2); // k: instructions completed, for the run loop when one throws
        mv.visitLabel(start);
        int n = code.length;
        for (int j = 0; j < n; j++) {
            if (j > 0) {
                mv.visitLdcInsn(j);
                mv.visitVarInsn(ISTORE, 2);
            }
            mv.visitLdcInsn(new ConstantDynamic("_", HANDLER_DESC, CLASS_DATA_AT, 2 * j));
            mv.visitVarInsn(ALOAD, 1);
            mv.visitLdcInsn(new ConstantDynamic("_", INSN_DESC, CLASS_DATA_AT, 2 * j + 1));
            mv.visitMethodInsn(INVOKEVIRTUAL, Type.getInternalName(Handler.class), "exec", "(L" + CPU + ";" + INSN_DESC + ")V", false);
            if (code[j].mayWriteMemory && j < n - 1) {
                // a store into decoded code ends the block right after it, as in the interpreter
                Label same = new Label();
                mv.visitVarInsn(ALOAD, 1);
                mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "codeChanged", "()Z", false);
                mv.visitJumpInsn(IFEQ, same);
                mv.visitLdcInsn(j + 1);
                mv.visitInsn(IRETURN);
                mv.visitLabel(same);
            }
        }
        mv.visitLabel(end);
        mv.visitLdcInsn(n);
        mv.visitInsn(IRETURN);
        mv.visitLabel(onThrow);
        mv.visitVarInsn(ASTORE, 3);
        mv.visitVarInsn(ALOAD, 1);
        mv.visitVarInsn(ILOAD, 2);
        mv.visitFieldInsn(PUTFIELD, CPU, "compiledFaultIndex", "I");
        mv.visitVarInsn(ALOAD, 3);
        mv.visitInsn(ATHROW);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }
}
