package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** 32-bit protected-mode code and the switch into long mode, as a Multiboot kernel's entry does it. */
class ProtectedModeTest {
    private final GuestMemory mem = new GuestMemory(4 << 20);
    private final Cpu cpu = new Cpu(0, mem);

    private void put(long at, String hex) {
        byte[] b = HexFormat.of().parseHex(hex.replace(" ", ""));
        mem.load(at, b, 0, b.length);
    }

    @Test
    void thirtyTwoBitCodeUsesFourByteStackSlotsAndIncDecOpcodes() {
        // inc %eax; dec %ecx; push %eax; pop %ebx; call +0; pop %edx; hlt
        put(0x1000, "40 49 50 5b e8 00000000 5a f4");
        cpu.enterProtectedMode32(0x1000, 0x2BADB002L, 0x9000);
        cpu.r[Cpu.RSP] = 0x8000;
        cpu.r[Cpu.RCX] = 0;
        assertThat(cpu.run(100)).isEqualTo(CpuExit.HLT);
        assertThat(cpu.r[Cpu.RAX]).isEqualTo(0x2BADB003L);
        assertThat(cpu.r[Cpu.RCX]).as("dec %ecx wraps in 32 bits").isEqualTo(0xFFFF_FFFFL);
        assertThat(cpu.r[Cpu.RBX]).isEqualTo(0x2BADB003L);
        assertThat(cpu.r[Cpu.RDX]).as("call pushed a 4-byte return address").isEqualTo(0x1009);
        assertThat(cpu.r[Cpu.RSP]).isEqualTo(0x8000);
    }

    @Test
    void pagingWithLmeActivatesLongModeAndAFarJumpEntersSixtyFourBitCode() {
        // GDT: null, 64-bit code (L = 1), flat data; GDTR (32-bit form) at 0x3100.
        mem.write64(0x3008, 0x0020_9A00_0000_0000L);
        mem.write64(0x3010, 0x00CF_9200_0000_FFFFL);
        mem.write16(0x3100, 23);
        mem.write32(0x3102, 0x3000);
        // Identity map of the first 2 MiB: PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000 (2 MiB page).
        mem.write64(0x10000, 0x11000 | 3);
        mem.write64(0x11000, 0x12000 | 3);
        mem.write64(0x12000, 0x83);
        put(0x1000, "0f011500310000"       // lgdtl 0x3100
                + "0f20e0 83c820 0f22e0"    // CR4.PAE
                + "b800000100 0f22d8"       // CR3 = 0x10000
                + "b9800000c0 0f32 0d00010000 0f30" // EFER.LME
                + "0f20c0 0d00000080 0f22c0" // CR0.PG
                + "ea002000000800");         // ljmp $0x08, $0x2000
        put(0x2000, "48b8efcdab8967452301 f4"); // movabs $0x0123456789abcdef, %rax; hlt
        cpu.enterProtectedMode32(0x1000, 0, 0);
        List<String> far = new ArrayList<>();
        cpu.setBranchListener((from, to, kind, cpl) -> far.add(kind + " " + Long.toHexString(to)));
        assertThat(cpu.run(100)).isEqualTo(CpuExit.HLT);
        assertThat(cpu.mode32()).as("CS.L = 1 with EFER.LMA: 64-bit code").isFalse();
        assertThat(cpu.readCoreMsr(Msr.IA32_EFER) & Cpu.EFER_LMA).isNotZero();
        assertThat(cpu.r[Cpu.RAX]).isEqualTo(0x0123_4567_89AB_CDEFL);
        assertThat(cpu.selector(Cpu.CS)).isEqualTo(8);
        assertThat(far).as("the far jump is a far branch for the LBR").containsExactly("FAR 2000");
    }

    @Test
    void aFarJumpToANonCodeSelectorRaisesGp() {
        mem.write64(0x3008, 0x00CF_9200_0000_FFFFL); // data, not code
        mem.write16(0x3100, 15);
        mem.write32(0x3102, 0x3000);
        put(0x1000, "0f011500310000 ea002000000800");
        cpu.enterProtectedMode32(0x1000, 0, 0);
        assertThat(cpu.run(100)).isEqualTo(CpuExit.SHUTDOWN);
        assertThat(cpu.shutdownReason()).contains("#GP").contains("32-bit protected mode is not modelled");
    }
}
