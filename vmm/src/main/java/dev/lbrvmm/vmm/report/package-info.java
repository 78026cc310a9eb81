/**
 * Reports of branch-stack samples and LBR dumps: readers with precise errors, the per-branch
 * table, perf-script-like listings, folded stacks and the HTML flame graph.
 *
 * <p>May use: {@code cpu} (decoding call/return at a FROM address), {@code machine}'s ELF loader
 * (symbols) and {@code qmp} (the dump reader). Never the monitor library, Netty or a running machine.
 */
package dev.lbrvmm.vmm.report;
