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
 * Loads a Multiboot (version 1) kernel as QEMU's {@code -kernel} does (hw/i386/multiboot.c): the
 * header (magic 0x1BADB002 in the first 8 KiB, 4-byte aligned, with a checksum) names the kernel;
 * with flags bit 16 its a.out-kludge address fields say where to load it, otherwise its ELF32
 * program headers do (PT_LOAD at the physical address, bss zeroed). An information block is
 * built in low memory (memory sizes, command line, a memory map, an optional module), and the
 * kernel is entered in 32-bit protected mode with EAX = 0x2BADB002 and EBX = the block.
 */
public final class MultibootLoader {
    public static final int HEADER_MAGIC = 0x1BADB002;
    public static final int BOOTLOADER_MAGIC = 0x2BADB002;
    /** Where the information block and what it points to go (below the 640 KiB of low memory, as GRUB does). */
    public static final long INFO_ADDRESS = 0x9000;
    private static final long INFO_END = 0xA000;
    private static final long CMDLINE = INFO_ADDRESS + 0x100, MMAP = INFO_ADDRESS + 0x600, MODS = INFO_ADDRESS + 0x700,
            MOD_STRING = INFO_ADDRESS + 0x800;
    private static final int SEARCH = 8192;
    private static final int FLAG_AOUT_KLUDGE = 1 << 16;
    /** Information block flags: mem_lower/upper, cmdline, mods, mmap. */
    private static final int MBI_MEM = 1, MBI_CMDLINE = 1 << 2, MBI_MODS = 1 << 3, MBI_MMAP = 1 << 6;
    private static final long LOW_MEMORY = 0x9FC00;
    private static final int EM_386 = 3, PT_LOAD = 1, SHT_SYMTAB = 2;

    private MultibootLoader() {}

    /** An optional module (QEMU -initrd): its file name and bytes. */
    public record Module(String name, byte[] bytes) {}

    /** The offset of a valid-looking header in the first 8 KiB, or -1 (the checksum is checked by {@link #load}). */
    public static int findHeader(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        for (int off = 0; off + 12 <= Math.min(file.length, SEARCH); off += 4) {
            if (b.getInt(off) == HEADER_MAGIC) {
                return off;
            }
        }
        return -1;
    }

    /**
     * Loads the kernel and builds the information block.
     *
     * @param cmdline the command line after the kernel's name ("" for none)
     * @param module  null or the module to pass
     */
    public static LoadedProgram load(Path path, byte[] file, String cmdline, Module module, GuestMemory mem) throws ProgramLoadException {
        String what = path.toString();
        int h = findHeader(file);
        if (h < 0) {
            throw new ProgramLoadException(what + " has no Multiboot header (magic 0x1badb002 in its first 8 KiB)");
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int flags = b.getInt(h + 4);
        int checksum = b.getInt(h + 8);
        if (HEADER_MAGIC + flags + checksum != 0) {
            throw new ProgramLoadException(String.format("%s: Multiboot header at offset %d has a bad checksum (magic + flags + checksum"
                    + " = 0x%x, must be 0)", what, h, HEADER_MAGIC + flags + checksum));
        }
        Image image = (flags & FLAG_AOUT_KLUDGE) != 0 ? aout(what, b, file, h, mem) : elf32(what, b, file, mem);
        long end = image.end;
        long moduleStart = 0, moduleEnd = 0;
        if (module != null) {
            moduleStart = (end + 0xFFF) & ~0xFFFL;
            moduleEnd = moduleStart + module.bytes().length;
            if (!mem.contains(moduleStart, module.bytes().length)) {
                throw new ProgramLoadException(String.format("module %s (%d bytes) does not fit in guest memory above the kernel"
                        + " (0x%x..0x%x); raise guest.memory", module.name(), module.bytes().length, moduleStart, mem.size()));
            }
            mem.load(moduleStart, module.bytes(), 0, module.bytes().length);
        }
        writeInfo(mem, what + (cmdline.isEmpty() ? "" : " " + cmdline), module, moduleStart, moduleEnd);
        return new LoadedProgram(path, image.entry, image.start, Math.max(end, moduleEnd), true, image.symbols, true);
    }

    private record Image(long entry, long start, long end, List<LoadedProgram.Symbol> symbols) {}

    /** flags bit 16: header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr follow the checksum. */
    private static Image aout(String what, ByteBuffer b, byte[] file, int h, GuestMemory mem) throws ProgramLoadException {
        if (h + 32 > file.length) {
            throw new ProgramLoadException(what + ": Multiboot header at offset " + h + " is truncated (the address fields need 32 bytes)");
        }
        long headerAddr = u32(b, h + 12), loadAddr = u32(b, h + 16), loadEnd = u32(b, h + 20), bssEnd = u32(b, h + 24);
        long entry = u32(b, h + 28);
        long fileStart = h - (headerAddr - loadAddr);
        if (loadAddr > headerAddr || fileStart < 0) {
            throw new ProgramLoadException(String.format("%s: Multiboot load_addr 0x%x and header_addr 0x%x put the image before the"
                    + " start of the file", what, loadAddr, headerAddr));
        }
        long size = loadEnd == 0 ? file.length - fileStart : loadEnd - loadAddr;
        if (size < 0 || fileStart + size > file.length) {
            throw new ProgramLoadException(String.format("%s: Multiboot load_end_addr 0x%x runs past the end of the %d-byte file",
                    what, loadEnd, file.length));
        }
        long end = Math.max(loadAddr + size, bssEnd);
        place(what, "the image", loadAddr, end, mem);
        mem.load(loadAddr, file, (int) fileStart, (int) size);
        if (end > loadAddr + size) {
            mem.fill(loadAddr + size, (byte) 0, end - loadAddr - size);
        }
        if (entry < loadAddr || entry >= end) {
            throw new ProgramLoadException(String.format("%s: Multiboot entry_addr 0x%x lies outside the loaded image", what, entry));
        }
        return new Image(entry, loadAddr, end, List.of());
    }

    private static Image elf32(String what, ByteBuffer b, byte[] file, GuestMemory mem) throws ProgramLoadException {
        if (!ElfLoader.isElf(file) || file.length < 52) {
            throw new ProgramLoadException(what + ": a Multiboot kernel without the a.out kludge (flags bit 16) must be an ELF file");
        }
        if (file[4] != 1 || b.getShort(18) != EM_386) {
            throw new ProgramLoadException(what + ": a Multiboot ELF kernel must be ELF32 for i386 (elf32-i386), as QEMU requires");
        }
        long entry = u32(b, 24);
        long phoff = u32(b, 28);
        int phentsize = b.getShort(42) & 0xFFFF;
        int phnum = b.getShort(44) & 0xFFFF;
        if (phnum == 0 || phentsize < 32 || phoff + (long) phnum * phentsize > file.length) {
            throw new ProgramLoadException(what + ": program header table (offset " + phoff + ", " + phnum + " entries of "
                    + phentsize + " bytes) lies outside the " + file.length + "-byte file");
        }
        long lo = Long.MAX_VALUE, hi = 0;
        for (int i = 0; i < phnum; i++) {
            int at = (int) (phoff + (long) i * phentsize);
            if (b.getInt(at) != PT_LOAD) {
                continue;
            }
            long off = u32(b, at + 4), paddr = u32(b, at + 12), filesz = u32(b, at + 16), memsz = u32(b, at + 20);
            if (off + filesz > file.length) {
                throw new ProgramLoadException(String.format("%s: segment %d's file data [%d, %d) runs past the end of the %d-byte file",
                        what, i, off, off + filesz, file.length));
            }
            if (memsz < filesz) {
                throw new ProgramLoadException(String.format("%s: segment %d has p_memsz %d smaller than p_filesz %d", what, i, memsz, filesz));
            }
            place(what, "segment " + i, paddr, paddr + memsz, mem);
            mem.load(paddr, file, (int) off, (int) filesz);
            if (memsz > filesz) {
                mem.fill(paddr + filesz, (byte) 0, memsz - filesz);
            }
            lo = Math.min(lo, paddr);
            hi = Math.max(hi, paddr + memsz);
        }
        if (hi == 0) {
            throw new ProgramLoadException(what + " has no PT_LOAD segment, so nothing to load");
        }
        if (entry < lo || entry >= hi) {
            throw new ProgramLoadException(String.format("%s: entry point 0x%x lies outside the loaded segments", what, entry));
        }
        return new Image(entry, lo, hi, symbols(b, file));
    }

    private static void place(String what, String part, long start, long end, GuestMemory mem) throws ProgramLoadException {
        if (!mem.contains(start, end - start)) {
            throw new ProgramLoadException(String.format("%s: %s [0x%x, 0x%x) lies outside guest memory of %d MiB; raise guest.memory",
                    what, part, start, end, mem.size() >> 20));
        }
        if (start < INFO_END && end > INFO_ADDRESS) {
            throw new ProgramLoadException(String.format("%s: %s [0x%x, 0x%x) overlaps the Multiboot information block at [0x%x, 0x%x)",
                    what, part, start, end, INFO_ADDRESS, INFO_END));
        }
    }

    private static void writeInfo(GuestMemory mem, String cmdline, Module module, long modStart, long modEnd) throws ProgramLoadException {
        byte[] cmd = (cmdline + "\0").getBytes(StandardCharsets.UTF_8);
        if (cmd.length > MMAP - CMDLINE) {
            throw new ProgramLoadException("the kernel command line is " + cmd.length + " bytes; at most " + (MMAP - CMDLINE - 1) + " fit");
        }
        mem.fill(INFO_ADDRESS, (byte) 0, (int) (INFO_END - INFO_ADDRESS));
        int flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | (module != null ? MBI_MODS : 0);
        mem.write32(INFO_ADDRESS, flags);
        mem.write32(INFO_ADDRESS + 4, LOW_MEMORY >> 10);
        mem.write32(INFO_ADDRESS + 8, (mem.lowEnd() - 0x100000) >> 10); // KiB from 1 MiB to the first hole
        mem.write32(INFO_ADDRESS + 12, 0xFFFF_FFFFL); // boot_device: none
        mem.write32(INFO_ADDRESS + 16, CMDLINE);
        mem.load(CMDLINE, cmd, 0, cmd.length);
        // Memory map (type 1 = RAM): low memory, 1 MiB to the hole below 4 GiB, and what lies above 4 GiB.
        long[][] ranges = mem.end() > mem.lowEnd()
                ? new long[][] {{0, LOW_MEMORY}, {0x100000, mem.lowEnd() - 0x100000}, {GuestMemory.HIGH_START, mem.end() - GuestMemory.HIGH_START}}
                : new long[][] {{0, LOW_MEMORY}, {0x100000, mem.lowEnd() - 0x100000}};
        long p = MMAP;
        for (long[] r : ranges) {
            mem.write32(p, 20);
            mem.write64(p + 4, r[0]);
            mem.write64(p + 12, r[1]);
            mem.write32(p + 20, 1);
            p += 24;
        }
        mem.write32(INFO_ADDRESS + 44, p - MMAP);
        mem.write32(INFO_ADDRESS + 48, MMAP);
        if (module != null) {
            byte[] name = (module.name() + "\0").getBytes(StandardCharsets.UTF_8);
            if (name.length > INFO_END - MOD_STRING) {
                throw new ProgramLoadException("the module name " + module.name() + " is too long for the information block");
            }
            mem.load(MOD_STRING, name, 0, name.length);
            mem.write32(INFO_ADDRESS + 20, 1);
            mem.write32(INFO_ADDRESS + 24, MODS);
            mem.write32(MODS, modStart);
            mem.write32(MODS + 4, modEnd);
            mem.write32(MODS + 8, MOD_STRING);
        }
    }

    private static long u32(ByteBuffer b, int at) {
        return b.getInt(at) & 0xFFFF_FFFFL;
    }

    /** ELF32 .symtab function and object symbols (for info lbr and reports); malformed tables give none. */
    private static List<LoadedProgram.Symbol> symbols(ByteBuffer b, byte[] file) {
        List<LoadedProgram.Symbol> out = new ArrayList<>();
        long shoff = u32(b, 32);
        int shentsize = b.getShort(46) & 0xFFFF;
        int shnum = b.getShort(48) & 0xFFFF;
        if (shoff == 0 || shentsize < 40 || shoff + (long) shnum * shentsize > file.length) {
            return out;
        }
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            if (b.getInt(sh + 4) != SHT_SYMTAB) {
                continue;
            }
            long off = u32(b, sh + 16), size = u32(b, sh + 20);
            int link = b.getInt(sh + 24);
            if (link < 0 || link >= shnum || off + size > file.length) {
                continue;
            }
            int strSh = (int) (shoff + (long) link * shentsize);
            long strOff = u32(b, strSh + 16), strSize = u32(b, strSh + 20);
            if (strOff + strSize > file.length) {
                continue;
            }
            for (long p = off; p + 16 <= off + size; p += 16) {
                long name = u32(b, (int) p);
                long value = u32(b, (int) p + 4);
                long symSize = u32(b, (int) p + 8);
                ElfLoader.addSymbol(out, file, strOff, strSize, name, file[(int) p + 12] & 0xF, value, symSize);
            }
        }
        out.sort(Comparator.comparingLong(LoadedProgram.Symbol::address));
        return List.copyOf(out);
    }
}
