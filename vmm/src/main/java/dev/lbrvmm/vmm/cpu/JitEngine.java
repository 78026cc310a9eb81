package dev.lbrvmm.vmm.cpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The translating engine of one vCPU: counts how often each decoded block runs in the interpreter,
 * has a region formed from each hot one (it and the hot code it jumps to) translated
 * ({@link RegionCompiler}) and installs the translations. Translation
 * runs on one shared background thread while the vCPU keeps interpreting; the vCPU thread itself
 * installs finished translations at the start of its next {@link Cpu#run} (so every block field
 * and counter here is touched by the vCPU thread alone), and drops those made for blocks that a
 * code-cache flush has since thrown away. The interpreter stays the reference: a translated block
 * does exactly what interpreting it does.
 */
final class JitEngine {
    /** A finished translation waiting for its vCPU. */
    private record Done(List<Block> region, CompiledRegion code, int generation, long nanos) {}

    private final JitSettings settings;
    private final ConcurrentLinkedQueue<Done> ready = new ConcurrentLinkedQueue<>();
    /** Bumped by every code-cache flush: translations of older blocks are not installed. */
    private int generation;
    /** Translated blocks in the decode cache, plus translations under way. */
    private int live;
    long instructionsRun;
    private long regions, reused, blocks, instructions, invalidated, evicted, refused, translationNanos;
    /** When the engine started on its vCPU, and the warm-up: until the first region was installed (-1: not yet). */
    private final long startNanos = System.nanoTime();
    private long firstRegionNanos = -1, instructionsBeforeFirstRegion;

    JitEngine(JitSettings settings) {
        this.settings = settings;
    }

    /** A block ran in the interpreter: at the threshold a region is formed from it and translated (or queued for it). */
    void interpreted(Cpu c, Block b) {
        if (++b.runs != settings.threshold() || b.inRegion) {
            return; // not hot yet, or it will run as part of a region formed from a block before it
        }
        if (live >= settings.maxRegions()) {
            refused++;
            return;
        }
        live++;
        long t0 = System.nanoTime();
        List<Block> region = region(c, b);
        for (Block m : region) {
            m.inRegion = true;
        }
        TranslationCache.Key key = TranslationCache.key(region);
        CompiledRegion known = TranslationCache.get(key);
        if (known != null) {
            reused++;
            install(c, new Done(region, known, generation, System.nanoTime() - t0));
        } else if (!settings.background()) {
            CompiledRegion code = RegionCompiler.compile(region);
            TranslationCache.put(key, code);
            install(c, new Done(region, code, generation, System.nanoTime() - t0));
        } else if (!Background.submit(this, region, key, generation)) {
            live--;
            refused++;
            b.runs = 0; // try again later
        } else {
            translationNanos += System.nanoTime() - t0;
        }
    }

    /**
     * The region entered at {@code entry}: the blocks reachable from it through direct jumps and
     * fall-throughs that are decoded already and have run (so cold paths stay out), breadth first,
     * within the compiler's bounds. Blocks a region may not continue into end it.
     */
    private static List<Block> region(Cpu c, Block entry) {
        List<Block> out = new ArrayList<>();
        out.add(entry);
        int insns = entry.insns.length;
        if (!RegionCompiler.chainable(entry)) {
            return out;
        }
        for (int k = 0; k < out.size() && out.size() < RegionCompiler.MAX_BLOCKS; k++) {
            Block from = out.get(k);
            if (!RegionCompiler.chainable(from)) {
                continue;
            }
            for (long s : candidates(from)) {
                Block to = c.cachedBlock(s);
                if (to == null || to.runs <= 0 || out.contains(to) || !RegionCompiler.chainable(to)
                        || insns + to.insns.length > RegionCompiler.MAX_INSNS || out.size() >= RegionCompiler.MAX_BLOCKS) {
                    continue;
                }
                out.add(to);
                insns += to.insns.length;
            }
        }
        return out;
    }

    /**
     * Where control may go after {@code b} and a region should follow: its direct successors, the
     * return site of a call (where the callee's return lands, so a recursive function or a caller
     * and its callee stay in one region), and the targets its indirect jump or return went to while
     * interpreted. A region reaches the indirect ones by looking RIP up among its blocks' addresses.
     */
    static long[] candidates(Block b) {
        long[] direct = RegionCompiler.successors(b);
        Insn last = b.insns[b.insns.length - 1];
        if (RegionCompiler.direct(last) && last.op != Op.CALL_REL) {
            return direct;
        }
        long[] out = Arrays.copyOf(direct, direct.length + 3 + Block.MAX_SEEN);
        int n = direct.length;
        if (last.op == Op.CALL_REL || last.op == Op.CALL_RM) {
            out[n++] = last.next;
        }
        if (last.op != Op.CALL_REL) {
            for (Block s : new Block[] {b.succA, b.succB}) {
                if (s != null) {
                    out[n++] = s.rip;
                }
            }
            if (b.seen != null) {
                for (long t : b.seen) {
                    if (t != 0) {
                        out[n++] = t;
                    }
                }
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Control went from {@code prev} to {@code next} and the successor cache missed (vCPU thread): remember the target. */
    static void sawSuccessor(Block prev, Block next) {
        long[] seen = prev.seen;
        if (seen == null) {
            Insn last = prev.insns[prev.insns.length - 1];
            if (RegionCompiler.direct(last)) {
                return; // the region knows its successors from the code
            }
            seen = prev.seen = new long[Block.MAX_SEEN];
        }
        for (int k = 0; k < seen.length; k++) {
            if (seen[k] == next.rip) {
                return;
            }
            if (seen[k] == 0) {
                seen[k] = next.rip;
                return;
            }
        }
    }

    /** Installs the translations finished since the last call (vCPU thread). */
    void installReady(Cpu c) {
        Done d;
        while ((d = ready.poll()) != null) {
            install(c, d);
        }
    }

    private void install(Cpu c, Done d) {
        if (d.generation != generation) {
            return; // the blocks went with a flush; live was reset then
        }
        Block entry = d.region.get(0);
        if (entry.runs == EVICTED) {
            live--; // it left the cache while it was being translated
            return;
        }
        translationNanos += d.nanos;
        if (d.code == null) {
            live--;
            refused++;
            return;
        }
        // every block of the region enters it, unless a region of its own is there already
        for (int j = 0; j < d.region.size(); j++) {
            Block m = d.region.get(j);
            if (j == 0 || m.compiled == null && m.runs != EVICTED) {
                m.compiled = d.code;
                m.compiledEntry = j;
            }
        }
        if (firstRegionNanos < 0) {
            firstRegionNanos = System.nanoTime() - startNanos;
            instructionsBeforeFirstRegion = c.retired();
        }
        regions++;
        blocks += d.region.size();
        for (Block b : d.region) {
            instructions += b.insns.length;
        }
    }

    /** The decode cache is being dropped: its translations go with it. */
    void flushed(Block[] cache) {
        for (Block b : cache) {
            if (b != null && b.compiled != null && b.compiledEntry == 0) {
                invalidated++;
            }
        }
        live = 0;
        generation++;
    }

    /** A block left the decode cache to make room for another. */
    void evicted(Block b) {
        if (b.compiled != null && b.compiledEntry == 0) { // the block a region was formed from: the region goes
            evicted++;
            live--;
        }
        b.runs = EVICTED; // still reachable through successor links, but never translated (again)
    }

    private static final int EVICTED = Integer.MIN_VALUE;

    JitStats stats() {
        return new JitStats(regions, reused, blocks, instructions, instructionsRun, invalidated, evicted, refused, translationNanos,
                firstRegionNanos, instructionsBeforeFirstRegion);
    }

    /** The translating thread shared by every vCPU of the process (a daemon: it never holds up exit). */
    private static final class Background {
        private record Job(JitEngine engine, List<Block> region, TranslationCache.Key key, int generation) {}

        private static final BlockingQueue<Job> QUEUE = new ArrayBlockingQueue<>(4096);

        static {
            Thread t = new Thread(Background::loop, "lbrvmm-jit");
            t.setDaemon(true);
            t.start();
        }

        static boolean submit(JitEngine e, List<Block> region, TranslationCache.Key key, int generation) {
            return QUEUE.offer(new Job(e, region, key, generation));
        }

        private static void loop() {
            while (true) {
                Job j;
                try {
                    j = QUEUE.take();
                } catch (InterruptedException e) {
                    return;
                }
                long t0 = System.nanoTime();
                CompiledRegion code;
                try {
                    code = RegionCompiler.compile(j.region);
                    TranslationCache.put(j.key, code);
                } catch (RuntimeException e) {
                    code = null; // the block stays interpreted
                }
                j.engine.ready.add(new Done(j.region, code, j.generation, System.nanoTime() - t0));
            }
        }
    }
}
