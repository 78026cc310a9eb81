package dev.lbrvmm.vmm.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lbrvmm.vmm.cpu.CpuModels;
import dev.lbrvmm.vmm.cpu.MmioBus;
import dev.lbrvmm.vmm.cpu.Msr;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The xAPIC register page by MMIO, through the interpreter's memory path (a Multiboot guest's view). */
class LocalApicTest {
    private static final long APIC = 0xFEE0_0000L;
    private final List<String> unclaimed = new ArrayList<>();

    private Vcpu vcpu() throws Exception {
        var skl = CpuModels.byName("skylake-client").orElseThrow();
        Vm vm = new Kvm(skl).createVm(1 << 20);
        vm.createVcpu(skl);
        Vcpu v = vm.createVcpu(skl);
        v.attachLocalApic(new MmioBus() {
            @Override
            public long read(long physical, int size) {
                unclaimed.add("read " + Long.toHexString(physical));
                return -1;
            }

            @Override
            public void write(long physical, int size, long value) {
                unclaimed.add("write " + Long.toHexString(physical));
            }
        });
        v.cpu().enterProtectedMode32(0, 0, 0); // architectural control: MMIO outside RAM
        return v;
    }

    @Test
    void registersReadAndWriteAsTheSdmSays() throws Exception {
        Vcpu v = vcpu();
        var c = v.cpu();
        assertThat(c.load(APIC + 0x20, 4)).as("ID of vCPU 1").isEqualTo(1L << 24);
        assertThat(c.load(APIC + 0x30, 4) & 0xFF).as("version").isEqualTo(0x14);
        assertThat(c.load(APIC + 0xF0, 4)).as("SPIV after reset").isEqualTo(0xFF);
        c.store(APIC + 0xF0, 4, 0x1FF);
        assertThat(c.load(APIC + 0xF0, 4)).isEqualTo(0x1FF);
        c.store(APIC + 0x310, 4, 0x0100_0000L);
        c.store(APIC + 0x300, 4, 0xC4500); // INIT to all but self
        assertThat(c.load(APIC + 0x300, 4) & (1 << 12)).as("delivery status idle: IPIs to absent CPUs are dropped").isZero();
        assertThat(c.load(APIC + 0x340, 4)).as("LVT performance counter: the vPMU's, masked").isEqualTo(v.pmu().lvtPmi());
        c.store(APIC + 0x340, 4, 0xFE);
        assertThat(v.pmu().lvtPmi()).isEqualTo(0xFE);
        assertThat(unclaimed).isEmpty();
    }

    @Test
    void otherAddressesAndX2apicModeGoToTheUnclaimedBus() throws Exception {
        Vcpu v = vcpu();
        var c = v.cpu();
        assertThat(c.load(0xFEC0_0000L, 4)).as("no I/O APIC: all ones").isEqualTo(0xFFFF_FFFFL);
        c.writeCoreMsr(Msr.IA32_APIC_BASE, APIC | (1 << 11) | (1 << 10)); // x2APIC: no MMIO page
        c.load(APIC + 0x20, 4);
        assertThat(unclaimed).containsExactly("read fec00000", "read fee00020");
    }

    @Test
    void x2apicMsrsFollowTheSdmReadWriteRules() throws Exception {
        Vcpu v = vcpu();
        v.setMsr(Msr.IA32_APIC_BASE, APIC | (1 << 11) | (1 << 10));
        assertThat(v.msrs().read(0x802)).as("x2APIC ID").isEqualTo(1);
        assertThat(v.msrs().read(0x80D)).as("LDR: cluster 0, bit 1").isEqualTo(2);
        assertThat(v.msrs().read(0x803) & 0xFF).isEqualTo(0x14);
        v.msrs().write(0x80F, 0x1FF);
        assertThat(v.msrs().read(0x80F)).isEqualTo(0x1FF);
        v.msrs().write(0x830, (3L << 32) | 0x4500);
        assertThat(v.msrs().read(0x830)).as("ICR is one 64-bit register").isEqualTo((3L << 32) | 0x4500);
        v.msrs().write(0x80B, 0);
        for (int[] gp : new int[][] {{0x80B, 0}, {0x83F, 0}, {0x80E, 0}, {0x831, 0}, {0x801, 0}}) { // write-only or absent: reads #GP
            assertThatThrownBy(() -> v.msrs().read(gp[0])).as("read 0x%x", gp[0]).isInstanceOf(dev.lbrvmm.vmm.cpu.CpuFault.class);
        }
        for (int ro : new int[] {0x802, 0x803, 0x80A, 0x80D, 0x810, 0x839}) { // read-only: writes #GP
            assertThatThrownBy(() -> v.msrs().write(ro, 0)).as("write 0x%x", ro).isInstanceOf(dev.lbrvmm.vmm.cpu.CpuFault.class);
        }
        assertThatThrownBy(() -> v.msrs().write(0x80B, 1)).as("EOI takes 0 only").isInstanceOf(dev.lbrvmm.vmm.cpu.CpuFault.class);
        v.msrs().write(0x834, 0xF0);
        assertThat(v.pmu().lvtPmi()).as("LVT PMI is the vPMU's").isEqualTo(0xF0);
    }
}
