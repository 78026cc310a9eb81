package dev.lbrvmm.vmm.machine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class Pic8259Test {
    @Test
    void initialisationIsAcceptedAndTheMaskReadsBack() {
        Pic8259 pic = new Pic8259();
        // The classic remap: ICW1 0x11, ICW2 vector base, ICW3 cascade, ICW4 8086 mode; then OCW1 masks.
        for (int[] chip : new int[][] {{0x20, 0x20, 0x04}, {0xA0, 0x28, 0x02}}) {
            pic.out(chip[0], 1, 0x11);
            pic.out(chip[0] + 1, 1, chip[1]);
            pic.out(chip[0] + 1, 1, chip[2]);
            pic.out(chip[0] + 1, 1, 0x01);
        }
        assertThat(pic.in(0x21, 1)).as("not a mask: ICW4 was consumed").isZero();
        pic.out(0x21, 1, 0xFF);
        pic.out(0xA1, 1, 0xFB);
        assertThat(pic.in(0x21, 1)).isEqualTo(0xFF);
        assertThat(pic.in(0xA1, 1)).isEqualTo(0xFB);
        assertThat(pic.in(0x20, 1)).as("IRR: nothing pending").isZero();
    }
}
