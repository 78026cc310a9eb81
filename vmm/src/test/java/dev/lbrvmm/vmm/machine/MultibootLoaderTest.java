package dev.lbrvmm.vmm.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lbrvmm.vmm.cpu.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Multiboot v1 loading: header search and checksum, ELF32 and a.out-kludge images, the information block, errors. */
class MultibootLoaderTest {
    private static final Path K = Path.of("k.elf");

    /** An ELF32 i386 file with one PT_LOAD of {@code code} at {@code paddr} (memsz = filesz + bss) and a Multiboot header. */
    static byte[] elf32(long paddr, byte[] code, int bss, int flags, boolean goodChecksum) {
        int hdr = 52, ph = 32, mb = 12;
        ByteBuffer b = ByteBuffer.allocate(hdr + ph + mb + code.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 1, 1, 1, 0});
        b.position(16);
        b.putShort((short) 2).putShort((short) 3).putInt(1).putInt((int) paddr + mb).putInt(hdr).putInt(0).putInt(0)
                .putShort((short) hdr).putShort((short) ph).putShort((short) 1).putShort((short) 40).putShort((short) 0).putShort((short) 0);
        int fileOff = hdr + ph;
        b.putInt(1).putInt(fileOff).putInt((int) paddr).putInt((int) paddr).putInt(mb + code.length).putInt(mb + code.length + bss)
                .putInt(5).putInt(0x1000);
        b.putInt(MultibootLoader.HEADER_MAGIC).putInt(flags).putInt(-(MultibootLoader.HEADER_MAGIC + flags) + (goodChecksum ? 0 : 1));
        b.put(code);
        return b.array();
    }

    private static String cString(GuestMemory m, long a) {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = m.read8(a)) != 0; a++) {
            sb.append((char) c);
        }
        return sb.toString();
    }

    @Test
    void loadsElf32SegmentsZeroesBssAndBuildsTheInformationBlock() throws Exception {
        GuestMemory m = new GuestMemory(16 << 20);
        m.fill(0x400000, (byte) 0x55, 0x2000);
        byte[] f = elf32(0x400000, new byte[] {(byte) 0xF4}, 0x100, 0, true);
        LoadedProgram p = MultibootLoader.load(K, f, "0x1d9 0x1", new MultibootLoader.Module("env", "A=1\n".getBytes(StandardCharsets.UTF_8)), m);
        assertThat(p.multiboot()).isTrue();
        assertThat(p.entry()).isEqualTo(0x40000C);
        assertThat(m.read8(0x40000C)).isEqualTo(0xF4);
        assertThat(m.read8(0x40000D)).as("bss zeroed").isZero();
        long mbi = MultibootLoader.INFO_ADDRESS;
        assertThat(m.read32(mbi)).as("flags: mem, cmdline, mods, mmap").isEqualTo(1 | 4 | 8 | 64);
        assertThat(m.read32(mbi + 4)).isEqualTo(639);
        assertThat(m.read32(mbi + 8)).as("mem_upper KiB above 1 MiB").isEqualTo((16 << 10) - 1024);
        assertThat(cString(m, m.read32(mbi + 16))).isEqualTo("k.elf 0x1d9 0x1");
        assertThat(m.read32(mbi + 20)).isEqualTo(1);
        long mod = m.read32(mbi + 24);
        assertThat(m.read32(mod) % 0x1000).as("module page aligned").isZero();
        assertThat(m.read32(mod + 4) - m.read32(mod)).isEqualTo(4);
        assertThat(cString(m, m.read32(mod))).startsWith("A=1");
        assertThat(cString(m, m.read32(mod + 8))).isEqualTo("env");
        long mmap = m.read32(mbi + 48);
        assertThat(m.read32(mbi + 44)).isEqualTo(48);
        assertThat(m.read64(mmap + 4 + 24)).isEqualTo(0x100000);
        assertThat(m.read64(mmap + 12 + 24)).isEqualTo((16L << 20) - 0x100000);
        assertThat(m.read32(mmap + 20 + 24)).as("RAM").isEqualTo(1);
    }

    @Test
    void aoutKludgeAddressesWin() throws Exception {
        // Header at file offset 0: header_addr 0x200000, load_addr 0x200000, load_end 0 (whole file), bss_end, entry 0x200020.
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        int flags = 1 << 16;
        b.putInt(MultibootLoader.HEADER_MAGIC).putInt(flags).putInt(-(MultibootLoader.HEADER_MAGIC + flags))
                .putInt(0x200000).putInt(0x200000).putInt(0).putInt(0x201000).putInt(0x200020);
        b.put(32, (byte) 0xF4);
        GuestMemory m = new GuestMemory(8 << 20);
        LoadedProgram p = MultibootLoader.load(K, b.array(), "", null, m);
        assertThat(p.entry()).isEqualTo(0x200020);
        assertThat(m.read8(0x200020)).isEqualTo(0xF4);
        assertThat(p.end()).isEqualTo(0x201000);
    }

    @Test
    void badInputsAreClearErrors() {
        GuestMemory m = new GuestMemory(8 << 20);
        assertThatThrownBy(() -> MultibootLoader.load(K, new byte[64], "", null, m)).hasMessageContaining("has no Multiboot header");
        assertThatThrownBy(() -> MultibootLoader.load(K, elf32(0x400000, new byte[1], 0, 0, false), "", null, m))
                .hasMessageContaining("bad checksum");
        assertThatThrownBy(() -> MultibootLoader.load(K, elf32(0x7FF000, new byte[1], 0x10000, 0, true), "", null, m))
                .hasMessageContaining("lies outside guest memory");
        assertThatThrownBy(() -> MultibootLoader.load(K, elf32(0x9400, new byte[1], 0, 0, true), "", null, m))
                .hasMessageContaining("overlaps the Multiboot information block");
    }
}
