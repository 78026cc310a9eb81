package dev.lbrvmm.vmm.report;

import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Call stacks in the "folded" format flame-graph tools read ({@code root;caller;leaf count}).
 * Samples taken in LBR call-stack mode (LBR_SELECT.EN_CALLSTACK, perf's {@code --call-graph lbr})
 * hold the open calls themselves: the stack is their callers, complete while it fits the LBR.
 * Otherwise the stack is reconstructed from each sample's branch records, newest to oldest: the leaf is the function of
 * the sampled address; a return seen going back means we were deeper at that time (one more
 * level to skip), a call at depth zero names the caller of the current frame. Interrupts and
 * IRETs are skipped, as is the PMI's own record (FROM = the interrupted RIP). The window
 * is the LBR depth, so stacks are the innermost frames the records reach: a deep recursion's root
 * lies outside it. Without a program to classify branches, stacks are the leaf only. A stack from
 * a sample that filled every LBR slot starts at {@value #TRUNCATED}: its outer frames may be gone,
 * so it is not a root of its own (flame graphs would draw such stacks as unrelated roots).
 */
public final class FoldedStacks {
    private final ProgramImage program;
    public static final String TRUNCATED = "[truncated]";
    private final Map<String, Long> counts = new TreeMap<>();
    private int depth;
    private long truncated;

    public FoldedStacks(ProgramImage program) {
        this.program = program;
    }

    public void add(Sample s) {
        List<String> frames = stackOf(s);
        if (s.full()) {
            frames.add(0, TRUNCATED);
            truncated++;
        }
        depth = Math.max(depth, s.depth());
        counts.merge(String.join(";", frames), 1L, Long::sum);
    }

    /** The deepest LBR among the samples (0 when no source said). */
    public int lbrDepth() {
        return depth;
    }

    /** Samples whose stack starts at [truncated]. */
    public long truncated() {
        return truncated;
    }

    /** Root first, leaf last. */
    List<String> stackOf(Sample s) {
        List<String> frames = new ArrayList<>();
        frames.add(program.function(s.leafAddress()));
        if (s.callStack()) {
            // call-stack mode: every record is a call still open, innermost first; its FROM is in the caller
            for (LbrSnapshot.Entry e : s.branches()) {
                frames.add(program.function(e.from()));
            }
            Collections.reverse(frames);
            return frames;
        }
        int deeper = 0;
        for (LbrSnapshot.Entry e : s.branches()) {
            if (e.index() == 0 && e.from() == s.ip()) {
                continue; // the PMI itself (recorded where KVM does not freeze, vPMU version 4): FROM is no branch
            }
            switch (program.typeAt(e.from())) {
                case RETURN -> deeper++;
                case CALL -> {
                    if (deeper > 0) {
                        deeper--;
                    } else {
                        frames.add(program.function(e.from()));
                    }
                }
                default -> { }
            }
        }
        Collections.reverse(frames);
        return frames;
    }

    /** Stack -> number of samples, sorted by stack. */
    public Map<String, Long> counts() {
        return Collections.unmodifiableMap(counts);
    }

    /** The folded text: one "stack count" line per distinct stack. */
    public String text() {
        StringBuilder b = new StringBuilder();
        counts.forEach((k, v) -> b.append(k).append(' ').append(v).append('\n'));
        return b.toString();
    }
}
