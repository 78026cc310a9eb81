package dev.lbrvmm.vmm.machine;

import dev.lbrvmm.vmm.cpu.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Loads static ELF64 x86-64 executables: each PT_LOAD segment is copied to its virtual address
 * (memory is identity mapped) and the bss zeroed; .symtab function/object symbols are kept for
 * reports. Anything else gets an error that says what the file is and what would work.
 */
public final class ElfLoader {
    private static final int ET_EXEC = 2, ET_DYN = 3;
    private static final int EM_X86_64 = 62;
    private static final int PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3;
    private static final int SHT_SYMTAB = 2;
    private static final int STT_OBJECT = 1, STT_FUNC = 2;

    private ElfLoader() {}

    public static boolean isElf(byte[] b) {
        return b.length >= 4 && b[0] == 0x7F && b[1] == 'E' && b[2] == 'L' && b[3] == 'F';
    }

    public static LoadedProgram load(Path path, byte[] file, GuestMemory mem) throws ProgramLoadException {
        String what = path.toString();
        if (!isElf(file)) {
            throw new ProgramLoadException(what + " is not an ELF file (no \\x7fELF magic); "
                    + "for a raw binary set guest.program.format = flat");
        }
        if (file.length < 64) {
            throw new ProgramLoadException(what + ": truncated ELF header (" + file.length + " bytes, need 64)");
        }
        if (file[4] != 2) {
            throw new ProgramLoadException(what + " is a " + (file[4] == 1 ? "32-bit (ELFCLASS32)" : "class " + file[4])
                    + " ELF file; lbrvmm runs 64-bit x86-64 executables");
        }
        if (file[5] != 1) {
            throw new ProgramLoadException(what + " is a big-endian ELF file; x86-64 executables are little-endian");
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getShort(16) & 0xFFFF;
        int machine = b.getShort(18) & 0xFFFF;
        if (machine != EM_X86_64) {
            throw new ProgramLoadException(what + " is built for ELF machine " + machine + ", not x86-64 (" + EM_X86_64 + ")");
        }
        if (type == ET_DYN) {
            throw new ProgramLoadException(what + " is position-independent or a shared object (ET_DYN); "
                    + "link a static executable (gcc -static -no-pie, or ld without -pie)");
        }
        if (type != ET_EXEC) {
            throw new ProgramLoadException(what + " is not an executable (ELF type " + type + ")");
        }
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        long shoff = b.getLong(40);
        int phentsize = b.getShort(54) & 0xFFFF;
        int phnum = b.getShort(56) & 0xFFFF;
        int shentsize = b.getShort(58) & 0xFFFF;
        int shnum = b.getShort(60) & 0xFFFF;
        if (phnum == 0) {
            throw new ProgramLoadException(what + " has no program headers, so nothing to load");
        }
        if (phentsize < 56 || !fits(phoff, (long) phnum * phentsize, file.length)) {
            throw new ProgramLoadException(what + ": program header table (offset " + phoff + ", " + phnum + " entries of "
                    + phentsize + " bytes) lies outside the " + file.length + "-byte file");
        }
        long lo = Long.MAX_VALUE;
        long hi = 0;
        boolean entryInside = false;
        int loads = 0;
        for (int i = 0; i < phnum; i++) {
            int at = (int) (phoff + (long) i * phentsize);
            int ptype = b.getInt(at);
            if (ptype == PT_INTERP || ptype == PT_DYNAMIC) {
                throw new ProgramLoadException(what + " is dynamically linked (" + (ptype == PT_INTERP ? "PT_INTERP" : "PT_DYNAMIC")
                        + " segment); link it statically (-static)");
            }
            if (ptype != PT_LOAD) {
                continue;
            }
            loads++;
            long off = b.getLong(at + 8);
            long vaddr = b.getLong(at + 16);
            long filesz = b.getLong(at + 32);
            long memsz = b.getLong(at + 40);
            if (!fits(off, filesz, file.length)) {
                throw new ProgramLoadException(String.format("%s: segment %d's file data [%d, %d) runs past the end of the %d-byte file (truncated?)",
                        what, i, off, off + filesz, file.length));
            }
            if (memsz < filesz) {
                throw new ProgramLoadException(String.format("%s: segment %d has p_memsz %d smaller than p_filesz %d", what, i, memsz, filesz));
            }
            if (!mem.contains(vaddr, memsz)) {
                throw new ProgramLoadException(String.format(
                        "%s: segment %d [0x%x, 0x%x) lies outside guest memory of %d MiB (0x%x bytes); raise guest.memory or relink",
                        what, i, vaddr, vaddr + memsz, mem.size() >> 20, mem.size()));
            }
            mem.load(vaddr, file, (int) off, (int) filesz);
            if (memsz > filesz) {
                mem.fill(vaddr + filesz, (byte) 0, memsz - filesz);
            }
            lo = Math.min(lo, vaddr);
            hi = Math.max(hi, vaddr + memsz);
            if (entry >= vaddr && entry < vaddr + memsz) {
                entryInside = true;
            }
        }
        if (loads == 0) {
            throw new ProgramLoadException(what + " has no PT_LOAD segment, so nothing to load");
        }
        if (!entryInside) {
            throw new ProgramLoadException(String.format("%s: entry point 0x%x lies outside every loadable segment", what, entry));
        }
        return new LoadedProgram(path, entry, lo, hi, true, symbols(b, file, shoff, shentsize, shnum));
    }

    /**
     * True when [off, off + len) lies inside a file of {@code total} bytes, without overflow: offsets
     * and sizes come from the file and may be anything up to 2^64 - 1.
     */
    static boolean fits(long off, long len, long total) {
        return off >= 0 && len >= 0 && off <= total && len <= total - off;
    }

    /** Function and object symbols from .symtab; a missing or malformed table just yields none. */
    private static List<LoadedProgram.Symbol> symbols(ByteBuffer b, byte[] file, long shoff, int shentsize, int shnum) {
        List<LoadedProgram.Symbol> out = new ArrayList<>();
        if (shoff <= 0 || shentsize < 64 || !fits(shoff, (long) shnum * shentsize, file.length)) {
            return out;
        }
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            if (b.getInt(sh + 4) != SHT_SYMTAB) {
                continue;
            }
            long off = b.getLong(sh + 24);
            long size = b.getLong(sh + 32);
            int link = b.getInt(sh + 40);
            long entsize = b.getLong(sh + 56);
            if (entsize < 24 || link < 0 || link >= shnum || !fits(off, size, file.length)) {
                continue;
            }
            int strSh = (int) (shoff + (long) link * shentsize);
            long strOff = b.getLong(strSh + 24);
            long strSize = b.getLong(strSh + 32);
            if (!fits(strOff, strSize, file.length)) {
                continue;
            }
            for (long p = off; p + 24 <= off + size; p += entsize) {
                int name = b.getInt((int) p);
                int info = file[(int) p + 4] & 0xF;
                long value = b.getLong((int) p + 8);
                long symSize = b.getLong((int) p + 16);
                addSymbol(out, file, strOff, strSize, name, info, value, symSize);
            }
        }
        out.sort(Comparator.comparingLong(LoadedProgram.Symbol::address));
        return List.copyOf(out);
    }

    /**
     * Adds one .symtab entry if it is a named function, object or untyped symbol with an address
     * (ELF32 and ELF64 tables share this rule); section and local-label names are skipped.
     */
    static void addSymbol(List<LoadedProgram.Symbol> out, byte[] file, long strOff, long strSize, long name, int type, long value,
            long size) {
        if ((type != STT_FUNC && type != STT_OBJECT && type != 0) || name <= 0 || name >= strSize || value == 0) {
            return;
        }
        int s = (int) (strOff + name);
        int e = s;
        while (e < strOff + strSize && file[e] != 0) {
            e++;
        }
        String n = new String(file, s, e - s, StandardCharsets.UTF_8);
        if (!n.isEmpty() && !n.startsWith(".") && !n.startsWith("$")) {
            out.add(new LoadedProgram.Symbol(n, value, size));
        }
    }
}
