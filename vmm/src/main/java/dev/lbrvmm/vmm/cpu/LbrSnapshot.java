package dev.lbrvmm.vmm.cpu;

import java.util.List;

/**
 * A read-out of an LBR stack: entries newest first, only those holding a record.
 *
 * @param format LBR_FMT the model reports
 */
public record LbrSnapshot(String model, int format, int depth, int tos, long debugctl, long lbrSelect, List<Entry> entries) {

    /**
     * One record. {@code mispredicted} is null for formats without a mispredict bit, {@code cycles}
     * null for formats without a cycle count.
     */
    public record Entry(int index, long from, long to, Boolean mispredicted, Integer cycles) {}
}
