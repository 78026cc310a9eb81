package dev.lbrvmm.vmm.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Random integer instruction sequences in GNU as (AT&T) syntax for the differential test against
 * the real CPU ({@link NativeDifferentialTest}). Every operand size, register, immediate and memory
 * form (base + displacement, base + index * scale, RIP-relative), flag producers and consumers
 * (ADC/SBB, RCL/RCR, CMOVcc, SETcc, Jcc, LAHF), MUL/DIV, shifts and rotates by 1, an immediate and
 * CL, SHLD/SHRD, the BT family, BSF/BSR/TZCNT/POPCNT, XCHG/XADD/CMPXCHG with and without LOCK,
 * MOVZX/MOVSX, LEA, BSWAP, the sign extensions, PUSH/POP, and string instructions with both
 * directions and REP/REPE/REPNE.
 *
 * <p>The generator tracks which arithmetic flags the SDM defines after each instruction; a case
 * compares only those. Left undefined by the SDM, and so masked: AF after AND/OR/XOR/TEST and
 * after a shift by a non-zero count; SF, ZF, AF and PF after MUL/IMUL; all six after DIV/IDIV; OF
 * after a shift, rotate, SHLD or SHRD by more than 1; CF after SHL/SHR by the operand width or
 * more; OF, SF, AF and PF after BT/BTS/BTR/BTC; everything but ZF after BSF/BSR; OF, SF, AF and PF
 * after TZCNT. A consumer that needs a flag the sequence left undefined gets a CMP first.
 *
 * <p>Operands whose result the SDM leaves undefined are never generated: BSF/BSR of zero (a bit is
 * set first), a 16-bit SHLD/SHRD count above 16, a 16-bit BSWAP; DIV/IDIV always have a divisor
 * other than 0 and -1 and a zero- or sign-extended dividend, so they never fault. LZCNT is left
 * out: on a CPU without ABM (this host's AMD EPYC reports none) it executes as BSR. Memory
 * operands stay inside the case's {@value #BUFFER}-byte buffer, which %rbx points at the middle of;
 * %rbx and %rsp are never operands.
 */
final class IntegerSequenceGenerator {
    static final int CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
    static final int ARITH = CF | PF | AF | ZF | SF | OF;
    /** Bytes of memory each case owns; %rbx points at its middle so displacements are signed. */
    static final int BUFFER = 256;
    private static final int HALF = BUFFER / 2;
    /** The registers a case sets, changes and compares, in the order results are stored. */
    static final String[] R64 = {"rax", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
    private static final String[] R32 = {"eax", "ecx", "edx", "esi", "edi", "ebp", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
    private static final String[] R16 = {"ax", "cx", "dx", "si", "di", "bp", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
    private static final String[] R8 = {"al", "cl", "dl", "sil", "dil", "bpl", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};
    /** 8-bit registers that need no REX prefix (and so may be paired with AH, CH, DH). */
    private static final String[] LEGACY8 = {"al", "cl", "dl", "ah", "ch", "dh"};
    private static final int RAX = 0, RCX = 1, RDX = 2, RSI = 3, RDI = 4, RBP = 5;
    /** Index registers of memory operands: no REX needed (AH stays usable), never set by another pre-step. */
    private static final int[] INDEX = {RSI, RDI, RBP};
    /** Registers holding a BT bit offset: never an index register, never RAX/RCX/RDX. */
    private static final int[] BIT_OFFSET = {6, 7, 8, 9};
    private static final String[] CONDITIONS = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"};
    private static final int[] CONDITION_FLAGS = {OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF,
        ZF | SF | OF, ZF | SF | OF};
    private static final long[] INTERESTING = {0, 1, 2, -1, -2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
        0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL, 0x1_0000_0000L, Long.MAX_VALUE, Long.MIN_VALUE, 0x8000_0000_0000_0001L};

    /** One instruction (with the lines that prepare its operands) and the flags defined after it. */
    record Step(List<String> lines, int definedAfter) {}

    /** Initial registers (in {@link #R64} order), arithmetic flags and DF, buffer, and the steps. */
    record Case(long[] registers, int flags, byte[] memory, List<Step> steps) {
        /** The flags a case compares: DF and the arithmetic flags defined after its last step. */
        int comparedFlags() {
            return DF | (steps.isEmpty() ? ARITH : steps.get(steps.size() - 1).definedAfter());
        }

        Case prefix(int n) {
            return new Case(registers, flags, memory, steps.subList(0, n));
        }
    }

    private final SplittableRandom random;
    private List<String> lines;
    private int defined;

    IntegerSequenceGenerator(long seed) {
        random = new SplittableRandom(seed);
    }

    Case next(int length) {
        long[] registers = new long[R64.length];
        for (int i = 0; i < registers.length; i++) {
            registers[i] = value();
        }
        byte[] memory = new byte[BUFFER];
        random.nextBytes(memory);
        for (int i = 0; i < 8; i++) { // some words of all-ones, zeros and sign boundaries
            int at = random.nextInt(BUFFER - 8);
            long v = INTERESTING[random.nextInt(INTERESTING.length)];
            for (int b = 0; b < 8; b++) {
                memory[at + b] = (byte) (v >>> (8 * b));
            }
        }
        int flags = (random.nextInt() & ARITH) | (random.nextInt(4) == 0 ? DF : 0);
        defined = ARITH;
        List<Step> steps = new ArrayList<>(length);
        for (int i = 0; i < length; i++) {
            lines = new ArrayList<>();
            step();
            steps.add(new Step(List.copyOf(lines), defined));
        }
        return new Case(registers, flags, memory, List.copyOf(steps));
    }

    private void step() {
        switch (random.nextInt(24)) {
            case 0, 1, 2, 3 -> alu();
            case 4 -> test();
            case 5 -> unary();
            case 6 -> mulDiv();
            case 7 -> imul();
            case 8, 9 -> shift();
            case 10 -> doubleShift();
            case 11 -> bitTest();
            case 12 -> bitScan();
            case 13 -> conditional();
            case 14 -> exchange();
            case 15, 16 -> move();
            case 17 -> extend();
            case 18 -> lea();
            case 19 -> misc();
            case 20 -> pushPop();
            case 21, 22 -> string();
            default -> flagOps();
        }
    }

    // ---- instruction families ----

    private void alu() {
        String op = pick("add", "or", "adc", "sbb", "and", "sub", "xor", "cmp");
        if (op.equals("adc") || op.equals("sbb")) {
            need(CF);
        }
        int size = size();
        String[] o = operands(size, true);
        emit(lock(o[1], !op.equals("cmp")) + op + suffix(size) + " " + o[0] + ", " + o[1]);
        defined = op.equals("and") || op.equals("or") || op.equals("xor") ? ARITH & ~AF : ARITH;
    }

    private void test() {
        int size = size();
        String[] o = operands(size, true);
        if (o[0].contains("(")) { // TEST has no mem,reg form: the same instruction is reg,mem
            o = new String[] {o[1], o[0]};
        }
        emit("test" + suffix(size) + " " + o[0] + ", " + o[1]);
        defined = ARITH & ~AF;
    }

    private void unary() {
        String op = pick("inc", "dec", "neg", "not");
        int size = size();
        String rm = rm(size, true);
        emit(lock(rm, true) + op + suffix(size) + " " + rm);
        switch (op) {
            case "inc", "dec" -> defined = (defined & CF) | (ARITH & ~CF);
            case "neg" -> defined = ARITH;
            default -> { }
        }
    }

    private void mulDiv() {
        String op = pick("mul", "imul", "div", "idiv");
        int size = size();
        String s = suffix(size);
        String source;
        if (op.endsWith("div")) {
            long divisor;
            do {
                divisor = truncate(immediate(size), size);
            } while (divisor == 0 || divisor == truncate(-1, size));
            source = random.nextBoolean() ? register(pickOf(RCX, RSI, RDI, RBP, 6, 7, 8, 9, 10, 11, 12, 13), size) : memory(size);
            lines.add("mov" + s + " $" + signed(divisor, size) + ", " + source);
            if (op.equals("div")) {
                lines.add(size == 1 ? "movb $0, %ah" : "xorl %edx, %edx");
            } else {
                lines.add(switch (size) { case 1 -> "cbtw"; case 2 -> "cwtd"; case 4 -> "cltd"; default -> "cqto"; });
            }
            defined = 0;
        } else {
            source = rm(size, true);
            defined = CF | OF;
        }
        emit(op + s + " " + source);
    }

    private void imul() {
        int size = 2 << random.nextInt(3);
        String dst = register(random.nextInt(R64.length), size);
        String src = rm(size, false);
        if (random.nextBoolean()) {
            emit("imul " + src + ", " + dst);
        } else {
            emit("imul $" + signed(truncate(immediate(size), size), Math.min(size, 4)) + ", " + src + ", " + dst);
        }
        defined = CF | OF;
    }

    private void shift() {
        String op = pick("shl", "shr", "sar", "rol", "ror", "rcl", "rcr");
        if (op.startsWith("rc")) {
            need(CF);
        }
        int size = size();
        int bits = 8 * size;
        String dst = rm(size, true);
        int count;
        switch (random.nextInt(3)) {
            case 0 -> {
                count = 1;
                emit(op + suffix(size) + " " + dst);
            }
            case 1 -> {
                count = count(bits);
                emit(op + suffix(size) + " $" + count + ", " + dst);
            }
            default -> {
                count = count(bits);
                lines.add("movb $" + count + ", %cl");
                emit(op + suffix(size) + " %cl, " + dst);
            }
        }
        int masked = count & (size == 8 ? 63 : 31);
        if (masked == 0) {
            return; // no flag changes
        }
        int overflow = masked == 1 ? OF : 0;
        defined = switch (op) {
            case "shl", "shr" -> SF | ZF | PF | overflow | (masked < bits ? CF : 0);
            case "sar" -> SF | ZF | PF | CF | overflow;
            default -> (defined & ~(CF | OF)) | CF | overflow;
        };
    }

    private void doubleShift() {
        int size = 2 << random.nextInt(3);
        String dst = rm(size, false);
        String src = register(random.nextInt(R64.length), size);
        int count;
        do {
            count = count(8 * size);
        } while (size == 2 && (count & 31) > 16); // larger 16-bit counts leave the result undefined
        String op = pick("shld", "shrd") + suffix(size);
        if (random.nextBoolean()) {
            emit(op + " $" + count + ", " + src + ", " + dst);
        } else {
            lines.add("movb $" + count + ", %cl");
            emit(op + " %cl, " + src + ", " + dst);
        }
        int masked = count & (size == 8 ? 63 : 31);
        if (masked != 0) {
            defined = SF | ZF | PF | CF | (masked == 1 ? OF : 0);
        }
    }

    private void bitTest() {
        String op = pick("bt", "bts", "btr", "btc");
        int size = 2 << random.nextInt(3);
        int bits = 8 * size;
        String s = suffix(size);
        switch (random.nextInt(3)) {
            case 0 -> {
                String rm = rm(size, false);
                emit(lock(rm, !op.equals("bt")) + op + s + " $" + random.nextInt(256) + ", " + rm);
            }
            case 1 -> emit(op + s + " " + register(random.nextInt(R64.length), size) + ", " + register(random.nextInt(R64.length), size));
            default -> { // a bit string: the offset reaches below and above the operand, within the buffer
                int d = -HALF + random.nextInt(BUFFER - size + 1);
                int lo = Math.floorDiv(-HALF - d, size) + ((-HALF - d) % size == 0 ? 0 : 1);
                int hi = Math.floorDiv(HALF - size - d, size);
                long offset = (long) (lo + random.nextInt(hi - lo + 1)) * bits + random.nextInt(bits);
                int r = BIT_OFFSET[random.nextInt(BIT_OFFSET.length)];
                lines.add("movq $" + offset + ", %" + R64[r]);
                String mem = d + "(%rbx)";
                emit(lock(mem, !op.equals("bt")) + op + s + " " + register(r, size) + ", " + mem);
            }
        }
        defined = (defined & ZF) | CF;
    }

    private void bitScan() {
        int size = 2 << random.nextInt(3);
        String dst = register(random.nextInt(R64.length), size);
        String op = pick("bsf", "bsr", "tzcnt", "popcnt");
        String src = rm(size, false);
        if (op.startsWith("bs")) {
            lines.add("bts" + suffix(size) + " $" + random.nextInt(8 * size) + ", " + src); // zero leaves the result undefined
        }
        emit(op + suffix(size) + " " + src + ", " + dst);
        defined = switch (op) {
            case "bsf", "bsr" -> ZF;
            case "tzcnt" -> CF | ZF;
            default -> ARITH;
        };
    }

    private void conditional() {
        int c = random.nextInt(CONDITIONS.length);
        need(CONDITION_FLAGS[c]);
        switch (random.nextInt(3)) {
            case 0 -> {
                int size = 2 << random.nextInt(3);
                emit("cmov" + CONDITIONS[c] + " " + rm(size, false) + ", " + register(random.nextInt(R64.length), size));
            }
            case 1 -> emit("set" + CONDITIONS[c] + " " + rm(1, true));
            default -> { // a forward branch over an instruction that leaves the flags alone
                emit("j" + CONDITIONS[c] + " 1f");
                int size = size();
                String rm = rm(size, true);
                lines.add(random.nextBoolean() ? "not" + suffix(size) + " " + rm
                        : "mov" + suffix(size) + " $" + signed(truncate(immediate(size), size), Math.min(size, 4)) + ", " + rm);
                lines.add("1:");
            }
        }
    }

    private void exchange() {
        String op = pick("xchg", "xadd", "cmpxchg");
        int size = size();
        String[] pair = registerPair(size);
        String dst = random.nextBoolean() ? pair[1] : memory(size);
        emit(lock(dst, !op.equals("xchg")) + op + suffix(size) + " " + pair[0] + ", " + dst);
        if (!op.equals("xchg")) {
            defined = ARITH;
        }
    }

    private void move() {
        int size = size();
        if (size == 8 && random.nextInt(4) == 0) {
            emit("movabsq $" + value() + ", %" + R64[random.nextInt(R64.length)]);
            return;
        }
        String[] o = operands(size, true);
        emit("mov" + suffix(size) + " " + o[0] + ", " + o[1]);
    }

    private void extend() {
        int from = 1 << random.nextInt(3);
        int to;
        do {
            to = 2 << random.nextInt(3);
        } while (to <= from);
        boolean signed = random.nextBoolean() || from == 4;
        String op = from == 4 ? "movslq" : (signed ? "movs" : "movz") + suffix(from) + suffix(to);
        String src = rm(from, to != 8);
        boolean high8 = src.matches("%[acd]h");
        emit(op + " " + src + ", " + register(random.nextInt(high8 ? RBP + 1 : R64.length), to)); // AH needs a REX-free partner
    }

    private void lea() {
        int size = 2 << random.nextInt(3);
        boolean address32 = random.nextInt(4) == 0;
        String[] names = address32 ? R32 : R64;
        String base = random.nextInt(5) == 0 ? (address32 ? "%ebx" : "%rbx") : "%" + names[random.nextInt(names.length)];
        String index = "%" + names[random.nextInt(names.length)];
        long disp = random.nextBoolean() ? random.nextInt(256) - 128 : random.nextInt();
        String address = switch (random.nextInt(3)) {
            case 0 -> disp + "(" + base + ")";
            case 1 -> disp + "(" + base + "," + index + "," + (1 << random.nextInt(4)) + ")";
            default -> disp + "(," + index + "," + (1 << random.nextInt(4)) + ")";
        };
        emit("lea" + suffix(size) + " " + address + ", " + register(random.nextInt(R64.length), size));
    }

    private void misc() {
        switch (random.nextInt(4)) {
            case 0 -> emit("bswap " + register(random.nextInt(R64.length), random.nextBoolean() ? 4 : 8));
            case 1 -> emit(pick("cbtw", "cwtl", "cltq", "cwtd", "cltd", "cqto"));
            case 2 -> {
                emit("sahf");
                defined |= SF | ZF | AF | PF | CF;
            }
            default -> {
                need(SF | ZF | AF | PF | CF);
                emit("lahf");
            }
        }
    }

    private void pushPop() {
        String from = switch (random.nextInt(3)) {
            case 0 -> "%" + R64[random.nextInt(R64.length)];
            case 1 -> "$" + signed(truncate(immediate(4), 4), 4);
            default -> memory(8);
        };
        emit("pushq " + from);
        emit("popq " + (random.nextBoolean() ? "%" + R64[random.nextInt(R64.length)] : memory(8))); // its index is set after the push
    }

    private void string() {
        String op = pick("movs", "stos", "lods", "cmps", "scas");
        int size = size();
        boolean down = random.nextInt(3) == 0;
        boolean compares = op.equals("cmps") || op.equals("scas");
        String prefix = random.nextInt(3) == 0 ? "" : compares ? pick("repe ", "repne ") : "rep ";
        int n = prefix.isEmpty() ? 1 : random.nextInt(Math.min(17, 96 / size + 1));
        lines.add(down ? "std" : "cld");
        if (!prefix.isEmpty()) {
            lines.add("movq $" + n + ", %rcx");
        }
        if (!op.equals("stos") && !op.equals("scas")) {
            lines.add("leaq " + (stringStart(n, size, down) - HALF) + "(%rbx), %rsi");
        }
        if (!op.equals("lods")) {
            lines.add("leaq " + (stringStart(n, size, down) - HALF) + "(%rbx), %rdi");
        }
        emit(prefix + op + suffix(size));
        if (compares && n > 0) {
            defined = ARITH;
        }
    }

    private void flagOps() {
        String op = pick("clc", "stc", "cmc");
        if (op.equals("cmc")) {
            need(CF);
        }
        emit(op);
        defined |= CF;
    }

    // ---- operands ----

    /** Where n elements of the size may start so that all of them stay in the buffer, going up or down. */
    private int stringStart(int n, int size, boolean down) {
        int span = Math.max(n, 1) * size;
        return down ? span - size + random.nextInt(BUFFER - span + 1) : random.nextInt(BUFFER - span + 1);
    }

    /** {source, destination} of a two-operand instruction: reg,reg; imm,reg; imm,mem; reg,mem; mem,reg. */
    private String[] operands(int size, boolean immediateAllowed) {
        int form = random.nextInt(immediateAllowed ? 5 : 3);
        String imm = "$" + signed(truncate(immediate(size), size), Math.min(size, 4));
        return switch (form) {
            case 0 -> registerPair(size);
            case 1 -> new String[] {register(random.nextInt(R64.length), size), memory(size)};
            case 2 -> {
                String mem = memory(size);
                yield new String[] {mem, register(random.nextInt(R64.length), size)};
            }
            case 3 -> new String[] {imm, register(random.nextInt(R64.length), size)};
            default -> new String[] {imm, memory(size)};
        };
    }

    private String[] registerPair(int size) {
        if (size == 1 && random.nextInt(5) == 0) {
            return new String[] {"%" + LEGACY8[random.nextInt(LEGACY8.length)], "%" + LEGACY8[random.nextInt(LEGACY8.length)]};
        }
        return new String[] {register(random.nextInt(R64.length), size), register(random.nextInt(R64.length), size)};
    }

    /** A register or memory operand; an 8-bit register may be AH, CH or DH when {@code high8}. */
    private String rm(int size, boolean high8) {
        if (random.nextBoolean()) {
            return memory(size);
        }
        if (size == 1 && high8 && random.nextInt(5) == 0) {
            return "%" + LEGACY8[3 + random.nextInt(3)];
        }
        return register(random.nextInt(R64.length), size);
    }

    /** A memory operand inside the buffer: disp(%rbx), disp(%rbx,%idx,scale) or BUF+off(%rip). */
    private String memory(int size) {
        int form = random.nextInt(10);
        if (form == 0) {
            return "BUF+" + random.nextInt(BUFFER - size + 1) + "(%rip)";
        }
        if (form <= 2) {
            int index = INDEX[random.nextInt(INDEX.length)];
            int scale = 1 << random.nextInt(4);
            int k = random.nextInt((BUFFER - size) / scale + 1);
            int d = -HALF + random.nextInt(BUFFER - size - k * scale + 1);
            lines.add("movq $" + k + ", %" + R64[index]);
            return d + "(%rbx,%" + R64[index] + "," + scale + ")";
        }
        return (-HALF + random.nextInt(BUFFER - size + 1)) + "(%rbx)";
    }

    private static String register(int i, int size) {
        return "%" + switch (size) {
            case 1 -> R8[i];
            case 2 -> R16[i];
            case 4 -> R32[i];
            default -> R64[i];
        };
    }

    private static String suffix(int size) {
        return switch (size) {
            case 1 -> "b";
            case 2 -> "w";
            case 4 -> "l";
            default -> "q";
        };
    }

    private int size() {
        return 1 << random.nextInt(4);
    }

    /** Shift counts around the interesting edges: 0, 1, the width, the 5/6-bit masks, and any byte. */
    private int count(int bits) {
        int[] edges = {0, 1, 2, bits - 1, bits, bits + 1, 31, 32, 33, 63, 64, 65};
        return random.nextInt(3) == 0 ? random.nextInt(256) : edges[random.nextInt(edges.length)];
    }

    private long value() {
        return switch (random.nextInt(4)) {
            case 0 -> INTERESTING[random.nextInt(INTERESTING.length)];
            case 1 -> random.nextInt(512) - 256;
            default -> random.nextLong();
        };
    }

    private long immediate(int size) {
        return switch (random.nextInt(3)) {
            case 0 -> random.nextInt(256) - 128;
            case 1 -> INTERESTING[random.nextInt(INTERESTING.length)];
            default -> random.nextLong();
        };
    }

    /** The value as the assembler takes an immediate of the size (at most 32 bits, sign-extended for 64). */
    private static long truncate(long v, int size) {
        return switch (size) {
            case 1 -> (byte) v;
            case 2 -> (short) v;
            default -> (int) v;
        };
    }

    private static String signed(long v, int size) {
        return Long.toString(truncate(v, size));
    }

    private String lock(String destination, boolean lockable) {
        return lockable && destination.contains("(") && random.nextInt(6) == 0 ? "lock " : "";
    }

    /** Makes sure the flags a consumer reads are defined: a CMP of two registers defines all six. */
    private void need(int flags) {
        if ((defined & flags) != flags) {
            lines.add("cmpq %" + R64[random.nextInt(R64.length)] + ", %" + R64[random.nextInt(R64.length)]);
            defined = ARITH;
        }
    }

    private void emit(String line) {
        lines.add(line);
    }

    private String pick(String... options) {
        return options[random.nextInt(options.length)];
    }

    private int pickOf(int... options) {
        return options[random.nextInt(options.length)];
    }
}
