/**
 * How the bench commands measure: timed guest runs of a fixed workload, forked measuring JVMs
 * with the project's JVM flags, and the statistics (medians, percentiles, ranges) they report.
 * Speed is only ever checked here, never in a timed unit test.
 *
 * <p>May use: {@code machine} and the layers below it. Used by {@code cli}'s bench commands only.
 */
package dev.lbrvmm.vmm.bench;
