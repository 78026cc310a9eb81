package dev.lbrvmm.vmm.machine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Which program a recording came from, as perf identifies binaries: path, size, SHA-256 of the
 * bytes and, when the ELF carries one, the GNU build id (the NT_GNU_BUILD_ID note that
 * {@code ld --build-id} writes). Two identities name the same program when their hashes agree.
 */
public record ProgramIdentity(String path, long size, String sha256, Optional<String> buildId) {
    private static final int SHT_NOTE = 7;
    private static final int NT_GNU_BUILD_ID = 3;

    public static ProgramIdentity of(Path program) throws IOException {
        byte[] bytes = Files.readAllBytes(program);
        return new ProgramIdentity(program.toAbsolutePath().normalize().toString(), bytes.length, sha256(bytes), buildId(bytes));
    }

    public boolean sameProgram(ProgramIdentity other) {
        return sha256.equals(other.sha256);
    }

    /** "path (N bytes, sha256 abcdef012345..., build id ...)" for messages. */
    public String describe() {
        return path + " (" + size + " bytes, sha256 " + sha256.substring(0, Math.min(16, sha256.length())) + "..."
                + buildId.map(b -> ", build id " + b).orElse("") + ")";
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** The build id note of an ELF64 or ELF32 file; none for other files or a damaged section table. */
    static Optional<String> buildId(byte[] f) {
        if (f.length < 52 || f[0] != 0x7f || f[1] != 'E' || f[2] != 'L' || f[3] != 'F') {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(f).order(f[5] == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        boolean elf64 = f[4] == 2;
        try {
            long shoff = elf64 ? b.getLong(0x28) : Integer.toUnsignedLong(b.getInt(0x20));
            int shentsize = Short.toUnsignedInt(b.getShort(elf64 ? 0x3A : 0x2E));
            int shnum = Short.toUnsignedInt(b.getShort(elf64 ? 0x3C : 0x30));
            for (int i = 0; i < shnum; i++) {
                long sh = shoff + (long) i * shentsize;
                if (sh < 0 || sh + (elf64 ? 0x40 : 0x28) > f.length) {
                    return Optional.empty();
                }
                if (b.getInt((int) sh + 4) != SHT_NOTE) {
                    continue;
                }
                long off = elf64 ? b.getLong((int) sh + 0x18) : Integer.toUnsignedLong(b.getInt((int) sh + 0x10));
                long size = elf64 ? b.getLong((int) sh + 0x20) : Integer.toUnsignedLong(b.getInt((int) sh + 0x14));
                Optional<String> id = gnuBuildIdNote(b, off, size);
                if (id.isPresent()) {
                    return id;
                }
            }
        } catch (IndexOutOfBoundsException damaged) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static Optional<String> gnuBuildIdNote(ByteBuffer b, long off, long size) {
        long end = off + size;
        if (off < 0 || size < 0 || end > b.capacity()) {
            return Optional.empty();
        }
        long p = off;
        while (p + 12 <= end) {
            long namesz = Integer.toUnsignedLong(b.getInt((int) p));
            long descsz = Integer.toUnsignedLong(b.getInt((int) p + 4));
            int type = b.getInt((int) p + 8);
            long name = p + 12;
            long desc = name + ((namesz + 3) & ~3L);
            long next = desc + ((descsz + 3) & ~3L);
            if (next > end) {
                return Optional.empty();
            }
            if (type == NT_GNU_BUILD_ID && namesz == 4 && b.get((int) name) == 'G' && b.get((int) name + 1) == 'N'
                    && b.get((int) name + 2) == 'U') {
                byte[] id = new byte[(int) descsz];
                b.get((int) desc, id);
                return Optional.of(HexFormat.of().formatHex(id));
            }
            p = next;
        }
        return Optional.empty();
    }
}
