package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The CPU model table and the CPUID leaves built from it. */
class CpuModelTableTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "core2,           6, 0x17,  4, 0x40,  0x60,  0,     1, false",
        "nehalem,         6, 0x1A, 16, 0x680, 0x6C0, 0,     3, false",
        "westmere,        6, 0x2C, 16, 0x680, 0x6C0, 0,     3, false",
        "sandybridge,     6, 0x2A, 16, 0x680, 0x6C0, 0,     3, false",
        "ivybridge,       6, 0x3A, 16, 0x680, 0x6C0, 0,     3, false",
        "haswell,         6, 0x3C, 16, 0x680, 0x6C0, 0,     4, true",
        "broadwell,       6, 0x3D, 16, 0x680, 0x6C0, 0,     4, true",
        "skylake-client,  6, 0x5E, 32, 0x680, 0x6C0, 0xDC0, 5, true",
        "skylake-server,  6, 0x55, 32, 0x680, 0x6C0, 0xDC0, 5, true",
        "icelake-client,  6, 0x7E, 32, 0x680, 0x6C0, 0xDC0, 5, true",
        "icelake-server,  6, 0x6A, 32, 0x680, 0x6C0, 0xDC0, 5, true",
        "goldmont,        6, 0x5C, 32, 0x680, 0x6C0, 0,     6, true",
        "knights-landing, 6, 0x57,  8, 0x680, 0x6C0, 0,     1, false",
    })
    void lbrGeometry(String name, int family, int model, int depth, int from, int to, int info, int fmt, boolean callStack) {
        CpuModel m = CpuModels.byName(name).orElseThrow();
        assertThat(m.family()).isEqualTo(family);
        assertThat(m.model()).isEqualTo(model);
        assertThat(m.lbrDepth()).isEqualTo(depth);
        assertThat(m.fromBase()).isEqualTo(from);
        assertThat(m.toBase()).isEqualTo(to);
        assertThat(m.infoBase()).isEqualTo(info);
        assertThat(m.lbrFormat()).isEqualTo(fmt);
        assertThat(m.hasCallStack()).isEqualTo(callStack);
        assertThat(m.tosBits()).isEqualTo(Integer.numberOfTrailingZeros(depth));
        CpuidTable t = CpuidTable.forModel(m, 3, true, true);
        assertThat(t.displayFamily()).isEqualTo(family);
        assertThat(t.displayModel()).isEqualTo(model);
        assertThat(t.get(1, 0)[1] >>> 24).as("APIC ID").isEqualTo(3);
        assertThat(t.pmuVersion()).isEqualTo(m.pmuVersion());
        assertThat(t.get(0xA, 0)[0] >> 8 & 0xFF).as("GP counters").isEqualTo(m.gpCounters());
        assertThat(t.get(0xA, 0)[3] & 0x1F).as("fixed counters").isEqualTo(m.fixedCounters());
        assertThat(t.pdcm()).isTrue();
    }

    @Test
    void pdcmOnlyWhenRequestedAndThePmuExists() {
        CpuModel skl = CpuModels.byName("skylake-client").orElseThrow();
        assertThat(CpuidTable.forModel(skl, 0, true, false).pdcm()).isFalse();
        CpuidTable noPmu = CpuidTable.forModel(skl, 0, false, false);
        assertThat(noPmu.has(0xA)).isFalse();
        assertThat(noPmu.get(0, 0)[0]).as("max leaf").isEqualTo(7);
        CpuModel generic = CpuModels.byName("qemu64").orElseThrow();
        assertThat(generic.hasPdcm()).isFalse();
        assertThat(generic.hasLbr()).isFalse();
        assertThat(CpuidTable.forModel(generic, 0, true, false).pmuVersion()).isZero();
        assertThat(CpuModels.byName("alderlake").orElseThrow().hasLbr()).as("arch-LBR-only part").isFalse();
    }
}
