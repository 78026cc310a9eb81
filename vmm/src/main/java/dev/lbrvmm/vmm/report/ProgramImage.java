package dev.lbrvmm.vmm.report;

import dev.lbrvmm.vmm.cpu.Decoder;
import dev.lbrvmm.vmm.cpu.GuestMemory;
import dev.lbrvmm.vmm.cpu.Insn;
import dev.lbrvmm.vmm.cpu.Op;
import dev.lbrvmm.vmm.machine.ElfLoader;
import dev.lbrvmm.vmm.machine.LoadedProgram;
import dev.lbrvmm.vmm.machine.ProgramLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The program the samples came from: its symbols (to name addresses) and its code (to tell calls
 * and returns from jumps, as perf does from the binary when the LBR format has no branch type).
 * Without a program, addresses stay hexadecimal and every branch is "other".
 */
public final class ProgramImage {
    /** What a recorded branch was, from the instruction at its FROM address. */
    public enum BranchType { CALL, RETURN, FAR, OTHER }

    private static final long MEMORY = 64L << 20;

    private final LoadedProgram program;
    private final Decoder decoder;
    private final java.util.Map<Long, BranchType> types = new java.util.HashMap<>();

    private ProgramImage(LoadedProgram program, Decoder decoder) {
        this.program = program;
        this.decoder = decoder;
    }

    /** No program: hexadecimal addresses, no branch types. */
    public static ProgramImage none() {
        return new ProgramImage(null, null);
    }

    /** Names from a recorded symbol table, without the code: branches are all "other". */
    public static ProgramImage ofSymbols(java.util.List<LoadedProgram.Symbol> symbols) {
        return new ProgramImage(new LoadedProgram(null, 0, 0, 0, true, java.util.List.copyOf(symbols)), null);
    }

    /** Loads a static x86-64 ELF into a scratch memory, as the VMM would. */
    public static ProgramImage load(Path elf) throws ReportInputException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(elf);
        } catch (IOException e) {
            throw new ReportInputException(elf + ": cannot read the program: " + e.getMessage());
        }
        GuestMemory mem = new GuestMemory(MEMORY);
        try {
            return new ProgramImage(ElfLoader.load(elf, bytes, mem), new Decoder(mem));
        } catch (ProgramLoadException e) {
            throw new ReportInputException("--program: " + e.getMessage());
        }
    }

    /** The address of a symbol; throws if the program has no such symbol ({@link #hasSymbol} first). */
    public long address(String symbol) {
        return find(symbol).orElseThrow(() -> new IllegalArgumentException("no symbol " + symbol)).address();
    }

    public boolean hasSymbol(String symbol) {
        return find(symbol).isPresent();
    }

    private Optional<LoadedProgram.Symbol> find(String symbol) {
        return program == null ? Optional.empty() : program.symbols().stream().filter(s -> s.name().equals(symbol)).findFirst();
    }

    public boolean hasSymbols() {
        return program != null && !program.symbols().isEmpty();
    }

    /** "name+0xoff" inside a symbol, else "0xaddr". */
    public String describe(long address) {
        return program == null ? "0x" + Long.toHexString(address) : program.describe(address);
    }

    /** True when a symbol holds the address. */
    public boolean symbolAt(long address) {
        return program != null && program.symbolAt(address).isPresent();
    }

    /** The function (symbol) holding an address, or its hexadecimal form. */
    public String function(long address) {
        Optional<LoadedProgram.Symbol> s = program == null ? Optional.empty() : program.symbolAt(address);
        return s.map(LoadedProgram.Symbol::name).orElse("0x" + Long.toHexString(address));
    }

    /** Decodes the instruction at a branch's source; outside the program it is OTHER. */
    public BranchType typeAt(long from) {
        if (program == null || from < program.start() || from >= program.end()) {
            return BranchType.OTHER;
        }
        return types.computeIfAbsent(from, a -> {
            Insn in = decoder.decode(a);
            return switch (in.op) {
                case Op.CALL_REL, Op.CALL_RM -> BranchType.CALL;
                case Op.RET, Op.RET_I -> BranchType.RETURN;
                case Op.INT, Op.INT3, Op.IRET, Op.SYSCALL, Op.SYSRET -> BranchType.FAR;
                default -> BranchType.OTHER;
            };
        });
    }
}
