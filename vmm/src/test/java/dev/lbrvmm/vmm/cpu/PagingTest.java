package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** 4-level paging: each page size, the #PF error-code bits and CR2, A/D bits, WP, NX, TLB flushes, canonical checks. */
class PagingTest {
    private static final long PML4 = 0x10000, PDPT = 0x11000, PD = 0x12000, PT = 0x13000;
    private static final long P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, NX = 1L << 63;

    private final GuestMemory mem = new GuestMemory(8 << 20);
    private final Cpu cpu = new Cpu(0, mem);

    /** Long mode with paging on: PML4[0] -> PDPT[0] -> PD[0] -> PT; PD[1] a 2 MiB page; PDPT[1] a 1 GiB page. */
    @BeforeEach
    void longModeWithPaging() {
        cpu.enterProtectedMode32(0x1000, 0, 0);
        mem.write64(PML4, PDPT | P | RW | US);
        mem.write64(PDPT, PD | P | RW | US);
        mem.write64(PD, PT | P | RW | US);
        mem.write64(PT + 8 * 5, 0x5000 | P | RW | US);      // 0x5000 -> 0x5000
        mem.write64(PT + 8 * 6, 0x7000 | P);                // 0x6000 -> 0x7000, read-only, supervisor
        mem.write64(PT + 8 * 8, 0x8000 | P | RW | NX);      // no-execute
        mem.write64(PD + 8, 0x400000 | P | RW | US | PS);   // 0x200000..0x3FFFFF -> 0x400000 (2 MiB)
        mem.write64(PDPT + 8, P | RW | US | PS);            // 0x40000000.. -> 0 (1 GiB)
        cpu.writeCoreMsr(Msr.IA32_EFER, Cpu.EFER_LME | Cpu.EFER_NXE);
        ProtectedMode.writeControlRegister(cpu, 4, Cpu.CR4_PAE);
        ProtectedMode.writeControlRegister(cpu, 3, PML4);
        ProtectedMode.writeControlRegister(cpu, 0, Cpu.CR0_PG | Cpu.CR0_PE | Cpu.CR0_WP);
    }

    private static int errorCode(Runnable r) {
        try {
            r.run();
        } catch (CpuFault f) {
            assertThat(f.vector).isEqualTo(Vector.PF);
            return (int) f.errorCode;
        }
        throw new AssertionError("no #PF");
    }

    @Test
    void longModeIsActiveAndEachPageSizeTranslates() {
        assertThat(cpu.readCoreMsr(Msr.IA32_EFER) & Cpu.EFER_LMA).as("CR0.PG with EFER.LME and CR4.PAE sets LMA").isNotZero();
        mem.write64(0x5010, 0x1111);
        mem.write64(0x7010, 0x2222);
        mem.write64(0x400000 + 0x1234, 0x3333);
        mem.write64(0x12345, 0x4444);
        assertThat(cpu.load(0x5010, 8)).as("4 KiB identity").isEqualTo(0x1111);
        assertThat(cpu.load(0x6010, 8)).as("4 KiB non-identity").isEqualTo(0x2222);
        assertThat(cpu.load(0x201234, 8)).as("2 MiB page").isEqualTo(0x3333);
        assertThat(cpu.load(0x40012345L, 8)).as("1 GiB page").isEqualTo(0x4444);
    }

    @Test
    void accessedAndDirtyBitsAreSet() {
        cpu.load(0x5000, 8);
        assertThat(mem.read64(PT + 8 * 5) & (A | D)).isEqualTo(A);
        cpu.store(0x5000, 8, 1);
        assertThat(mem.read64(PT + 8 * 5) & (A | D)).isEqualTo(A | D);
        assertThat(mem.read64(PML4) & A).isEqualTo(A);
    }

    @Test
    void pageFaultErrorCodes() {
        assertThat(errorCode(() -> cpu.load(0x9000, 8))).as("not present, read").isZero();
        assertThat(errorCode(() -> cpu.store(0x9000, 8, 0))).as("not present, write").isEqualTo(Paging.PF_WRITE);
        assertThat(errorCode(() -> cpu.store(0x6000, 8, 0))).as("read-only with CR0.WP").isEqualTo(Paging.PF_PRESENT | Paging.PF_WRITE);
        assertThat(errorCode(() -> cpu.paging.translate(0x8000, Paging.FETCH))).as("NX with EFER.NXE")
                .isEqualTo(Paging.PF_PRESENT | Paging.PF_FETCH);
        cpu.setSelector(Cpu.CS, 0x1B); // CPL 3
        assertThat(errorCode(() -> cpu.load(0x6000, 8))).as("user read of a supervisor page").isEqualTo(Paging.PF_PRESENT | Paging.PF_USER);
        cpu.setSelector(Cpu.CS, 0x08);
        mem.write64(PT + 8 * 9, 0x9000 | P | (1L << 51)); // a reserved bit... only NX without NXE is checked
        cpu.writeCoreMsr(Msr.IA32_EFER, Cpu.EFER_LME);
        cpu.translationChanged();
        assertThat(errorCode(() -> cpu.load(0x8000, 8))).as("NX set without EFER.NXE: reserved").isEqualTo(Paging.PF_PRESENT | Paging.PF_RSVD);
    }

    @Test
    void supervisorWritesIgnoreReadOnlyWithoutWp() {
        ProtectedMode.writeControlRegister(cpu, 0, Cpu.CR0_PG | Cpu.CR0_PE);
        cpu.store(0x6008, 8, 0xABCD);
        assertThat(mem.read64(0x7008)).isEqualTo(0xABCD);
    }

    @Test
    void theTlbKeepsAStaleTranslationUntilCr3IsWrittenOrInvlpg() {
        mem.write64(0x5000, 1);
        mem.write64(0x7000, 2);
        assertThat(cpu.load(0x5000, 8)).isEqualTo(1);
        mem.write64(PT + 8 * 5, 0x7000 | P | RW);
        assertThat(cpu.load(0x5000, 8)).as("cached").isEqualTo(1);
        ProtectedMode.writeControlRegister(cpu, 3, PML4);
        assertThat(cpu.load(0x5000, 8)).as("CR3 write flushed").isEqualTo(2);
    }

    @Test
    void nonCanonicalAddressesRaiseGp() {
        assertThatThrownBy(() -> cpu.load(0x0000_8000_0000_0000L, 8)).isInstanceOfSatisfying(CpuFault.class,
                f -> assertThat(f.vector).isEqualTo(Vector.GP));
    }

    @Test
    void aPageCrossingStoreFaultsBeforeWritingAnything() {
        mem.write64(0x5FF8, 0);
        int code = errorCode(() -> cpu.store(0x5FFC, 8, -1L)); // the second half lands on the read-only page
        assertThat(code).isEqualTo(Paging.PF_PRESENT | Paging.PF_WRITE);
        assertThat(mem.read64(0x5FF8)).as("nothing written").isZero();
    }

    @Test
    void selfModifyingCodeIsSeenThroughAnotherMappingOfTheSamePage() {
        // Code runs at linear 1 GiB + 0x5000 (the 1 GiB page maps physical 0) and patches the
        // immediate of its next instruction through the identity address of the same byte.
        // 0x5000: movb $0x42, 0x5009      (c6 04 25 09500000 42: the next immediate, by its identity address)
        // 0x5008: mov $0x11, %eax         (b8 11000000, decoded with the block before the store ran)
        // 0x500d: hlt
        byte[] code = java.util.HexFormat.of().parseHex("c6042509500000" + "42" + "b811000000" + "f4");
        mem.load(0x5000, code, 0, code.length);
        cpu.setRip(0x40005000L);
        cpu.setMode32(false);
        assertThat(cpu.run(10)).isEqualTo(CpuExit.HLT);
        assertThat(cpu.r[Cpu.RAX]).as("the patched immediate, not the decoded one").isEqualTo(0x42);
    }
}
