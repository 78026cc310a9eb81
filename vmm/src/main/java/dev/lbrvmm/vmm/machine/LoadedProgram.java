package dev.lbrvmm.vmm.machine;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A program placed in guest memory.
 *
 * @param end     one past the highest loaded byte
 * @param symbols   function and object symbols (ELF .symtab), sorted by address; empty for flat binaries
 * @param multiboot a Multiboot kernel (entered in 32-bit protected mode), not a 64-bit program
 */
public record LoadedProgram(Path path, long entry, long start, long end, boolean elf, List<Symbol> symbols, boolean multiboot) {

    public LoadedProgram(Path path, long entry, long start, long end, boolean elf, List<Symbol> symbols) {
        this(path, entry, start, end, elf, symbols, false);
    }

    public record Symbol(String name, long address, long size) {}

    /** The symbol containing an address, if any (sizes of 0 cover up to the next symbol). */
    public Optional<Symbol> symbolAt(long address) {
        Symbol best = null;
        for (Symbol s : symbols) {
            if (s.address() > address) {
                break;
            }
            if (s.size() == 0 || address < s.address() + s.size()) {
                best = s;
            }
        }
        return Optional.ofNullable(best);
    }

    /** "name+0xoff" for an address inside a symbol, else "0xaddr". */
    public String describe(long address) {
        return symbolAt(address).map(s -> address == s.address() ? s.name() : s.name() + "+0x" + Long.toHexString(address - s.address()))
                .orElse("0x" + Long.toHexString(address));
    }
}
