package dev.lbrvmm.vmm.report;

import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import java.util.List;

/**
 * One branch-stack sample: what a PMI handler (or a {@code --dump-lbr} read-out) saw.
 *
 * @param seq      the sample's number in its source (1, 2, ...)
 * @param ip       the interrupted RIP; -1 when the source has none (an LBR dump)
 * @param branches the LBR records, newest first, decoded (from, to, mispredicted, cycles)
 * @param origin   where it came from, for messages ("samples.bin sample 12", "lbr.json vcpu 0")
 * @param lbrSelect the LBR_SELECT the records were taken with (call-stack mode: the records are
 *                  the call chain, innermost call first)
 * @param depth    the LBR's depth (0 when unknown): a sample with that many records may have lost older ones
 */
public record Sample(long seq, long ip, List<LbrSnapshot.Entry> branches, String origin, long lbrSelect, int depth) {

    /** LBR_SELECT.EN_CALLSTACK (bit 9): returns popped the records, so they are the current calls. */
    public static final long EN_CALLSTACK = 1L << 9;

    /** Every LBR slot held a record: older branches (outer frames) may have been overwritten. */
    public boolean full() {
        return depth > 0 && branches.size() >= depth;
    }

    public boolean callStack() {
        return (lbrSelect & EN_CALLSTACK) != 0;
    }

    /** The address the sample is attributed to: the interrupted RIP, else the newest record's target. */
    public long leafAddress() {
        if (ip >= 0) {
            return ip;
        }
        return branches.isEmpty() ? 0 : branches.get(0).to();
    }
}
