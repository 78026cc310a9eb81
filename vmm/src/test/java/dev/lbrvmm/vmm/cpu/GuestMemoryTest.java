package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/** RAM in 64 MiB arrays, allocated when written, with the PC's hole at [3 GiB, 4 GiB): accesses across arrays, the hole, code marks. */
class GuestMemoryTest {
    @Test
    void smallMemoryIsOneRangeFromZero() {
        GuestMemory m = new GuestMemory(64 << 20);
        assertThat(m.inBounds((64 << 20) - 8, 8)).isTrue();
        assertThat(m.inBounds((64 << 20) - 7, 8)).isFalse();
        assertThat(m.inBounds(-1, 1)).isFalse();
        assertThat(m.end()).isEqualTo(m.lowEnd()).isEqualTo(64 << 20);
        m.markCode(0x1000, 4);
        int epoch = m.codeEpoch();
        m.write8(0x2000, 1);
        assertThat(m.codeEpoch()).as("a store elsewhere").isEqualTo(epoch);
        m.write64(0xFFC, 0); // straddles the page of the code
        assertThat(m.codeEpoch()).as("a store into code").isEqualTo(epoch + 1);
    }

    @Test
    void beyondThreeGibTheRestLiesAboveFourGibAndAccessesCrossArrays() {
        long size = (3L << 30) + (4 << 20);
        assumeTrue(Runtime.getRuntime().maxMemory() > (1L << 30), "not enough heap for the arrays this test touches");
        GuestMemory m = new GuestMemory(size); // only the arrays written below are allocated
        assertThat(m.read64((2L << 30) + 8)).as("never written: zeros").isZero();
        assertThat(m.lowEnd()).isEqualTo(3L << 30);
        assertThat(m.end()).isEqualTo((4L << 30) + (4 << 20));
        assertThat(m.inBounds(0xFEE0_0000L, 4)).as("the local APIC's page is in the hole").isFalse();
        assertThat(m.inBounds((4L << 30) + 16, 8)).isTrue();
        long across = (1L << 30) - 3;
        m.write64(across, 0x1122_3344_5566_7788L);
        assertThat(m.read64(across)).isEqualTo(0x1122_3344_5566_7788L);
        assertThat(m.read8(1L << 30)).isEqualTo(0x55);
        long high = (4L << 30) + 0x123;
        m.write32(high, 0xCAFEBABEL);
        assertThat(m.read32(high)).isEqualTo(0xCAFEBABEL);
        byte[] b = {1, 2, 3, 4};
        m.load((2L << 30) - 2, b, 0, 4);
        assertThat(m.read32((2L << 30) - 2)).isEqualTo(0x0403_0201L);
        m.markCode(high, 2);
        int epoch = m.codeEpoch();
        m.write8(high + 1, 0);
        assertThat(m.codeEpoch()).isEqualTo(epoch + 1);
    }
}
