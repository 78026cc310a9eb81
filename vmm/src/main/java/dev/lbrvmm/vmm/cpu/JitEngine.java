package dev.lbrvmm.vmm.cpu;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The translating engine of one vCPU: counts how often each decoded block runs in the interpreter,
 * has the hot ones translated ({@link BlockCompiler}) and installs the translations. Translation
 * runs on one shared background thread while the vCPU keeps interpreting; the vCPU thread itself
 * installs finished translations at the start of its next {@link Cpu#run} (so every block field
 * and counter here is touched by the vCPU thread alone), and drops those made for blocks that a
 * code-cache flush has since thrown away. The interpreter stays the reference: a translated block
 * does exactly what interpreting it does.
 */
final class JitEngine {
    /** A finished translation waiting for its vCPU. */
    private record Done(Block block, CompiledBlock code, int generation, long nanos) {}

    private final JitSettings settings;
    private final ConcurrentLinkedQueue<Done> ready = new ConcurrentLinkedQueue<>();
    /** Bumped by every code-cache flush: translations of older blocks are not installed. */
    private int generation;
    /** Translated blocks in the decode cache, plus translations under way. */
    private int live;
    long instructionsRun;
    private long blocksCompiled, instructionsCompiled, invalidated, evicted, refused, translationNanos;

    JitEngine(JitSettings settings) {
        this.settings = settings;
    }

    /** A block ran in the interpreter: at the threshold it is translated (or queued for it). */
    void interpreted(Block b) {
        if (++b.runs != settings.threshold()) {
            return;
        }
        if (live >= settings.maxBlocks()) {
            refused++;
            return;
        }
        live++;
        if (!settings.background()) {
            long t0 = System.nanoTime();
            install(new Done(b, BlockCompiler.compile(b.insns), generation, System.nanoTime() - t0));
        } else if (!Background.submit(this, b, generation)) {
            live--;
            refused++;
            b.runs = 0; // try again later
        }
    }

    /** Installs the translations finished since the last call (vCPU thread). */
    void installReady() {
        Done d;
        while ((d = ready.poll()) != null) {
            install(d);
        }
    }

    private void install(Done d) {
        if (d.generation != generation) {
            return; // the block went with a flush; live was reset then
        }
        if (d.block.runs == EVICTED) {
            live--; // it left the cache while it was being translated
            return;
        }
        translationNanos += d.nanos;
        if (d.code == null) {
            live--;
            refused++;
            return;
        }
        d.block.compiled = d.code;
        blocksCompiled++;
        instructionsCompiled += d.block.insns.length;
    }

    /** The decode cache is being dropped: its translations go with it. */
    void flushed(Block[] cache) {
        for (Block b : cache) {
            if (b != null && b.compiled != null) {
                invalidated++;
            }
        }
        live = 0;
        generation++;
    }

    /** A block left the decode cache to make room for another. */
    void evicted(Block b) {
        if (b.compiled != null) {
            evicted++;
            live--;
        }
        b.runs = EVICTED; // still reachable through successor links, but never translated (again)
    }

    private static final int EVICTED = Integer.MIN_VALUE;

    JitStats stats() {
        return new JitStats(blocksCompiled, instructionsCompiled, instructionsRun, invalidated, evicted, refused, translationNanos);
    }

    /** The translating thread shared by every vCPU of the process (a daemon: it never holds up exit). */
    private static final class Background {
        private record Job(JitEngine engine, Block block, int generation) {}

        private static final BlockingQueue<Job> QUEUE = new ArrayBlockingQueue<>(4096);

        static {
            Thread t = new Thread(Background::loop, "lbrvmm-jit");
            t.setDaemon(true);
            t.start();
        }

        static boolean submit(JitEngine e, Block b, int generation) {
            return QUEUE.offer(new Job(e, b, generation));
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
                CompiledBlock code;
                try {
                    code = BlockCompiler.compile(j.block.insns);
                } catch (RuntimeException e) {
                    code = null; // the block stays interpreted
                }
                j.engine.ready.add(new Done(j.block, code, j.generation, System.nanoTime() - t0));
            }
        }
    }
}
