package dev.lbrvmm.vmm.machine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** QEMU's fw_cfg legacy port interface as kvm-unit-tests reads it (fwcfg_get_u16/u64). */
class FwCfgTest {
    private final FwCfg fw = new FwCfg(2, 128L << 20, 128L << 20);

    private long read(int key, int bytes) {
        fw.out(FwCfg.SELECTOR, 2, key);
        long v = 0;
        for (int i = 0; i < bytes; i++) {
            v |= fw.in(FwCfg.DATA, 1) << (8 * i);
        }
        return v;
    }

    @Test
    void signatureCpuCountAndRamLittleEndian() {
        assertThat(read(FwCfg.SIGNATURE, 4)).isEqualTo('Q' | 'E' << 8 | 'M' << 16 | (long) 'U' << 24);
        assertThat(read(FwCfg.ID, 4)).as("traditional interface, no DMA").isEqualTo(1);
        assertThat(read(FwCfg.NB_CPUS, 2)).isEqualTo(2);
        assertThat(read(FwCfg.MAX_RAM, 8)).isEqualTo(128L << 20);
        assertThat(read(FwCfg.FILE_DIR, 4)).as("no files").isZero();
    }

    @Test
    void readsPastAnItemAndUnknownKeysGiveZeros() {
        fw.out(FwCfg.SELECTOR, 2, FwCfg.NB_CPUS);
        fw.in(FwCfg.DATA, 1);
        fw.in(FwCfg.DATA, 1);
        assertThat(fw.in(FwCfg.DATA, 1)).isZero();
        assertThat(read(0x1234, 4)).isZero();
        assertThat(fw.in(FwCfg.SELECTOR, 1)).isEqualTo(0xFF);
    }
}
